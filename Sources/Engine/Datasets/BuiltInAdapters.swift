import Datasets
import Foundation
import Pipeline

/// `phantom`: procedurally generated radiographs (docs/PHANTOM.md), written into the artifact
/// itself, so the cache holds the dataset and nothing else is needed; `masks: true` adds a
/// label map per image (lungs, heart, bones, ribs, clavicles, marker, nodules).
public struct PhantomAdapter: DatasetAdapter {
    public var name: String { "phantom" }
    public var summary: String { "procedurally generated phantom radiographs with known labels and a documented subgroup effect" }
    /// Generated from its options alone.
    public var generatesData: Bool { true }
    public var options: [SchemaField] {
        [
            SchemaField("count", .integer(.atLeastOne), required: true),
            SchemaField("seed", .integer(.nonNegative)),
            SchemaField("size", .integer(NumberRange(lower: 16, upper: 4096))),
            SchemaField("bit_depth", .integer(NumberRange(lower: 8, upper: 16))),
            SchemaField("images_per_patient", .integer(.atLeastOne)),
            SchemaField("subgroup_effect", .number(.nonNegative)),
            SchemaField("chest_fraction", .number(.unitFraction)),
            SchemaField("masks", .boolean),
        ]
    }

    /// Creates the adapter.
    public init() {}

    public func check(_ options: [String: ParameterValue]) -> [SpecProblem] {
        guard let depth = options["bit_depth"]?.integerValue, depth != 8, depth != 16 else { return [] }
        return [SpecProblem(at: "bit_depth", "the phantom writes 8- or 16-bit PNGs, not \(depth)-bit")]
    }

    public func fields(_ options: [String: ParameterValue]) throws(SpecProblem) -> DatasetFields? {
        DatasetFields(labels: phantomLabelSchema.names, attributes: [AttributeName.sex, AttributeName.age, AttributeName.view, "bitDepth"],
                      masks: options["masks"] == .bool(true) ? phantomMaskClasses : [])
    }

    public func manifest(_ options: ComponentOptions, context: DatasetContext) throws -> Manifest {
        var phantom = PhantomOptions()
        if let size = try options.integer("size") { phantom.imageSize = size }
        if let depth = try options.integer("bit_depth") {
            guard depth == 8 || depth == 16 else { throw options.bad("bit_depth", .integer(depth), "the phantom writes 8- or 16-bit PNGs") }
            phantom.sixteenBitFraction = depth == 16 ? 1 : 0
        }
        if let studies = try options.integer("images_per_patient") { phantom.maximumStudiesPerPatient = studies }
        if let effect = try options.number("subgroup_effect") { phantom.subgroupEffect = effect }
        if let chest = try options.number("chest_fraction") { phantom.chestFraction = chest }
        return try generatePhantomDataset(at: context.dataFolder, count: try options.integer("count") ?? 1,
                                          seed: UInt64(try options.integer("seed") ?? 0), options: phantom,
                                          masks: try options.bool("masks") ?? false)
    }
}

/// `chexpert`: CheXpert's `train.csv` (and `valid.csv`), with an uncertainty policy per label and
/// optionally frontal images only.
public struct CheXpertAdapter: DatasetAdapter {
    public var name: String { "chexpert" }
    public var summary: String { "CheXpert label files (train.csv, valid.csv): 14 findings, uncertainty policy per label" }
    static let policy = SchemaType.string(choices: UncertaintyPolicy.allCases.map(\.rawValue))
    public var options: [SchemaField] {
        [
            SchemaField("root", .path(.dataRoot), required: true),
            SchemaField("train_csv", .path(.file), required: true),
            SchemaField("valid_csv", .path(.file)),
            SchemaField("uncertainty", .anyOf([Self.policy, .dictionary(Self.policy, defines: nil)],
                                              summary: "ones|zeros|ignore or a mapping label → policy (with `default`)")),
            SchemaField("frontal_only", .boolean),
        ] + ImagePathOptions.fields
    }

    /// Creates the adapter.
    public init() {}

    public func check(_ options: [String: ParameterValue]) -> [SpecProblem] {
        guard let map = options["uncertainty"]?.objectValue else { return [] }
        let known = Set(CheXpertOptions.allFindings + ["default"])
        return map.keys.sorted().filter { !known.contains($0) }.map {
            SpecProblem(at: "uncertainty.\($0)", "\"\($0)\" is not a CheXpert finding (nor `default`); findings: \(CheXpertOptions.allFindings.joined(separator: ", "))")
        }
    }

    public func fields(_ options: [String: ParameterValue]) throws(SpecProblem) -> DatasetFields? {
        DatasetFields(labels: CheXpertOptions.allFindings, attributes: [AttributeName.sex, AttributeName.age, AttributeName.view, "projection"])
    }

    public func manifest(_ options: ComponentOptions, context: DatasetContext) throws -> Manifest {
        var files = [CheXpertOptions.LabelFile(path: try options.requiredPath("train_csv").path, split: .train)]
        if let valid = try options.string("valid_csv") { files.append(.init(path: valid, split: .validation)) }
        var defaultPolicy = UncertaintyPolicy.ignore
        var policies: [String: UncertaintyPolicy] = [:]
        if let value = options.values["uncertainty"] {
            func policy(_ value: ParameterValue) throws -> UncertaintyPolicy {
                guard let text = value.stringValue, let policy = UncertaintyPolicy(rawValue: text) else {
                    throw options.bad("uncertainty", value, "expected ones, zeros or ignore")
                }
                return policy
            }
            if let map = value.objectValue {
                for (label, entry) in map {
                    if label == "default" { defaultPolicy = try policy(entry) } else { policies[label] = try policy(entry) }
                }
            } else {
                defaultPolicy = try policy(value)
            }
        }
        var settings = CheXpertOptions(defaultUncertaintyPolicy: defaultPolicy, uncertaintyPolicies: policies,
                                       frontalOnly: try options.bool("frontal_only") ?? false, labelFiles: files)
        settings.imagePolicy = try ImagePathOptions.policy(options)
        return try loadCheXpertManifest(root: try options.requiredPath("root"), options: settings)
    }
}

/// `mura`: MURA's image path lists and labelled studies (study-level labels).
public struct MURAAdapter: DatasetAdapter {
    public var name: String { "mura" }
    public var summary: String { "MURA musculoskeletal radiographs: study-level abnormal label and body part" }
    public var options: [SchemaField] {
        [
            SchemaField("root", .path(.dataRoot), required: true),
            SchemaField("train_csv", .path(.file), required: true),
            SchemaField("valid_csv", .path(.file)),
        ] + ImagePathOptions.fields
    }

    /// Creates the adapter.
    public init() {}

    public func fields(_ options: [String: ParameterValue]) throws(SpecProblem) -> DatasetFields? {
        DatasetFields(labels: ["abnormal", "bodyPart"], attributes: ["bodyPart"])
    }

    public func manifest(_ options: ComponentOptions, context: DatasetContext) throws -> Manifest {
        var splits = [MURAOptions.SplitFiles(eitherFile: try options.requiredPath("train_csv").path, split: .train)]
        if let valid = try options.string("valid_csv") { splits.append(.init(eitherFile: valid, split: .validation)) }
        return try loadMURAManifest(root: try options.requiredPath("root"),
                                    options: MURAOptions(splits: splits, imagePolicy: try ImagePathOptions.policy(options)))
    }
}

/// `nih`: NIH ChestX-ray14's `Data_Entry_2017*.csv`: 14 findings from the pipe-separated
/// `Finding Labels`, sex, age, view position, patient and follow-up (the study); optionally the
/// official `train_val_list.txt` / `test_list.txt`. Images are found under `root` by name.
public struct NIHAdapter: DatasetAdapter {
    public var name: String { "nih" }
    public var summary: String { "NIH ChestX-ray14 (Data_Entry_2017*.csv): 14 findings, sex, age, view, official split lists" }
    public var options: [SchemaField] {
        [
            SchemaField("data_entry", .path(.file), required: true),
            SchemaField("root", .path(.dataRoot), required: true),
            SchemaField("train_val_list", .path(.file)),
            SchemaField("test_list", .path(.file)),
            SchemaField("findings", .list(.string(choices: NIHOptions.allFindings + [NIHOptions.noFinding]), minimumCount: 1)),
            SchemaField("check_images", .boolean),
            SchemaField("follow_symlinks", .boolean),
        ]
    }

    /// Creates the adapter.
    public init() {}

    public func fields(_ options: [String: ParameterValue]) throws(SpecProblem) -> DatasetFields? {
        let findings = options["findings"]?.listValue?.compactMap(\.stringValue) ?? NIHOptions.allFindings
        return DatasetFields(labels: findings, attributes: [AttributeName.sex, AttributeName.age, AttributeName.view, "projection"])
    }

    public func manifest(_ options: ComponentOptions, context: DatasetContext) throws -> Manifest {
        var settings = NIHOptions(dataEntry: try options.requiredPath("data_entry").path,
                                  findings: try options.strings("findings") ?? NIHOptions.allFindings,
                                  trainValList: try options.string("train_val_list"), testList: try options.string("test_list"),
                                  checkImages: try options.bool("check_images") ?? false)
        settings.imagePolicy = try ImagePathOptions.policy(options)
        return try loadNIHManifest(root: try options.requiredPath("root"), options: settings)
    }
}

/// The options of the adapters that read image paths from label files: by default every image
/// must be inside the dataset's root, so that a shared spec or label file cannot make xrbench
/// read other files (docs/DATASETS.md).
enum ImagePathOptions {
    static let fields = [
        SchemaField("allow_outside_root", .boolean),
        SchemaField("follow_symlinks", .boolean),
    ]

    /// The policy the options give (inside the root when they say nothing).
    static func policy(_ options: ComponentOptions) throws -> ImagePathPolicy {
        ImagePathPolicy(allowsOutsideRoot: try options.bool("allow_outside_root") ?? false,
                        followsSymlinksOutOfRoot: try options.bool("follow_symlinks") ?? false)
    }
}
