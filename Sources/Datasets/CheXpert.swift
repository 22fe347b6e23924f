import Foundation

/// What to do with CheXpert's uncertain (-1.0) labels, per label.
public enum UncertaintyPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// U-Ones: uncertain counts as positive.
    case ones
    /// U-Zeros: uncertain counts as negative.
    case zeros
    /// U-Ignore: uncertain becomes missing, so the sample is left out of that label's training and scoring.
    case ignore
    /// Keep `.uncertain` in the manifest (for counting and analysis; probes skip it like missing).
    case keep

    /// The label value an uncertain cell becomes.
    public var resolvedValue: LabelValue {
        switch self {
        case .ones: .positive
        case .zeros: .negative
        case .ignore: .missing
        case .keep: .uncertain
        }
    }
}

/// The CheXpert adapter: `train.csv` and `valid.csv` of CheXpert-v1.0 (or its small variant).
///
/// Columns: `Path`, `Sex`, `Age`, `Frontal/Lateral`, `AP/PA` and the 14 findings, each 1.0,
/// 0.0, -1.0 (uncertain) or blank (not mentioned, `.missing`). Per sample:
/// - `id` is the `Path` cell as written (unique, stable across copies of the dataset);
/// - `imagePath` is `Path` without its first component (`CheXpert-v1.0-small/`), relative to
///   the root, the folder that holds `train.csv`, `valid.csv`, `train/` and `valid/`;
/// - `patientID` is the `patientNNNNN` path component, `studyID` `patientNNNNN/studyN`;
/// - attributes `sex` (`female`/`male`; absent for `Unknown`), `age` (absent for 0, which
///   CheXpert uses for unknown), `view` (`frontal`/`lateral`), `projection` (the AP/PA cell,
///   absent when blank). Samples with unknown sex or age are kept; subgroup filters skip them;
/// - `officialSplit` is `.train` for `train.csv` and `.validation` for `valid.csv`.
public struct CheXpertOptions: Sendable, Hashable {
    /// The 14 CheXpert findings, in the order of the label files' columns.
    public static let allFindings = [
        "No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion",
        "Edema", "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion",
        "Pleural Other", "Fracture", "Support Devices",
    ]
    /// The five competition labels used by ConVIRT and the paper's Table 2.
    public static let competitionFindings = ["Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Pleural Effusion"]

    /// Findings to include as labels, in this order (default: all 14).
    public var findings: [String]
    /// Policy for findings not named in `uncertaintyPolicies`.
    public var defaultUncertaintyPolicy: UncertaintyPolicy
    /// Per-finding uncertainty policies.
    public var uncertaintyPolicies: [String: UncertaintyPolicy]
    /// Keep only frontal images (the paper's setting for classification).
    public var frontalOnly: Bool
    /// Label files relative to the root and the official split each stands for.
    public var labelFiles: [LabelFile]
    /// Where images may be (default: inside the root).
    public var imagePolicy: ImagePathPolicy = .insideRoot

    /// A label file and the split it defines.
    public struct LabelFile: Sendable, Hashable {
        /// Path relative to the dataset root, e.g. `train.csv`, or absolute.
        public var path: String
        /// The split its rows belong to.
        public var split: OfficialSplit?

        /// Creates a label-file entry.
        public init(path: String, split: OfficialSplit?) {
            self.path = path
            self.split = split
        }
    }

    /// Creates options; the defaults read both official files with all 14 findings, ignore
    /// uncertain labels, and keep lateral images.
    public init(findings: [String] = CheXpertOptions.allFindings,
                defaultUncertaintyPolicy: UncertaintyPolicy = .ignore,
                uncertaintyPolicies: [String: UncertaintyPolicy] = [:],
                frontalOnly: Bool = false,
                labelFiles: [LabelFile] = [.init(path: "train.csv", split: .train), .init(path: "valid.csv", split: .validation)]) {
        self.findings = findings
        self.defaultUncertaintyPolicy = defaultUncertaintyPolicy
        self.uncertaintyPolicies = uncertaintyPolicies
        self.frontalOnly = frontalOnly
        self.labelFiles = labelFiles
    }

    /// The policy that applies to `finding`.
    public func policy(for finding: String) -> UncertaintyPolicy {
        uncertaintyPolicies[finding] ?? defaultUncertaintyPolicy
    }
}

/// Reads CheXpert's label files under `root` into a manifest (see `CheXpertOptions`).
///
/// - Throws: `DatasetError` naming the file, line and column of the first problem: a missing
///   label file or column, an unparseable Sex/Age/view/finding cell, a path without a
///   `patientNNNNN` component, a path listed twice (both places named), an image path that
///   leads out of the root; see `Manifest.init` for the consistency checks.
public func loadCheXpertManifest(root: URL, options: CheXpertOptions = .init()) throws(DatasetError) -> Manifest {
    var samples: [Sample] = []
    var origins: [SourceLine] = []
    for labelFile in options.labelFiles {
        let url = resolve(labelFile.path, against: root)
        let table = try CSVTable.read(contentsOf: url, hint:
            "Point the CheXpert dataset root (e.g. ${CHEXPERT_ROOT}) at the folder holding train.csv and valid.csv (CheXpert-v1.0 or CheXpert-v1.0-small from Stanford AIMI).")
        let rows = try cheXpertRows(from: table, split: labelFile.split, options: options)
        samples += rows.samples
        origins += rows.lines.map { SourceLine(file: table.file, line: $0) }
    }
    guard !samples.isEmpty else {
        throw .empty(file: root.path, reason: options.frontalOnly ? "no frontal images in the label files" : "the label files have no rows")
    }
    let schema = LabelSchema(options.findings.map(LabelDefinition.binary))
    return try Manifest(dataset: "chexpert", root: root, schema: schema, samples: samples, source: root.path,
                        origins: origins, imagePolicy: options.imagePolicy)
}

/// Turns one parsed CheXpert label file into samples (see `CheXpertOptions`).
///
/// - Parameters:
///   - table: a parsed `train.csv`, `valid.csv` or file of the same layout.
///   - split: the official split of its rows.
/// - Throws: `DatasetError.missingColumn` / `.badValue` with the file, line and column.
public func cheXpertSamples(from table: CSVTable, split: OfficialSplit?, options: CheXpertOptions) throws(DatasetError) -> [Sample] {
    try cheXpertRows(from: table, split: split, options: options).samples
}

/// `cheXpertSamples`, with the line each sample's row starts on.
func cheXpertRows(from table: CSVTable, split: OfficialSplit?, options: CheXpertOptions) throws(DatasetError) -> (samples: [Sample], lines: [Int]) {
    let pathColumn = try table.column(named: "Path")
    let sexColumn = try table.column(named: "Sex")
    let ageColumn = try table.column(named: "Age")
    let viewColumn = try table.column(named: "Frontal/Lateral")
    let projectionColumn = try table.column(named: "AP/PA")
    var findingColumns: [(name: String, column: Int, uncertain: LabelValue)] = []
    for finding in options.findings {
        findingColumns.append((finding, try table.column(named: finding), options.policy(for: finding).resolvedValue))
    }

    return try table.withFields { fields throws(DatasetError) in
        func bad(_ row: Int, _ column: Int, _ expected: String) -> DatasetError {
            .badValue(file: table.file, line: table.line(ofRow: row), column: table.header[column],
                      value: fields.string(row: row, column: column), expected: expected)
        }
        var samples: [Sample] = []
        var lines: [Int] = []
        samples.reserveCapacity(table.rowCount)
        lines.reserveCapacity(table.rowCount)
        for row in 0..<table.rowCount {
            guard let view = CheXpertCells.view(fields, row: row, column: viewColumn) else {
                throw bad(row, viewColumn, "Frontal or Lateral")
            }
            if options.frontalOnly && view != "frontal" { continue }
            guard let path = CheXpertCells.path(fields, row: row, column: pathColumn) else {
                throw bad(row, pathColumn, "a path with a patientNNNNN/studyN/ part")
            }
            // Reserved capacities matter: growing small dictionaries dominates in debug builds.
            var attributes = [String: String](minimumCapacity: 4)
            attributes[AttributeName.view] = view
            guard let sex = CheXpertCells.sex(fields, row: row, column: sexColumn) else {
                throw bad(row, sexColumn, "Female, Male or Unknown")
            }
            if let sex = sex { attributes[AttributeName.sex] = sex.rawValue }
            guard let age = CheXpertCells.age(fields, row: row, column: ageColumn) else {
                throw bad(row, ageColumn, "a whole number of years from 0 to 130")
            }
            if let age = age { attributes[AttributeName.age] = String(age) }
            if !table.isEmpty(row: row, column: projectionColumn) {
                attributes["projection"] = fields.string(row: row, column: projectionColumn)
            }
            var labels = [String: LabelValue](minimumCapacity: findingColumns.count)
            for finding in findingColumns {
                guard let value = CheXpertCells.finding(fields, row: row, column: finding.column, uncertain: finding.uncertain) else {
                    throw bad(row, finding.column, "1.0, 0.0, -1.0 or blank")
                }
                if value != .missing { labels[finding.name] = value }
            }
            samples.append(Sample(id: path.id, patientID: path.patient, studyID: path.study, imagePath: path.imagePath,
                                  labels: labels, attributes: attributes, officialSplit: split))
            lines.append(table.line(ofRow: row))
        }
        return (samples, lines)
    }
}

/// Cell parsers for CheXpert label files; nil means the cell is invalid (the caller throws
/// an error naming the file, line and column).
enum CheXpertCells {
    static func view(_ fields: CSVFields, row: Int, column: Int) -> String? {
        if fields.field(row: row, column: column, equals: "Frontal") { return "frontal" }
        if fields.field(row: row, column: column, equals: "Lateral") { return "lateral" }
        return nil
    }

    /// `.some(nil)` for Unknown or blank.
    static func sex(_ fields: CSVFields, row: Int, column: Int) -> Sex?? {
        if fields.field(row: row, column: column, equals: "Female") { return .some(.female) }
        if fields.field(row: row, column: column, equals: "Male") { return .some(.male) }
        if fields.field(row: row, column: column, equals: "Unknown") || fields.field(row: row, column: column, equals: "") {
            return .some(nil)
        }
        return nil
    }

    /// The age in years; `.some(nil)` for CheXpert's 0 (unknown) or a blank cell.
    static func age(_ fields: CSVFields, row: Int, column: Int) -> Int?? {
        let bytes = fields.bytes(row: row, column: column)
        if bytes.isEmpty { return .some(nil) }
        var age = 0
        var index = 0
        // Whole numbers, optionally written with a zero decimal part ("68" or "68.0").
        while index < bytes.count && bytes[index] >= UInt8(ascii: "0") && bytes[index] <= UInt8(ascii: "9") && age <= 130 {
            age = age * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        let digitCount = index
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count && bytes[index] == UInt8(ascii: "0") { index += 1 }
        }
        guard digitCount > 0, index == bytes.count, age <= 130 else { return nil }
        return .some(age == 0 ? nil : age)
    }

    static func finding(_ fields: CSVFields, row: Int, column: Int, uncertain: LabelValue) -> LabelValue? {
        // Literal comparisons without allocation: this runs 3 million times on the training file.
        let bytes = fields.bytes(row: row, column: column)
        switch bytes.count {
        case 0: return .missing
        case 1, 3:
            if fields.field(row: row, column: column, equals: "1.0") || fields.field(row: row, column: column, equals: "1") { return .positive }
            if fields.field(row: row, column: column, equals: "0.0") || fields.field(row: row, column: column, equals: "0") { return .negative }
            return nil
        case 2, 4:
            if fields.field(row: row, column: column, equals: "-1.0") || fields.field(row: row, column: column, equals: "-1") { return uncertain }
            return nil
        default: return nil
        }
    }

    /// The parts of a `Path` cell such as
    /// `CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg`: the whole path (the
    /// sample id), the path without its first component (relative to the root),
    /// `patient00001` and `patient00001/study1`. Nil without a `patient…/…/` part.
    static func path(_ fields: CSVFields, row: Int, column: Int) -> (id: String, imagePath: String, patient: String, study: String)? {
        // A pointer scan rather than `split`, which is slow in debug builds on 200k rows.
        let bytes = fields.bytes(row: row, column: column)
        let slash = UInt8(ascii: "/")
        let count = bytes.count
        var firstSlash = -1
        var componentStart = 0
        while componentStart < count {
            var componentEnd = componentStart
            while componentEnd < count && bytes[componentEnd] != slash { componentEnd += 1 }
            if firstSlash < 0 && componentEnd < count { firstSlash = componentEnd }
            if componentEnd < count && componentEnd - componentStart > 7 && bytes[componentStart] == UInt8(ascii: "p")
                && memcmp(bytes.baseAddress! + componentStart, "patient", 7) == 0 {
                var studyEnd = componentEnd + 1
                while studyEnd < count && bytes[studyEnd] != slash { studyEnd += 1 }
                guard studyEnd < count, studyEnd > componentEnd + 1 else { return nil }
                return (fields.string(row: row, column: column),
                        fields.string(row: row, column: column, bytes: (firstSlash + 1)..<count),
                        fields.string(row: row, column: column, bytes: componentStart..<componentEnd),
                        fields.string(row: row, column: column, bytes: componentStart..<studyEnd))
            }
            componentStart = componentEnd + 1
        }
        return nil
    }
}
