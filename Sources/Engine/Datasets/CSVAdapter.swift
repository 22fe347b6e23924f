import Datasets
import Foundation
import Pipeline

/// `csv`: any CSV label file, one row per image; columns named by the options (docs/DATASETS.md).
///
/// Attributes come from `attribute_columns` (each column becomes the attribute of its lower-case
/// name) and `attributes` (attribute name → column, e.g. `{sex: gender, age: age_years}`), so
/// the built-in `male`/`female`/age subgroups work whatever the columns are called; `values`
/// maps an attribute's cells (`sex: {F: female, M: male}`, see docs/DATASETS.md). Segmentation
/// masks come from `mask_columns` (one binary mask file per class) or `label_map_column` with
/// `mask_classes` (one label map per image), paths relative to the root.
public struct CSVAdapter: DatasetAdapter {
    public var name: String { "csv" }
    public var summary: String { "any CSV label file: image, id, patient, study, split, label and attribute columns by name" }
    public var options: [SchemaField] {
        [
            SchemaField("manifest", .path(.file), required: true),
            SchemaField("root", .path(.dataRoot)),
            SchemaField("image_column", .string()),
            SchemaField("id_column", .string()),
            SchemaField("patient_column", .string()),
            SchemaField("study_column", .string()),
            SchemaField("split_column", .string()),
            SchemaField("label_columns", .list(.string(), minimumCount: 1)),
            SchemaField("attribute_columns", .list(.string())),
            SchemaField("attributes", .dictionary(.string(), defines: nil)),
            SchemaField("values", .dictionary(.dictionary(.nullable(.string()), defines: nil), defines: nil)),
            SchemaField("mask_columns", .list(.string(), minimumCount: 1)),
            SchemaField("label_map_column", .string()),
            SchemaField("mask_classes", .list(.string(), minimumCount: 1)),
            SchemaField("label_map_encoding", .string(choices: LabelMapEncoding.allCases.map(\.rawValue))),
            SchemaField("encoding", .string(choices: TextEncoding.allCases.map(\.rawValue))),
        ] + ImagePathOptions.fields
    }

    private static func encoding(_ options: [String: ParameterValue]) -> TextEncoding {
        options["encoding"]?.stringValue.flatMap(TextEncoding.init(rawValue:)) ?? .utf8
    }

    /// Creates the adapter.
    public init() {}

    /// Every named column must be in the file's header (read now, before any work).
    public func check(_ options: [String: ParameterValue]) -> [SpecProblem] {
        guard let path = options["manifest"]?.stringValue else { return [] }
        let header: [String]
        do {
            header = try Self.header(of: URL(fileURLWithPath: path), encoding: Self.encoding(options))
        } catch {
            return [SpecProblem(at: "manifest", "\(error)")]
        }
        var problems: [SpecProblem] = []
        func require(_ column: String, at path: String) {
            guard !header.contains(column) else { return }
            let suggestion = closestMatch(to: column, among: header).map { "; did you mean \"\($0)\"?" } ?? ""
            problems.append(SpecProblem(at: path, "the file has no column \"\(column)\" (it has \(header.joined(separator: ", ")))\(suggestion)"))
        }
        require(options["image_column"]?.stringValue ?? "path", at: "image_column")
        for option in ["id_column", "patient_column", "study_column", "split_column"] {
            if let column = options[option]?.stringValue { require(column, at: option) }
        }
        for (index, column) in (options["label_columns"]?.listValue ?? []).compactMap(\.stringValue).enumerated() {
            require(column, at: "label_columns[\(index)]")
        }
        for (index, column) in (options["attribute_columns"]?.listValue ?? []).compactMap(\.stringValue).enumerated() {
            require(column, at: "attribute_columns[\(index)]")
        }
        for (attribute, column) in (options["attributes"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            if let column = column.stringValue { require(column, at: "attributes.\(attribute)") }
        }
        for (index, column) in (options["mask_columns"]?.listValue ?? []).compactMap(\.stringValue).enumerated() {
            require(column, at: "mask_columns[\(index)]")
        }
        if let column = options["label_map_column"]?.stringValue { require(column, at: "label_map_column") }
        problems += Self.maskProblems(options)
        let attributes = Self.attributeColumns(options)
        for attribute in (options["values"]?.objectValue ?? [:]).keys.sorted() where attributes[attribute] == nil {
            problems.append(SpecProblem(at: "values.\(attribute)", "maps the values of attribute \"\(attribute)\", which no column gives; "
                                        + "add it to `attributes` (\(attribute): COLUMN) or `attribute_columns`"))
        }
        return problems
    }

    public func fields(_ options: [String: ParameterValue]) throws(SpecProblem) -> DatasetFields? {
        let labels = (options["label_columns"]?.listValue ?? []).compactMap(\.stringValue)
        return DatasetFields(labels: labels, attributes: Array(Self.attributeColumns(options).keys),
                             masks: Self.maskClasses(options))
    }

    /// The segmentation classes the options give: `mask_classes`, else the `mask_columns`.
    static func maskClasses(_ options: [String: ParameterValue]) -> [String] {
        let names = { (key: String) in (options[key]?.listValue ?? []).compactMap(\.stringValue) }
        let classes = names("mask_classes")
        return classes.isEmpty ? names("mask_columns") : classes
    }

    /// How the mask options fit together: one of `mask_columns` and `label_map_column`;
    /// `mask_classes` needed by a label map and, with mask columns, one per column;
    /// `label_map_encoding` only with a label map; class names unique.
    static func maskProblems(_ options: [String: ParameterValue]) -> [SpecProblem] {
        let columns = options["mask_columns"]?.listValue
        let labelMap = options["label_map_column"]
        let classes = options["mask_classes"]?.listValue
        var problems: [SpecProblem] = []
        if columns != nil && labelMap != nil {
            problems.append(SpecProblem(at: "label_map_column", "give either mask_columns (one mask file per class) or label_map_column (one label map per image), not both"))
        }
        if labelMap != nil && classes == nil {
            problems.append(SpecProblem(at: "label_map_column", "a label map needs mask_classes: the class of value 1, 2, … (or of bit 0, 1, … with label_map_encoding: bits)"))
        }
        if classes != nil && columns == nil && labelMap == nil {
            problems.append(SpecProblem(at: "mask_classes", "names the classes of masks no option reads; add mask_columns or label_map_column"))
        }
        if let columns, let classes, classes.count != columns.count {
            problems.append(SpecProblem(at: "mask_classes", "\(classes.count) classes for \(columns.count) mask_columns; name one class per column (or leave mask_classes out to use the column names)"))
        }
        if options["label_map_encoding"] != nil && labelMap == nil {
            problems.append(SpecProblem(at: "label_map_encoding", "only a label map (label_map_column) has an encoding"))
        }
        let names = maskClasses(options)
        for (index, name) in names.enumerated() where names[..<index].contains(name) {
            problems.append(SpecProblem(at: classes == nil ? "mask_columns[\(index)]" : "mask_classes[\(index)]", "the class \"\(name)\" is named twice; name each class once"))
        }
        return problems
    }

    /// Attribute name → column: `attribute_columns` under their lower-case names, then `attributes`.
    static func attributeColumns(_ options: [String: ParameterValue]) -> [String: String] {
        var columns: [String: String] = [:]
        for column in (options["attribute_columns"]?.listValue ?? []).compactMap(\.stringValue) { columns[column.lowercased()] = column }
        for (attribute, column) in options["attributes"]?.objectValue ?? [:] { columns[attribute] = column.stringValue }
        return columns
    }

    /// The column names on the first line of a CSV file (without reading the rest).
    static func header(of url: URL, encoding: TextEncoding) throws -> [String] {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw DatasetError.fileNotFound(path: url.path, hint: "check the csv dataset's `manifest` option")
        }
        defer { try? handle.close() }
        var bytes: [UInt8] = []
        while let chunk = try handle.read(upToCount: 64 << 10), !chunk.isEmpty {
            if let newline = chunk.firstIndex(of: UInt8(ascii: "\n")) {
                bytes += chunk[chunk.startIndex..<newline]
                break
            }
            bytes += chunk
        }
        return try CSVTable(parsing: bytes + [UInt8(ascii: "\n")], file: url.path, encoding: encoding).header
    }

    public func manifest(_ options: ComponentOptions, context: DatasetContext) throws -> Manifest {
        let file = try options.requiredPath("manifest")
        let root = try options.string("root").map { URL(fileURLWithPath: $0) } ?? file.deletingLastPathComponent()
        let labels = try options.strings("label_columns") ?? []
        let attributes = try CSVManifestOptions.attributeColumns(plain: try options.strings("attribute_columns") ?? [],
                                                                 renamed: try options.stringMap("attributes") ?? [:])
        var valueMaps: [String: CSVValueMap] = [:]
        for (attribute, map) in options.values["values"]?.objectValue ?? [:] {
            valueMaps[attribute] = CSVValueMap(spec: (map.objectValue ?? [:]).mapValues { $0.stringValue })
        }
        var settings = CSVManifestOptions(file: file.path, imageColumn: try options.string("image_column") ?? "path",
                                          idColumn: try options.string("id_column"),
                                          patientColumn: try options.string("patient_column"), studyColumn: try options.string("study_column"),
                                          labels: labels.map { CSVLabelColumn.inferred($0) }, attributeColumns: attributes,
                                          splitColumn: try options.string("split_column"))
        settings.valueMaps = valueMaps
        if let problem = Self.maskProblems(options.values).first {
            throw options.bad(problem.path ?? "mask_columns", options.values[problem.path ?? "mask_columns"] ?? .null, problem.message)
        }
        if let columns = try options.strings("mask_columns") {
            let names = try options.strings("mask_classes") ?? columns
            settings.masks = .perClass(zip(columns, names).map { CSVMaskColumn(column: $0, name: $1) })
        } else if let column = try options.string("label_map_column") {
            let encoding = try options.string("label_map_encoding").flatMap(LabelMapEncoding.init(rawValue:)) ?? .values
            settings.masks = .labelMap(column: column, classes: try options.strings("mask_classes") ?? [], encoding: encoding)
        }
        settings.encoding = Self.encoding(options.values)
        settings.imagePolicy = try ImagePathOptions.policy(options)
        return try loadCSVManifest(root: root, options: settings)
    }
}
