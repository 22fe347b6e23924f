/// Segmentation masks in a generic CSV label file: paths in columns, relative to the root.
public enum CSVMasks: Sendable, Hashable, Codable {
    /// One binary mask file per class (any non-zero pixel belongs to it); classes may overlap.
    /// Each entry names the column and the class; a blank cell is an empty mask.
    case perClass([CSVMaskColumn])
    /// One label map per image in `column`: with `.values`, pixel value k (1-based) is
    /// `classes[k − 1]` and 0 or any other value background (exclusive classes); with `.bits`,
    /// bit k − 1 set means `classes[k − 1]` (classes may overlap). A blank cell is an image
    /// without any class.
    case labelMap(column: String, classes: [String], encoding: LabelMapEncoding)

    /// The class names in plane order.
    public var classes: [String] {
        switch self {
        case .perClass(let columns): columns.map(\.name)
        case .labelMap(_, let classes, _): classes
        }
    }
}

/// One per-class mask column.
public struct CSVMaskColumn: Sendable, Hashable, Codable {
    /// The column holding the mask files' paths.
    public var column: String
    /// The class's name (default: the column's).
    public var name: String

    /// Creates a mask column.
    public init(column: String, name: String? = nil) {
        self.column = column
        self.name = name ?? column
    }
}

/// How a label map's pixel values name classes.
public enum LabelMapEncoding: String, Sendable, Hashable, Codable, CaseIterable {
    /// Value k is the k-th class (exclusive classes).
    case values
    /// Bit k − 1 is the k-th class (classes that may overlap).
    case bits
}

/// Reads the mask cells of a CSV table.
struct CSVMaskReader {
    let schema: SegmentationSchema
    private let columns: [Int]
    private let masks: CSVMasks

    /// Finds the columns.
    /// - Throws: `DatasetError.missingColumn` for a column not in the header,
    ///   `.invalidOption` for no class, a class named twice, or more than 16 classes in a
    ///   map of bits.
    init(_ masks: CSVMasks, table: CSVTable) throws(DatasetError) {
        let classes = masks.classes
        guard !classes.isEmpty else {
            throw .invalidOption(name: "mask_classes", value: "[]", reason: "a segmentation dataset needs at least one class")
        }
        for (index, name) in classes.enumerated() where name.isEmpty || classes[..<index].contains(name) {
            throw .invalidOption(name: "mask_classes", value: name, reason: name.isEmpty ? "class names cannot be blank" : "the class is named twice; name each class once")
        }
        switch masks {
        case .perClass(let entries):
            columns = try entries.map { (entry: CSVMaskColumn) throws(DatasetError) in try table.column(named: entry.column) }
            schema = SegmentationSchema(classes: classes, exclusive: false)
        case .labelMap(let column, _, let encoding):
            if encoding == .bits && classes.count > 16 {
                throw .invalidOption(name: "mask_classes", value: String(classes.count), reason: "a map of bits holds at most 16 classes (16-bit PNG)")
            }
            columns = [try table.column(named: column)]
            schema = SegmentationSchema(classes: classes, exclusive: encoding == .values)
        }
        self.masks = masks
    }

    /// The masks of a row, by class.
    func masks(row: Int, in table: CSVTable) -> [String: MaskSource] {
        var result: [String: MaskSource] = [:]
        switch masks {
        case .perClass(let entries):
            for (entry, column) in zip(entries, columns) {
                let cell = table.string(row: row, column: column)
                result[entry.name] = cell.isEmpty ? .empty : .file(path: cell, pixels: .nonZero)
            }
        case .labelMap(_, let classes, let encoding):
            let cell = table.string(row: row, column: columns[0])
            for (index, name) in classes.enumerated() {
                result[name] = cell.isEmpty ? .empty : .file(path: cell, pixels: encoding == .values ? .value(index + 1) : .bit(index))
            }
        }
        return result
    }
}
