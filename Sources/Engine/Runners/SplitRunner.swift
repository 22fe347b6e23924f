import Datasets
import Evaluation
import Foundation
import Pipeline
import Results

/// `split`: patient-disjoint train/validation/test rows of a manifest for one fraction, seed
/// and training subgroup (`split.json`), computed by `Evaluation.makeSplit`.
///
/// It reads only the manifest, so every backbone shares it. The test part is every test
/// patient's images (the metric stages apply test subgroups), so it is the same for every
/// training subgroup and fraction of a seed. A training subgroup that leaves the training or
/// validation part empty is not an error: the artifact says why nothing can be trained, and the
/// stages downstream record that as a not-computable result.
///
/// The artifact also carries the task labels of every sample, so the probe (whose inputs are
/// the embeddings and this split) needs no manifest.
///
/// A few-shot split (`shots`) keeps `shots` training samples per class of each label (per value
/// of a binary label), from distinct patients, drawn from the whole training part with the
/// split's seed (`Evaluation.drawFewShot`); validation and test stay as they are. Too few
/// patients of a class makes the split not computable, with the reason.
public struct SplitRunner: StageRunner {
    /// `split`.
    public var kind: StageKind { .split }
    /// Version 1.
    public var codeVersion: Int { 1 }

    /// Creates the runner.
    public init() {}

    /// Splits the manifest and writes `split.json`.
    /// - Throws: `RunnerError.label` for a label the manifest lacks, `EvaluationError` for bad
    ///   data (inconsistent official parts, bad ratios).
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(SplitParameters.self)
        let manifest = try context.manifestInput().manifest
        let definitions = try parameters.stratifyLabels.map { name -> LabelDefinition in
            guard let definition = manifest.schema[name] else {
                throw RunnerError.label(stage: context.stage.label, label: name,
                                        problem: "the \(manifest.dataset) manifest has no such label (it has \(manifest.schema.names.joined(separator: ", ")))")
            }
            return definition
        }
        // One stratification column per binary label and per class of a multi-class label.
        var columns: [String] = []
        for definition in definitions {
            columns += definition.kind == .binary ? [definition.name] : definition.classes.map { "\(definition.name)=\($0)" }
        }
        // Each row keeps only the attributes the training filter reads (the test filter is
        // `all`): a whole dictionary per sample took 10 MB for 20,000 phantom images.
        let trainFilter = try Subgroups.filter(parameters.trainFilter, stage: context.stage.label)
        let filterAttributes = trainFilter.attributeNames
        let rows = manifest.samples.map { sample in
            let attributes = filterAttributes.isEmpty ? [:] : Subgroups.attributes(of: sample).filter { filterAttributes.contains($0.key) }
            var values: [Double] = []
            for definition in definitions {
                let value = sample.label(definition.name)
                switch definition.kind {
                case .binary:
                    values.append(value.binaryTarget.map(Double.init) ?? .nan)
                case .multiClass:
                    if case .category(let name) = value {
                        values += definition.classes.map { $0 == name ? 1 : 0 }
                    } else {
                        values += definition.classes.map { _ in .nan }
                    }
                }
            }
            return ManifestRow(sampleID: sample.id, patientID: sample.patientID, labels: values,
                               attributes: attributes, officialPart: sample.officialSplit.map(SplitArtifact.part))
        }
        let test = max(0, 1 - parameters.validationRatio - parameters.testRatio)
        let configuration = SplitConfiguration(
            seed: UInt64(parameters.seed), fraction: parameters.fraction,
            trainFilter: trainFilter, testFilter: .all,
            ratios: [test, parameters.validationRatio, parameters.testRatio])
        var artifact = SplitArtifact(sampleCount: manifest.samples.count, labels: definitions,
                                     values: Dictionary(uniqueKeysWithValues: definitions.map { definition in
                                         (definition.name, manifest.samples.map { $0.label(definition.name).canonicalText })
                                     }))
        do {
            let split = try makeSplit(rows: rows, encoding: .multiLabel(columns), configuration: configuration)
            artifact.train = split.train
            artifact.validation = split.validation
            artifact.test = split.test
            artifact.support = split.support
            artifact.fractionPatientCount = split.fractionPatientCount
            artifact.availablePatientCount = split.availablePatientCount
            artifact.usedOfficialSplit = split.usedOfficialSplit
            if let shots = parameters.shots {
                artifact.shots = shots
                artifact.fewShotPool = split.train.count
                artifact.train = try drawFewShot(groups: Self.fewShotGroups(definitions, train: split.train, manifest: manifest),
                                                 patientIDs: manifest.samples.map(\.patientID), shots: shots, seed: UInt64(parameters.seed))
            }
        } catch let error as EvaluationError {
            switch error {
            case .insufficientShots:
                artifact.train = []
                artifact.notComputable = "\(error)"
            case .emptySubgroup, .empty:
                artifact.notComputable = "training subgroup \(parameters.trainFilter.name): \(error)"
            default:
                throw error
            }
        }
        try ArtifactJSON.write(artifact, to: context.outputDirectory, name: SplitArtifact.fileName)
        return StageOutputs()
    }

    /// The few-shot groups of the training rows: positives and negatives of each binary label,
    /// the samples of each class of a multi-class label, in label order.
    static func fewShotGroups(_ definitions: [LabelDefinition], train: [Int], manifest: Manifest) -> [FewShotGroup] {
        var groups: [FewShotGroup] = []
        for definition in definitions {
            let values = train.map { (row: $0, value: manifest.samples[$0].label(definition.name)) }
            switch definition.kind {
            case .binary:
                for target in [1, 0] {
                    groups.append(FewShotGroup(name: "\(definition.name)=\(target)", rows: values.filter { $0.value.binaryTarget == target }.map(\.row)))
                }
            case .multiClass:
                for name in definition.classes {
                    groups.append(FewShotGroup(name: "\(definition.name)=\(name)", rows: values.filter {
                        if case .category(let value) = $0.value { return value == name }
                        return false
                    }.map(\.row)))
                }
            }
        }
        return groups
    }
}

/// The `split` artifact (`split.json`).
struct SplitArtifact: Codable {
    static let fileName = "split.json"

    /// Samples in the manifest.
    var sampleCount: Int
    /// The task labels' definitions.
    var labels: [LabelDefinition]
    /// Per label, the canonical value text (`LabelValue.canonicalText`) of every sample in manifest order.
    var values: [String: [String]]
    /// Manifest row indices of each part, ascending.
    var train: [Int] = []
    var validation: [Int] = []
    var test: [Int] = []
    /// Per stratification column (a binary label, or `label=class`): positives and negatives in training.
    var support: [LabelSupport] = []
    var fractionPatientCount = 0
    var availablePatientCount = 0
    var usedOfficialSplit = false
    /// Few-shot: samples per class, and how many training samples they were drawn from (the
    /// `support` counts describe that whole training part).
    var shots: Int?
    var fewShotPool: Int?
    /// Why nothing can be trained on this split, when that is so.
    var notComputable: String?

    static func part(_ split: OfficialSplit) -> SplitPart {
        switch split {
        case .train: return .train
        case .validation: return .validation
        case .test: return .test
        }
    }

    static func read(from directory: URL) throws -> SplitArtifact {
        try ArtifactJSON.read(SplitArtifact.self, from: directory, name: fileName)
    }
}
