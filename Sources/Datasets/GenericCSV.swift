import Foundation

/// One label column of a generic CSV manifest.
public struct CSVLabelColumn: Sendable, Hashable, Codable {
    /// The column in the file.
    public var column: String
    /// The label's name in the manifest (default: the column name).
    public var name: String
    /// Binary or multi-class; nil infers it from the cells: binary when every non-blank cell
    /// reads as a binary value (see `binary(_:name:)`), multi-class otherwise.
    public var kind: LabelKind?
    /// For multi-class labels, the class names in order; nil takes the distinct non-blank
    /// values of the column, sorted.
    public var classes: [String]?

    /// A binary label: cells `1`/`1.0`/`true`/`yes`/`positive` are positive,
    /// `0`/`0.0`/`false`/`no`/`negative` negative, `-1`/`-1.0`/`uncertain` uncertain,
    /// blank missing (case-insensitive); anything else is an error.
    public static func binary(_ column: String, name: String? = nil) -> CSVLabelColumn {
        CSVLabelColumn(column: column, name: name ?? column, kind: .binary, classes: nil)
    }

    /// A label whose kind is inferred from its cells (for specs that list only column names).
    public static func inferred(_ column: String, name: String? = nil) -> CSVLabelColumn {
        CSVLabelColumn(column: column, name: name ?? column, kind: nil, classes: nil)
    }

    /// A multi-class label whose cells are class names; blank is missing.
    public static func multiClass(_ column: String, name: String? = nil, classes: [String]? = nil) -> CSVLabelColumn {
        CSVLabelColumn(column: column, name: name ?? column, kind: .multiClass, classes: classes)
    }
}

/// How to read an arbitrary CSV label file as a manifest (the `csv` adapter).
///
/// Only `imageColumn` is required. Sample ids are the image paths, or the `idColumn` cells
/// (non-blank and unique); without a `patientColumn` every image is its own patient (say so
/// in your spec: splits can then not keep a patient's images together); without a
/// `studyColumn` the study is the patient. A blank id, patient or study cell is an error.
///
/// Attributes are read from columns by name (`attributeColumns`: attribute name → column, so
/// `["sex": "gender"]` reads the column `gender` as the attribute `sex`). An attribute may have
/// a value map (`valueMaps`, see `CSVValueMap`) that turns its cells into values first. Then
/// the shared attributes are normalised so fairness subgroups work as for CheXpert: `sex`
/// becomes `female`/`male` (also F/M, any case; without a map anything else, e.g. Unknown,
/// leaves it out; with a map anything else is an error), `age` whole years above 0 (0 or
/// blank leaves it out), `view` lower case when it is `frontal`/`lateral` in any case. Other
/// attributes are copied as text. The split column's values `train`/`training`,
/// `val`/`valid`/`validation`, `test` (any case) set `officialSplit`. Segmentation masks are
/// read from path columns (`masks`, see `CSVMasks`).
public struct CSVManifestOptions: Sendable, Hashable, Codable {
    /// The label file, relative to the root (or absolute).
    public var file: String
    /// Image paths, relative to the root.
    public var imageColumn: String
    /// Unique sample ids; nil uses the image path.
    public var idColumn: String?
    /// Patient ids; nil makes every image its own patient.
    public var patientColumn: String?
    /// Study ids; nil uses the patient.
    public var studyColumn: String?
    /// Label columns.
    public var labels: [CSVLabelColumn]
    /// Attribute name → column.
    public var attributeColumns: [String: String]
    /// Attribute name → how its cells become values (attributes without one copy their cells).
    public var valueMaps: [String: CSVValueMap]
    /// Official split column, if any.
    public var splitColumn: String?
    /// The manifest's dataset name.
    public var datasetName: String
    /// Segmentation mask columns, if the file has them (`CSVMasks`).
    public var masks: CSVMasks?
    /// The label file's encoding (default UTF-8; other encodings are converted).
    public var encoding: TextEncoding = .utf8
    /// Where images may be (default: inside the root).
    public var imagePolicy: ImagePathPolicy = .insideRoot

    /// Creates options.
    public init(file: String, imageColumn: String, idColumn: String? = nil, patientColumn: String? = nil,
                studyColumn: String? = nil, labels: [CSVLabelColumn], attributeColumns: [String: String] = [:],
                valueMaps: [String: CSVValueMap] = [:], splitColumn: String? = nil, datasetName: String = "csv",
                masks: CSVMasks? = nil) {
        self.file = file
        self.imageColumn = imageColumn
        self.idColumn = idColumn
        self.patientColumn = patientColumn
        self.studyColumn = studyColumn
        self.labels = labels
        self.attributeColumns = attributeColumns
        self.valueMaps = valueMaps
        self.splitColumn = splitColumn
        self.datasetName = datasetName
        self.masks = masks
    }

    /// The attribute columns a spec names in its two ways: a plain list of columns, each read
    /// as the attribute of its lower-cased name (`Sex` → `sex`), and renames, attribute name →
    /// column (`sex: gender`), whose names are kept as written.
    ///
    /// - Throws: `DatasetError.invalidOption` when two entries give the same attribute (a
    ///   plain `Sex` and a rename `sex: gender`, or plain `Sex` and `sex`).
    public static func attributeColumns(plain columns: [String], renamed: [String: String]) throws(DatasetError) -> [String: String] {
        var result: [String: String] = [:]
        for column in columns {
            let name = column.lowercased()
            if let other = result[name] {
                throw .invalidOption(name: "attribute_columns", value: column,
                                     reason: "the columns \"\(other)\" and \"\(column)\" would both be the attribute \(name)")
            }
            result[name] = column
        }
        for (name, column) in renamed.sorted(by: { $0.key < $1.key }) {
            if let other = result[name] {
                throw .invalidOption(name: "attributes.\(name)", value: column,
                                     reason: "attribute_columns already reads \(name) from the column \"\(other)\"; name it once")
            }
            result[name] = column
        }
        return result
    }
}

/// Reads a CSV label file into a manifest (see `CSVManifestOptions`).
///
/// - Throws: `DatasetError` naming the file, line and column of the first problem: a missing
///   file or column (with the header's columns and a did-you-mean), a bad binary cell, a class
///   not in the given list, a bad split or age value, a cell a value map does not list, a
///   blank or duplicate id, a blank patient or study, bytes that are not in the declared
///   encoding, an image path that leads out of the root; `.invalidOption` for a value map of an
///   attribute that is not read, or one whose outputs `sex`/`age` cannot take; see
///   `Manifest.init` for the consistency checks.
public func loadCSVManifest(root: URL, options: CSVManifestOptions) throws(DatasetError) -> Manifest {
    for name in options.valueMaps.keys.sorted() where options.attributeColumns[name] == nil {
        throw .invalidOption(name: "values.\(name)", value: "(a value map)",
                             reason: "no attribute \(name) is read (attributes: \(options.attributeColumns.keys.sorted().joined(separator: ", ")));"
                                 + " add it to the attributes, or remove its map")
    }
    for (name, map) in options.valueMaps.sorted(by: { $0.key < $1.key }) { try CSVAttributeReader.validate(map, of: name) }
    let url = resolve(options.file, against: root)
    let table = try CSVTable.read(contentsOf: url, hint: "Check the csv dataset's file option (relative to the root \(root.path)).",
                                  encoding: options.encoding)
    let imageColumn = try table.column(named: options.imageColumn)
    let idColumn = try options.idColumn.map { (name: String) throws(DatasetError) in try table.column(named: name) }
    let patientColumn = try options.patientColumn.map { (name: String) throws(DatasetError) in try table.column(named: name) }
    let studyColumn = try options.studyColumn.map { (name: String) throws(DatasetError) in try table.column(named: name) }
    let splitColumn = try options.splitColumn.map { (name: String) throws(DatasetError) in try table.column(named: name) }
    var attributes: [CSVAttributeReader] = []
    for (name, column) in options.attributeColumns.sorted(by: { $0.key < $1.key }) {
        attributes.append(CSVAttributeReader(name: name, column: try table.column(named: column), map: options.valueMaps[name]))
    }
    let definitions = try labelDefinitions(options.labels, in: table)
    let labelColumns = try options.labels.map { (label: CSVLabelColumn) throws(DatasetError) in try table.column(named: label.column) }
    let maskReader = try options.masks.map { (masks: CSVMasks) throws(DatasetError) in try CSVMaskReader(masks, table: table) }

    var samples: [Sample] = []
    samples.reserveCapacity(table.rowCount)
    var lineOfID: [String: Int] = [:]
    for row in 0..<table.rowCount {
        func bad(_ column: Int, _ expected: String) -> DatasetError {
            .badValue(file: table.file, line: table.line(ofRow: row), column: table.header[column],
                      value: table.string(row: row, column: column), expected: expected)
        }
        func nonBlank(_ column: Int, _ what: String) throws(DatasetError) -> String {
            let cell = table.string(row: row, column: column)
            guard !cell.isEmpty else { throw bad(column, what) }
            return cell
        }
        let imagePath = try nonBlank(imageColumn, "an image path")
        let id = try idColumn.map { (column: Int) throws(DatasetError) in try nonBlank(column, "a sample id") } ?? imagePath
        if let earlier = lineOfID.updateValue(table.line(ofRow: row), forKey: id) {
            throw bad(idColumn ?? imageColumn, "a unique \(idColumn == nil ? "image path (the sample id)" : "sample id"); line \(earlier) has the same")
        }
        let patient = try patientColumn.map { (column: Int) throws(DatasetError) in try nonBlank(column, "a patient id") } ?? imagePath
        let study = try studyColumn.map { (column: Int) throws(DatasetError) in try nonBlank(column, "a study id") } ?? patient
        var labels = [String: LabelValue](minimumCapacity: definitions.count)
        for (definition, column) in zip(definitions, labelColumns) {
            let cell = table.string(row: row, column: column)
            switch definition.kind {
            case .binary:
                guard let value = binaryValue(cell) else {
                    throw bad(column, "1/0/-1 (also 1.0, true/false, yes/no, positive/negative, uncertain) or blank")
                }
                labels[definition.name] = value
            case .multiClass:
                if cell.isEmpty { continue }
                guard definition.classes.contains(cell) else {
                    throw bad(column, "one of the classes " + definition.classes.joined(separator: ", "))
                }
                labels[definition.name] = .category(cell)
            }
        }
        var values = [String: String](minimumCapacity: attributes.count)
        for attribute in attributes {
            let cell = table.string(row: row, column: attribute.column)
            values[attribute.name] = try attribute.value(of: cell) { bad(attribute.column, $0) }
        }
        var split: OfficialSplit?
        if let splitColumn {
            switch table.string(row: row, column: splitColumn).lowercased() {
            case "train", "training": split = .train
            case "val", "valid", "validation": split = .validation
            case "test": split = .test
            case "": split = nil
            default: throw bad(splitColumn, "train, validation (val, valid), test or blank")
            }
        }
        samples.append(Sample(id: id, patientID: patient, studyID: study, imagePath: imagePath,
                              labels: labels, attributes: values, officialSplit: split,
                              masks: maskReader?.masks(row: row, in: table)))
    }
    guard !samples.isEmpty else { throw .empty(file: table.file, reason: "the file has a header but no rows") }
    return try Manifest(dataset: options.datasetName, root: root, schema: LabelSchema(definitions), samples: samples,
                        segmentation: maskReader?.schema, source: table.file,
                        origins: (0..<table.rowCount).map { SourceLine(file: table.file, line: table.line(ofRow: $0)) },
                        imagePolicy: options.imagePolicy)
}

/// The label definitions of the label columns, with kinds and classes inferred from the cells
/// where the options leave them open.
private func labelDefinitions(_ labels: [CSVLabelColumn], in table: CSVTable) throws(DatasetError) -> [LabelDefinition] {
    var definitions: [LabelDefinition] = []
    for label in labels {
        if definitions.contains(where: { $0.name == label.name }) {
            throw .invalidOption(name: "label_columns", value: label.name, reason: "the label is named twice; name each label once")
        }
        let column = try table.column(named: label.column)
        let kind = label.kind ?? ((0..<table.rowCount).allSatisfy { binaryValue(table.string(row: $0, column: column)) != nil }
            ? .binary : .multiClass)
        switch kind {
        case .binary:
            definitions.append(.binary(label.name))
        case .multiClass:
            let classes = label.classes ?? Set((0..<table.rowCount).map { table.string(row: $0, column: column) })
                .filter { !$0.isEmpty }.sorted()
            guard !classes.isEmpty else { throw .empty(file: table.file, reason: "label column \"\(label.column)\" is blank in every row") }
            definitions.append(.multiClass(label.name, classes: classes))
        }
    }
    return definitions
}

/// A binary cell's value, or nil when it is not one.
func binaryValue(_ cell: String) -> LabelValue? {
    switch cell.lowercased() {
    case "1", "1.0", "true", "yes", "positive": .positive
    case "0", "0.0", "false", "no", "negative": .negative
    case "-1", "-1.0", "uncertain": .uncertain
    case "": .missing
    default: nil
    }
}
