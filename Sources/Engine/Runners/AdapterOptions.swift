import Datasets
import Foundation
import Pipeline

/// Typed access to a registry entry's options (already validated by the spec schema, so a
/// wrong type here means a spec written by hand into a stage descriptor).
struct AdapterOptions {
    let stage: String
    let values: [String: ParameterValue]

    func string(_ name: String) throws -> String? {
        guard let value = values[name] else { return nil }
        guard let text = value.stringValue else { throw bad(name, value, "expected text") }
        return text
    }

    func integer(_ name: String) throws -> Int? {
        guard let value = values[name] else { return nil }
        guard let number = value.integerValue else { throw bad(name, value, "expected a whole number") }
        return number
    }

    func number(_ name: String) throws -> Double? {
        guard let value = values[name] else { return nil }
        guard let number = value.doubleValue else { throw bad(name, value, "expected a number") }
        return number
    }

    func bool(_ name: String) throws -> Bool? {
        guard let value = values[name] else { return nil }
        guard case .bool(let flag) = value else { throw bad(name, value, "expected true or false") }
        return flag
    }

    func strings(_ name: String) throws -> [String]? {
        guard let value = values[name] else { return nil }
        guard let list = value.listValue?.compactMap(\.stringValue), list.count == value.listValue?.count else {
            throw bad(name, value, "expected a list of text")
        }
        return list
    }

    func numbers(_ name: String) throws -> [Float]? {
        guard let value = values[name] else { return nil }
        guard let list = value.listValue?.compactMap(\.doubleValue), list.count == value.listValue?.count else {
            throw bad(name, value, "expected a list of numbers")
        }
        return list.map(Float.init)
    }

    func requiredPath(_ name: String) throws -> URL {
        guard let path = try string(name) else {
            throw RunnerError.badOption(stage: stage, option: name, value: "(absent)", reason: "required")
        }
        return URL(fileURLWithPath: path)
    }

    func requiredDirectory(_ name: String) throws -> URL {
        try requiredPath(name)
    }

    func bad(_ name: String, _ value: ParameterValue, _ reason: String) -> RunnerError {
        .badOption(stage: stage, option: name, value: value.canonicalJSON, reason: reason)
    }

    // MARK: Adapters

    /// `size` → image side, `bit_depth` 8 or 16 → every image at that depth (absent: a mix),
    /// `images_per_patient` → most studies per patient, `subgroup_effect` → nodule effect strength.
    func phantomOptions() throws -> PhantomOptions {
        var options = PhantomOptions()
        if let size = try integer("size") { options.imageSize = size }
        if let depth = try integer("bit_depth") {
            guard depth == 8 || depth == 16 else { throw bad("bit_depth", .integer(depth), "the phantom writes 8- or 16-bit PNGs") }
            options.sixteenBitFraction = depth == 16 ? 1 : 0
        }
        if let studies = try integer("images_per_patient") { options.maximumStudiesPerPatient = studies }
        if let effect = try number("subgroup_effect") { options.subgroupEffect = effect }
        return options
    }

    /// `train_csv`, `valid_csv`, `uncertainty` (a policy, or label → policy with `default`), `frontal_only`.
    func cheXpertOptions() throws -> CheXpertOptions {
        var files = [CheXpertOptions.LabelFile(path: try requiredPath("train_csv").path, split: .train)]
        if let valid = try string("valid_csv") { files.append(.init(path: valid, split: .validation)) }
        var defaultPolicy = UncertaintyPolicy.ignore
        var policies: [String: UncertaintyPolicy] = [:]
        if let value = values["uncertainty"] {
            func policy(_ value: ParameterValue) throws -> UncertaintyPolicy {
                guard let text = value.stringValue, let policy = UncertaintyPolicy(rawValue: text) else {
                    throw bad("uncertainty", value, "expected ones, zeros or ignore")
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
        return CheXpertOptions(defaultUncertaintyPolicy: defaultPolicy, uncertaintyPolicies: policies,
                               frontalOnly: try bool("frontal_only") ?? false, labelFiles: files)
    }

    /// `train_csv` and `valid_csv`: either of MURA's two files per split.
    func muraOptions() throws -> MURAOptions {
        var splits = [MURAOptions.SplitFiles(eitherFile: try requiredPath("train_csv").path, split: .train)]
        if let valid = try string("valid_csv") { splits.append(.init(eitherFile: valid, split: .validation)) }
        return MURAOptions(splits: splits)
    }

    /// The generic CSV adapter's column options; label kinds are inferred from the cells.
    func csvOptions(file: URL) throws -> CSVManifestOptions {
        let labels = try strings("label_columns") ?? []
        var attributes: [String: String] = [:]
        // Attribute names are lower case (`Sex` → `sex`), so the built-in sex and age subgroups apply.
        for column in try strings("attribute_columns") ?? [] { attributes[column.lowercased()] = column }
        return CSVManifestOptions(file: file.path, imageColumn: try string("image_column") ?? "path",
                                  patientColumn: try string("patient_column"), studyColumn: try string("study_column"),
                                  labels: labels.map { CSVLabelColumn.inferred($0) }, attributeColumns: attributes,
                                  splitColumn: try string("split_column"))
    }
}
