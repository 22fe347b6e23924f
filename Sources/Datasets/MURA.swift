import Foundation

/// The MURA adapter (musculoskeletal radiographs, Stanford ML Group, v1.1).
///
/// Reads, for each split, `<split>_image_paths.csv` (one image path per line, no header) and
/// `<split>_labeled_studies.csv` (study folder, label 1 abnormal / 0 normal; no header) from
/// the root, the `MURA-v1.1` folder. Paths look like
/// `MURA-v1.1/train/XR_SHOULDER/patient00001/study1_positive/image1.png`; per image:
/// - `id` the path as written; `imagePath` the path without its first component;
/// - `patientID` the `patientNNNNN` component; `studyID` the study folder
///   (`train/XR_SHOULDER/patient00001/study1_positive`), the key MURA's study-level
///   evaluation aggregates image predictions by (see `Manifest.studies`);
/// - label `abnormal` (binary) from the labeled-studies file, or from the folder's
///   `_positive`/`_negative` suffix when the study is not listed; label `bodyPart`
///   (multi-class: elbow, finger, forearm, hand, humerus, shoulder, wrist), also an attribute;
/// - `officialSplit` train or validation. MURA has no sex or age.
public struct MURAOptions: Sendable, Hashable {
    /// A split to read: its image list, its study labels and the split it stands for.
    public struct SplitFiles: Sendable, Hashable {
        /// The image path list (`train_image_paths.csv`), relative to the root or absolute.
        public var imagePaths: String
        /// The study label list (`train_labeled_studies.csv`); nil takes every study's label
        /// from its folder name (`study1_positive`).
        public var labeledStudies: String?
        /// The official split of those images.
        public var split: OfficialSplit

        /// Names both files explicitly.
        public init(imagePaths: String, labeledStudies: String?, split: OfficialSplit) {
            self.imagePaths = imagePaths
            self.labeledStudies = labeledStudies
            self.split = split
        }

        /// MURA's own names: `<prefix>_image_paths.csv` and `<prefix>_labeled_studies.csv`.
        public init(prefix: String, split: OfficialSplit) {
            self.init(imagePaths: prefix + "_image_paths.csv", labeledStudies: prefix + "_labeled_studies.csv", split: split)
        }

        /// The split files around either of MURA's two files for a split (say the
        /// `train_labeled_studies.csv` a spec names): the other one is its sibling.
        public init(eitherFile path: String, split: OfficialSplit) {
            for suffix in ["_labeled_studies.csv", "_image_paths.csv"] where path.hasSuffix(suffix) {
                self.init(prefix: String(path.dropLast(suffix.count)), split: split)
                return
            }
            self.init(imagePaths: path, labeledStudies: nil, split: split)
        }
    }

    /// The splits to read (default: train and valid).
    public var splits: [SplitFiles]
    /// Where images may be (default: inside the root).
    public var imagePolicy: ImagePathPolicy

    /// Creates options; the default reads both official splits.
    public init(splits: [SplitFiles] = [.init(prefix: "train", split: .train), .init(prefix: "valid", split: .validation)],
                imagePolicy: ImagePathPolicy = .insideRoot) {
        self.splits = splits
        self.imagePolicy = imagePolicy
    }
}

/// MURA's body parts, as they appear in the folder names.
public let muraBodyParts = ["XR_ELBOW", "XR_FINGER", "XR_FOREARM", "XR_HAND", "XR_HUMERUS", "XR_SHOULDER", "XR_WRIST"]

/// Reads MURA under `root` into a manifest (see `MURAOptions`).
///
/// - Throws: `DatasetError` naming the file and line: a missing list file, a path without a
///   body-part/patient/study structure, a study label other than 0 or 1, an image whose study
///   has no label at all.
public func loadMURAManifest(root: URL, options: MURAOptions = .init()) throws(DatasetError) -> Manifest {
    var samples: [Sample] = []
    var origins: [SourceLine] = []
    let hint = "Point the MURA root (e.g. ${MURA_ROOT}) at the MURA-v1.1 folder holding train_image_paths.csv and train_labeled_studies.csv."
    for files in options.splits {
        let split = files.split
        var studyLabels: [String: LabelValue] = [:]
        if let labeledStudies = files.labeledStudies {
            let studies = try CSVTable.read(contentsOf: resolve(labeledStudies, against: root),
                                            columnNames: ["study", "label"], hint: hint)
            for row in 0..<studies.rowCount {
                let folder = trimmingSlashes(studies.string(row: row, column: 0))
                switch studies.string(row: row, column: 1) {
                case "1": studyLabels[folder] = .positive
                case "0": studyLabels[folder] = .negative
                default:
                    throw .badValue(file: studies.file, line: studies.line(ofRow: row), column: "label (second column)",
                                    value: studies.string(row: row, column: 1), expected: "1 (abnormal) or 0 (normal)")
                }
            }
        }
        let images = try CSVTable.read(contentsOf: resolve(files.imagePaths, against: root),
                                       columnNames: ["path"], hint: hint)
        for row in 0..<images.rowCount {
            let path = images.string(row: row, column: 0)
            let components = path.split(separator: "/").map(String.init)
            guard let patientIndex = components.firstIndex(where: { $0.hasPrefix("patient") }),
                  patientIndex >= 1, patientIndex + 2 < components.count,
                  muraBodyParts.contains(components[patientIndex - 1]) else {
                throw .badValue(file: images.file, line: images.line(ofRow: row), column: "path (first column)", value: path,
                                expected: "a path like MURA-v1.1/train/XR_WRIST/patient00001/study1_positive/image1.png")
            }
            let studyFolder = components[..<(patientIndex + 2)].joined(separator: "/")
            let studyFolderName = components[patientIndex + 1]
            let label: LabelValue
            if let listed = studyLabels[studyFolder] {
                label = listed
            } else if studyFolderName.hasSuffix("_positive") {
                label = .positive
            } else if studyFolderName.hasSuffix("_negative") {
                label = .negative
            } else {
                throw .badValue(file: images.file, line: images.line(ofRow: row), column: "path (first column)", value: path,
                                expected: "a study listed in \(files.labeledStudies ?? "the labeled-studies file") or a folder ending in _positive/_negative")
            }
            let bodyPart = components[patientIndex - 1]
            let imagePath = components.dropFirst().joined(separator: "/")
            samples.append(Sample(
                id: path, patientID: components[patientIndex],
                studyID: components[1..<(patientIndex + 2)].joined(separator: "/"), imagePath: imagePath,
                labels: ["abnormal": label, "bodyPart": .category(bodyPart)],
                attributes: ["bodyPart": bodyPart], officialSplit: split))
            origins.append(SourceLine(file: images.file, line: images.line(ofRow: row)))
        }
    }
    guard !samples.isEmpty else { throw .empty(file: root.path, reason: "the image path lists are empty") }
    let schema = LabelSchema([.binary("abnormal"), .multiClass("bodyPart", classes: muraBodyParts)])
    return try Manifest(dataset: "mura", root: root, schema: schema, samples: samples, source: root.path,
                        origins: origins, imagePolicy: options.imagePolicy)
}

private func trimmingSlashes(_ text: String) -> String {
    var result = Substring(text)
    while result.hasSuffix("/") { result = result.dropLast() }
    return String(result)
}

extension Manifest {
    /// Samples grouped by study, in order of each study's first sample: the aggregation key
    /// for study-level evaluation (MURA scores a study by its images' mean prediction).
    /// - Returns: pairs of study id and indices into `samples`.
    public var studies: [(studyID: String, sampleIndices: [Int])] {
        var order: [String] = []
        var members: [String: [Int]] = [:]
        for (index, sample) in samples.enumerated() {
            if members[sample.studyID] == nil { order.append(sample.studyID) }
            members[sample.studyID, default: []].append(index)
        }
        return order.map { ($0, members[$0]!) }
    }
}
