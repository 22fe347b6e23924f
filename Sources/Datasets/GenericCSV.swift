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
/// Only `imageColumn` is required. Sample ids are the image paths (or `idColumn`); without a
/// `patientColumn` every image is its own patient (say so in your spec: splits can then not
/// keep a patient's images together); without a `studyColumn` the study is the patient.
/// Attribute columns are copied as text, except `sex` (female/male, also F/M, any case;
/// anything else, e.g. Unknown, leaves it out) and `age` (whole years above 0; 0 or blank
/// leaves it out), so fairness subgroups work as for CheXpert. The split column's values
/// `train`/`training`, `val`/`valid`/`validation`, `test` (any case) set `officialSplit`.
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
    /// Official split column, if any.
    public var splitColumn: String?
    /// The manifest's dataset name.
    public var datasetName: String

    /// Creates options.
    public init(file: String, imageColumn: String, idColumn: String? = nil, patientColumn: String? = nil,
                studyColumn: String? = nil, labels: [CSVLabelColumn], attributeColumns: [String: String] = [:],
                splitColumn: String? = nil, datasetName: String = "csv") {
        self.file = file
        self.imageColumn = imageColumn
        self.idColumn = idColumn
        self.patientColumn = patientColumn
        self.studyColumn = studyColumn
        self.labels = labels
        self.attributeColumns = attributeColumns
        self.splitColumn = splitColumn
        self.datasetName = datasetName
    }
}

/// Reads a CSV label file into a manifest (see `CSVManifestOptions`).
///
/// - Throws: `DatasetError` naming the file, line and column of the first problem: a missing
///   file or column, a bad binary cell, a class not in the given list, a bad split or age
///   value, a duplicate id.
public func loadCSVManifest(root: URL, options: CSVManifestOptions) throws(DatasetError) -> Manifest {
    let url = resolve(options.file, against: root)
    let table = try CSVTable.read(contentsOf: url, hint: "Check the csv dataset's file option (relative to the root \(root.path)).")
    let imageColumn = try table.column(named: options.imageColumn)
    let idColumn = try options.idColumn.map { (name: String) throws(DatasetError) in try table.column(named: name) }
    let patientColumn = try options.patientColumn.map { (name: String) throws(DatasetError) in try table.column(named: name) }
    let studyColumn = try options.studyColumn.map { (name: String) throws(DatasetError) in try table.column(named: name) }
    let splitColumn = try options.splitColumn.map { (name: String) throws(DatasetError) in try table.column(named: name) }
    var attributeColumns: [(name: String, column: Int)] = []
    for (name, column) in options.attributeColumns.sorted(by: { $0.key < $1.key }) {
        attributeColumns.append((name, try table.column(named: column)))
    }
    var definitions: [LabelDefinition] = []
    var labelColumns: [Int] = []
    for label in options.labels {
        let column = try table.column(named: label.column)
        labelColumns.append(column)
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

    var samples: [Sample] = []
    samples.reserveCapacity(table.rowCount)
    for row in 0..<table.rowCount {
        func bad(_ column: Int, _ expected: String) -> DatasetError {
            .badValue(file: table.file, line: table.line(ofRow: row), column: table.header[column],
                      value: table.string(row: row, column: column), expected: expected)
        }
        let imagePath = table.string(row: row, column: imageColumn)
        guard !imagePath.isEmpty else { throw bad(imageColumn, "an image path") }
        let id = idColumn.map { table.string(row: row, column: $0) } ?? imagePath
        let patient = patientColumn.map { table.string(row: row, column: $0) } ?? imagePath
        let study = studyColumn.map { table.string(row: row, column: $0) } ?? patient
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
        var attributes = [String: String](minimumCapacity: attributeColumns.count)
        for (name, column) in attributeColumns {
            let cell = table.string(row: row, column: column)
            switch name {
            case AttributeName.sex:
                switch cell.lowercased() {
                case "female", "f": attributes[name] = Sex.female.rawValue
                case "male", "m": attributes[name] = Sex.male.rawValue
                default: break
                }
            case AttributeName.age:
                if cell.isEmpty { continue }
                guard let age = Double(cell), age >= 0, age <= 130 else { throw bad(column, "an age in years from 0 to 130, or blank") }
                if Int(age) > 0 { attributes[name] = String(Int(age)) }
            default:
                if !cell.isEmpty { attributes[name] = cell }
            }
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
                              labels: labels, attributes: attributes, officialSplit: split))
    }
    guard !samples.isEmpty else { throw .empty(file: table.file, reason: "the file has a header but no rows") }
    return try Manifest(dataset: options.datasetName, root: root, schema: LabelSchema(definitions), samples: samples, source: table.file)
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
