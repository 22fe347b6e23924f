import Foundation

/// The label schema of the phantom dataset (see `generatePhantomDataset(at:count:seed:options:)`).
public let phantomLabelSchema = LabelSchema([
    .multiClass("anatomy", classes: PhantomAnatomy.allCases.map(\.rawValue)),
    .multiClass("view", classes: PhantomView.allCases.map(\.rawValue)),
    .multiClass("rotation", classes: ["0", "90", "180", "270"]),
    .binary("mirrored"),
    .binary("marker"),
    .multiClass("markerLetter", classes: ["none", "L", "R"]),
    .binary("nodule"),
    .binary("effusion"),
    .binary("cardiomegaly"),
])

/// The columns of the phantom `manifest.csv`, in order.
let phantomColumns = ["id", "path", "patient", "study", "sex", "age", "anatomy", "view", "rotation", "mirrored",
                      "marker", "marker_letter", "nodule", "effusion", "cardiomegaly", "bit_depth"]

/// The column of `manifest.csv` naming each image's label map, present when masks were written.
let phantomMaskColumn = "mask"

/// The phantom label file for a list of plans (no field needs quoting); with `masks`, a last
/// column `mask` names each label map.
func phantomManifestCSV(_ plans: [PhantomImagePlan], masks: Bool = false) -> String {
    var text = (phantomColumns + (masks ? [phantomMaskColumn] : [])).joined(separator: ",") + "\n"
    for plan in plans {
        let isChest = plan.anatomy == .chest
        func flag(_ value: Bool) -> String { value ? "1" : "0" }
        let fields = [
            plan.sampleID, plan.imagePath, plan.patientID, plan.studyID, plan.subject.sex.rawValue, String(plan.subject.age),
            plan.anatomy.rawValue, plan.view.rawValue, String(plan.rotation), flag(plan.mirrored),
            flag(plan.markerLetter != nil), plan.markerLetter ?? "none",
            isChest ? flag(!plan.findings.nodules.isEmpty) : "",
            isChest ? flag(!plan.findings.effusionLungs.isEmpty) : "",
            isChest ? flag(plan.findings.cardiomegaly) : "",
            String(plan.bitDepth),
        ] + (masks ? [plan.maskPath] : [])
        text += fields.joined(separator: ",") + "\n"
    }
    return text
}

/// The `phantom` adapter: reads the `manifest.csv` that `generatePhantomDataset` wrote under `root`.
///
/// Labels follow `phantomLabelSchema`; blank finding cells (non-chest images) are missing.
/// Attributes: `sex`, `age`, `view`, `bitDepth`. There is no official split. When the file has
/// a `mask` column (the dataset was generated with masks), every sample has one mask per
/// `phantomMaskClasses` entry, bit `k` of its label map, and the manifest those classes.
/// - Throws: `DatasetError` naming the file, line and column of the first bad cell, or
///   `.fileNotFound` with the command that makes the dataset.
public func loadPhantomManifest(root: URL) throws(DatasetError) -> Manifest {
    // The table is let go before the manifest is made and checked (its cells took 7 MB for
    // 20,000 images).
    let (samples, file, hasMasks) = try phantomSamples(CSVTable.read(contentsOf: root.appendingPathComponent(phantomManifestFileName),
                                                                      hint: "Generate the phantom dataset first: xrbench phantom --out \(root.path) --count N --seed S"))
    return try Manifest(dataset: "phantom", root: root, schema: phantomLabelSchema, samples: samples,
                        segmentation: hasMasks ? SegmentationSchema(classes: phantomMaskClasses, exclusive: false) : nil,
                        source: file)
}

/// The samples of the phantom label file `table`, its file, and whether it names masks.
private func phantomSamples(_ table: consuming CSVTable) throws(DatasetError) -> (samples: [Sample], file: String, hasMasks: Bool) {
    var columns: [String: Int] = [:]
    for name in phantomColumns { columns[name] = try table.column(named: name) }
    let maskColumn = table.header.firstIndex(of: phantomMaskColumn)
    if let maskColumn { columns[phantomMaskColumn] = maskColumn }
    func column(_ name: String) -> Int { columns[name]! }
    var samples: [Sample] = []
    samples.reserveCapacity(table.rowCount)
    var interner = SampleInterner()   // rows repeat a few label and attribute combinations
    for row in 0..<table.rowCount {
        func cell(_ name: String) -> String { table.string(row: row, column: column(name)) }
        func bad(_ name: String, _ expected: String) -> DatasetError {
            .badValue(file: table.file, line: table.line(ofRow: row), column: name, value: cell(name), expected: expected)
        }
        func binary(_ name: String, allowBlank: Bool) throws(DatasetError) -> LabelValue {
            switch cell(name) {
            case "1": return .positive
            case "0": return .negative
            case "" where allowBlank: return .missing
            default: throw bad(name, allowBlank ? "1, 0 or blank" : "1 or 0")
            }
        }
        func category(_ name: String, label: String) throws(DatasetError) -> LabelValue {
            let value = cell(name)
            guard phantomLabelSchema[label]!.classes.contains(value) else {
                throw bad(name, "one of " + phantomLabelSchema[label]!.classes.joined(separator: ", "))
            }
            return .category(value)
        }
        guard Sex(rawValue: cell("sex")) != nil else { throw bad("sex", "female or male") }
        guard let age = Int(cell("age")), age > 0 else { throw bad("age", "a whole number of years above 0") }
        guard ["8", "16"].contains(cell("bit_depth")) else { throw bad("bit_depth", "8 or 16") }
        let labels: [String: LabelValue] = [
            "anatomy": try category("anatomy", label: "anatomy"),
            "view": try category("view", label: "view"),
            "rotation": try category("rotation", label: "rotation"),
            "mirrored": try binary("mirrored", allowBlank: false),
            "marker": try binary("marker", allowBlank: false),
            "markerLetter": try category("marker_letter", label: "markerLetter"),
            "nodule": try binary("nodule", allowBlank: true),
            "effusion": try binary("effusion", allowBlank: true),
            "cardiomegaly": try binary("cardiomegaly", allowBlank: true),
        ]
        var masks: [String: MaskSource]?
        if let maskColumn {
            let path = table.string(row: row, column: maskColumn)
            guard !path.isEmpty else { throw bad(phantomMaskColumn, "the path of the image's label map") }
            masks = Dictionary(uniqueKeysWithValues: phantomMaskClasses.enumerated().map { ($1, MaskSource.file(path: path, pixels: .bit($0))) })
        }
        samples.append(interner.intern(Sample(id: cell("id"), patientID: cell("patient"), studyID: cell("study"), imagePath: cell("path"),
                                              labels: labels,
                                              attributes: [AttributeName.sex: cell("sex"), AttributeName.age: String(age),
                                                           AttributeName.view: cell("view"), "bitDepth": cell("bit_depth")],
                                              masks: masks)))
    }
    guard !samples.isEmpty else { throw .empty(file: table.file, reason: "the label file has a header but no rows") }
    return (samples, table.file, maskColumn != nil)
}
