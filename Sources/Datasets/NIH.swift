import Foundation

/// The NIH ChestX-ray14 adapter: `Data_Entry_2017*.csv` (112,120 frontal radiographs of 30,805
/// patients in the 2020 revision), optionally the official `train_val_list.txt` / `test_list.txt`.
///
/// Columns read: `Image Index, Finding Labels, Follow-up #, Patient ID, Patient Age,
/// Patient Gender, View Position` (others, such as the original image size, are ignored).
/// Per sample:
/// - `id` is the `Image Index` (`00000001_000.png`); `patientID` the `Patient ID` cell;
///   `studyID` `<patient>/<follow-up #>` (one visit);
/// - labels: the 14 findings (`allFindings`, or the subset in `findings`), binary. `Finding
///   Labels` lists a row's findings separated by `|`; every finding it does not list is
///   negative, and `No Finding` makes all 14 negative. NIH's labels are text-mined from reports
///   with no uncertain or missing value. `No Finding` is not a label by default: it is exactly
///   "all 14 negative", so it adds nothing to the 14. List it in `findings` to get it as a
///   binary label (positive when the row says `No Finding`);
/// - attributes `sex` (`M`/`F` → `male`/`female`; blank leaves it out), `age` (whole years;
///   0 is a real age, under one year; blank or over 130 leaves it out: the original 2017
///   release has a few ages such as 412 that its 2020 revision corrected), `view` (`frontal`
///   for the positions `PA` and `AP`), `projection` (the position as written);
/// - `imagePath` relative to the root, found by name (see `NIHOptions.checkImages`);
/// - `officialSplit` from the official lists: `train` for `train_val_list.txt`, `test` for
///   `test_list.txt`. NIH publishes no validation list; the split stage carves validation
///   patients out of the official train patients with the spec's ratios.
public struct NIHOptions: Sendable, Hashable {
    /// The 14 findings, in the order of the NIH release notes (and of CheXNet's tables).
    public static let allFindings = [
        "Atelectasis", "Cardiomegaly", "Effusion", "Infiltration", "Mass", "Nodule", "Pneumonia",
        "Pneumothorax", "Consolidation", "Edema", "Emphysema", "Fibrosis", "Pleural_Thickening", "Hernia",
    ]
    /// The `Finding Labels` entry of a normal image; a label only when listed in `findings`.
    public static let noFinding = "No Finding"

    /// The label file (`Data_Entry_2017_v2020.csv` or `Data_Entry_2017.csv`), relative to the
    /// root or absolute.
    public var dataEntry: String
    /// Findings to include as labels, in this order (default: the 14); may include `No Finding`.
    public var findings: [String]
    /// The official training list (image names, one a line), relative to the root or absolute.
    public var trainValList: String?
    /// The official test list.
    public var testList: String?
    /// Whether every image must exist under the root; the label file alone loads without.
    public var checkImages: Bool
    /// Where images may be: found by name under the root, they are never outside it unless a
    /// folder there is a symbolic link out of it (`follow_symlinks`).
    public var imagePolicy: ImagePathPolicy = .insideRoot

    /// Creates options; the defaults read all 14 findings without official split and without
    /// checking images.
    ///
    /// With both lists, every image must be in exactly one; with one list, the images it does
    /// not name belong to the other split (the two lists partition the dataset).
    public init(dataEntry: String = "Data_Entry_2017_v2020.csv", findings: [String] = NIHOptions.allFindings,
                trainValList: String? = nil, testList: String? = nil, checkImages: Bool = false) {
        self.dataEntry = dataEntry
        self.findings = findings
        self.trainValList = trainValList
        self.testList = testList
        self.checkImages = checkImages
    }
}

/// Reads NIH ChestX-ray14's label file into a manifest (see `NIHOptions`).
///
/// Image paths are found under `root` by name: images directly in it, in one folder below it
/// (`images/`, the original archives unpacked together) or two below it
/// (`images_001/images/`, the Kaggle copy). When the root does not exist or lacks an image,
/// the image's path is its name (a flat folder), so the label file alone loads and can be
/// described; with `checkImages` every missing image is reported at once instead.
///
/// - Throws: `DatasetError` naming the file, line and column of the first bad cell (an
///   unknown finding, `No Finding` with a finding, a blank finding list, a sex other than
///   M/F, a position other than PA/AP, a non-numeric age or follow-up number, a blank id or
///   patient, a duplicate image); `.missingColumn` with the header and a did-you-mean;
///   `.invalidOption` for an unknown finding name or official lists that do not fit the file;
///   `.missingImages` when checking images.
public func loadNIHManifest(root: URL, options: NIHOptions = .init()) throws(DatasetError) -> Manifest {
    try checkNIHFindings(options.findings)
    let table = try CSVTable.read(contentsOf: resolve(options.dataEntry, against: root), hint:
        "Name NIH ChestX-ray14's Data_Entry_2017_v2020.csv (or Data_Entry_2017.csv) from the NIH Clinical Center download in data_entry.")
    var samples = try nihSamples(from: table, findings: options.findings)
    let names = samples.map(\.id)

    let splits = try NIHOfficialLists(trainVal: options.trainValList, test: options.testList, root: root)
        .splits(of: names, labelFile: table.file)
    let images = NIHImageLocator.locate(Set(names), under: root)
    if options.checkImages {
        guard FileManager.default.fileExists(atPath: root.path) else {
            throw .fileNotFound(path: root.path, hint: "Point the NIH dataset's root at the folder holding the images (or their images_NNN/ folders).")
        }
        let missing = names.filter { images[$0] == nil }
        if !missing.isEmpty { throw .missingImages(root: root.path, labelFile: table.file, missing: missing, total: names.count) }
    }
    for index in samples.indices where splits != nil || images[samples[index].id] != nil {
        let sample = samples[index]
        samples[index] = Sample(id: sample.id, patientID: sample.patientID, studyID: sample.studyID,
                                imagePath: images[sample.id] ?? sample.imagePath, labels: sample.labels,
                                attributes: sample.attributes, officialSplit: splits?[index])
    }
    guard !samples.isEmpty else { throw .empty(file: table.file, reason: "the file has a header but no rows") }
    return try Manifest(dataset: "nih", root: root, schema: LabelSchema(options.findings.map(LabelDefinition.binary)),
                        samples: samples, source: table.file,
                        origins: (0..<table.rowCount).map { SourceLine(file: table.file, line: table.line(ofRow: $0)) },
                        imagePolicy: options.imagePolicy)
}

/// Turns a parsed `Data_Entry_2017*.csv` into samples with labels and attributes; image paths
/// are the image names and there is no official split yet (see `loadNIHManifest`).
///
/// - Throws: `DatasetError.missingColumn` / `.badValue` with the file, line and column;
///   `.invalidOption` for a finding name that is not NIH's or is listed twice.
public func nihSamples(from table: CSVTable, findings: [String]) throws(DatasetError) -> [Sample] {
    try checkNIHFindings(findings)
    let imageColumn = try table.column(named: "Image Index")
    let findingsColumn = try table.column(named: "Finding Labels")
    let followUpColumn = try table.column(named: "Follow-up #")
    let patientColumn = try table.column(named: "Patient ID")
    let ageColumn = try table.column(named: "Patient Age")
    let sexColumn = try table.column(named: "Patient Gender")
    let viewColumn = try table.column(named: "View Position")
    // Bit i of a row's finding mask is allFindings[i]; the bit after them is No Finding.
    let noFindingBit = NIHOptions.allFindings.count
    var bitOfName: [String: Int] = [NIHOptions.noFinding: noFindingBit]
    for (bit, name) in NIHOptions.allFindings.enumerated() { bitOfName[name] = bit }
    let selected = findings.map { (name: $0, bit: bitOfName[$0]!) }
    let findingsExpected = "findings separated by | from " + NIHOptions.allFindings.joined(separator: ", ")
        + ", or No Finding alone"

    return try table.withFields { fields throws(DatasetError) in
        func bad(_ row: Int, _ column: Int, _ expected: String) -> DatasetError {
            .badValue(file: table.file, line: table.line(ofRow: row), column: table.header[column],
                      value: fields.string(row: row, column: column), expected: expected)
        }
        var samples: [Sample] = []
        samples.reserveCapacity(table.rowCount)
        var lineOfImage: [String: Int] = [:]
        lineOfImage.reserveCapacity(table.rowCount)
        for row in 0..<table.rowCount {
            let image = fields.string(row: row, column: imageColumn)
            // A name, not a path: images are found under the root by name, never elsewhere.
            guard !image.isEmpty, !image.contains("/"), image != "..", image != "." else {
                throw bad(row, imageColumn, "an image file name (no folders: images are found under the root by name)")
            }
            if let earlier = lineOfImage.updateValue(table.line(ofRow: row), forKey: image) {
                throw bad(row, imageColumn, "a unique image name; line \(earlier) has the same")
            }
            guard let mask = NIHCells.findingMask(fields, row: row, column: findingsColumn, bitOfName: bitOfName),
                  mask == 1 << noFindingBit || mask & (1 << noFindingBit) == 0 else {
                throw bad(row, findingsColumn, findingsExpected)
            }
            let patient = fields.string(row: row, column: patientColumn)
            guard !patient.isEmpty else { throw bad(row, patientColumn, "a patient id") }
            guard let followUp = NIHCells.wholeNumber(fields, row: row, column: followUpColumn) else {
                throw bad(row, followUpColumn, "the follow-up number (0, 1, 2, …)")
            }
            var attributes = [String: String](minimumCapacity: 4)
            guard let sex = NIHCells.sex(fields, row: row, column: sexColumn) else { throw bad(row, sexColumn, "M, F or blank") }
            if let sex { attributes[AttributeName.sex] = sex.rawValue }
            if !fields.bytes(row: row, column: ageColumn).isEmpty {
                guard let age = NIHCells.wholeNumber(fields, row: row, column: ageColumn) else {
                    throw bad(row, ageColumn, "an age in whole years, or blank")
                }
                if age <= 130 { attributes[AttributeName.age] = String(age) }
            }
            if fields.field(row: row, column: viewColumn, equals: "PA") || fields.field(row: row, column: viewColumn, equals: "AP") {
                attributes[AttributeName.view] = "frontal"
                attributes["projection"] = fields.string(row: row, column: viewColumn)
            } else if !fields.bytes(row: row, column: viewColumn).isEmpty {
                throw bad(row, viewColumn, "PA, AP or blank")
            }
            var labels = [String: LabelValue](minimumCapacity: selected.count)
            for finding in selected { labels[finding.name] = mask & (1 << finding.bit) != 0 ? .positive : .negative }
            samples.append(Sample(id: image, patientID: patient, studyID: "\(patient)/\(followUp)", imagePath: image,
                                  labels: labels, attributes: attributes))
        }
        return samples
    }
}

/// Checks that `findings` names NIH findings (or `No Finding`), each once.
private func checkNIHFindings(_ findings: [String]) throws(DatasetError) {
    let known = NIHOptions.allFindings + [NIHOptions.noFinding]
    for finding in findings where !known.contains(finding) {
        throw .invalidOption(name: "findings", value: finding, reason: "not an NIH finding"
            + (closestName(to: finding, in: known).map { " (did you mean \($0)?)" } ?? "")
            + "; the findings are \(known.joined(separator: ", "))")
    }
    if Set(findings).count != findings.count {
        throw .invalidOption(name: "findings", value: findings.joined(separator: ", "), reason: "a finding is listed twice")
    }
}

/// Cell parsers for NIH's label file; nil means the cell is invalid (the caller throws an
/// error naming the file, line and column).
enum NIHCells {
    /// The findings of a `Finding Labels` cell as a bit mask (see `nihSamples`); nil for a
    /// blank cell, an empty entry (`Mass||Nodule`) or an unknown finding. Spaces around
    /// entries are ignored; a finding listed twice counts once.
    static func findingMask(_ fields: CSVFields, row: Int, column: Int, bitOfName: [String: Int]) -> Int? {
        let bytes = fields.bytes(row: row, column: column)
        guard !bytes.isEmpty else { return nil }
        var mask = 0
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "|") { end += 1 }
            var first = start, last = end
            while first < last && bytes[first] == UInt8(ascii: " ") { first += 1 }
            while last > first && bytes[last - 1] == UInt8(ascii: " ") { last -= 1 }
            guard first < last,
                  let bit = bitOfName[fields.string(row: row, column: column, bytes: first..<last)] else { return nil }
            mask |= 1 << bit
            start = end + 1
        }
        return mask
    }

    /// `M`/`F` (also `Male`/`Female`, any case); `.some(nil)` for blank; nil otherwise.
    static func sex(_ fields: CSVFields, row: Int, column: Int) -> Sex?? {
        if fields.field(row: row, column: column, equals: "M") { return .some(.male) }
        if fields.field(row: row, column: column, equals: "F") { return .some(.female) }
        if fields.bytes(row: row, column: column).isEmpty { return .some(nil) }
        switch fields.string(row: row, column: column).lowercased() {
        case "m", "male": return .some(.male)
        case "f", "female": return .some(.female)
        default: return nil
        }
    }

    /// A whole number written with digits only (at most 9); nil otherwise.
    static func wholeNumber(_ fields: CSVFields, row: Int, column: Int) -> Int? {
        let bytes = fields.bytes(row: row, column: column)
        guard !bytes.isEmpty, bytes.count <= 9 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
