import Datasets
import Evaluation
import Foundation
import Pipeline
import Results
import Tensor

/// `probe`: trains the head on the split's training part of the embeddings (validation part for
/// the learning-rate plateau, early stopping and the kept weights), then scores the whole test
/// part. Inputs `embed` and `split`; heads that read patch tokens also `manifest` (for masks).
///
/// Multi-label probes train on the samples whose every trained label is known (uncertain and
/// missing values are left out, as for the phantom findings of non-chest images); a label the
/// training set holds only one class of is not trained, and its results are recorded as not
/// computable with the reason. Multi-class probes take exactly one label (a binary label is
/// the two classes `0` and `1`) and train on the samples where it is known.
public struct ProbeRunner: StageRunner {
    /// `probe`.
    public var kind: StageKind { .probe }
    /// Version 5: a segmenting patch head's artifact carries its test masks' per-image Dice,
    /// IoU and positivity and the predicted masks (`ProbeSegmentation`), which `metric` stages
    /// score as `dice`, `iou` and `dice-pos`; and patch heads of 128 or more channels run their
    /// 3×3 convolutions by Winograd F(2×2, 3×3), which rounds differently. (Version 4: the training curve that a `metric`
    /// stage records; 3: dropout masks hashed from (feature, sample) positions; 1 drew them in
    /// sequence, 2 hashed sample-major positions.)
    public var codeVersion: Int { 5 }

    /// The most bytes of pooled feature rows (training, validation and test together) a probe
    /// holds in memory; above it, the rows are read from the shards batch by batch
    /// (`EmbeddingRows.rows(of:_:)`), so a probe's memory stays bounded whatever the dataset
    /// size. Both give the same numbers; reading costs ~0.5 µs per row per epoch (what it costs
    /// a linear and an MLP probe: `make bench BENCH=store`, README).
    public let heldRowBytes: Int

    /// Creates the runner.
    /// - Parameter heldRowBytes: see `heldRowBytes` (default 8 MiB: 2,000 images of 768 CLS
    ///   floats are 6 MB; CheXpert's 224k are 690 MB).
    public init(heldRowBytes: Int = 8 << 20) {
        self.heldRowBytes = heldRowBytes
    }

    /// Trains and scores; writes `probe.json` and `head.safetensors`.
    /// - Throws: `RunnerError` for labels that do not fit the target or inputs that do not
    ///   match, `EvaluationError` for bad embeddings (NaN) or settings.
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(ProbeParameters.self)
        BLASBackend.defaultThreadCount = 1  // stages run side by side: no OpenBLAS pool on top (docs/ARCHITECTURE.md)
        let split = try SplitArtifact.read(from: context.input("split").directory)
        var artifact = ProbeArtifact(target: parameters.target.rawValue, outputs: [], labels: parameters.labels)
        if let reason = split.notComputable {
            artifact.notComputable = reason
            try ArtifactJSON.write(artifact, to: context.outputDirectory, name: ProbeArtifact.fileName)
            return StageOutputs()
        }
        let embedDirectory = try context.input("embed").directory
        let embedding = try EmbeddingRows(embedDirectory: embedDirectory, cacheDirectory: context.cacheDirectory)
        guard embedding.info.ids.count == split.sampleCount else {
            throw RunnerError.artifact(path: embedDirectory.path, problem: "embeddings hold \(embedding.info.ids.count) samples, the split's manifest \(split.sampleCount)")
        }
        // Patch heads read token grids (and masks) instead of pooled rows.
        let readsTokens = parameters.features == .patch
        let selection = ProbeFeatures(rawValue: parameters.features.rawValue) ?? .cls
        let width = readsTokens ? 0 : embedding.width(selection)
        let encoding = try ProbeEncoding(parameters: parameters, split: split, stage: context.stage.label)
        artifact.outputs = encoding.outputs
        artifact.untrainable = encoding.untrainable
        if let reason = encoding.notComputable {
            artifact.notComputable = reason
            try ArtifactJSON.write(artifact, to: context.outputDirectory, name: ProbeArtifact.fileName)
            return StageOutputs()
        }
        let trainRows = split.train.filter(encoding.isKnown), validationRows = split.validation.filter(encoding.isKnown)
        // Small row sets are held; large ones stay in the shards and are read batch by batch.
        let streams = (trainRows.count + validationRows.count + split.test.count) * width * MemoryLayout<Float>.size > heldRowBytes
        func features(_ rows: [Int]) throws -> FeatureRows {
            if readsTokens { return .values([]) }
            return streams ? try embedding.rows(of: rows, selection) : .values(try embedding.features(of: rows, selection))
        }
        func data(_ rows: [Int]) throws -> ProbeData {
            ProbeData(rows: try features(rows), width: width,
                      targets: rows.flatMap { encoding.trainingTargets(row: $0) },
                      sampleIDs: rows.map { embedding.info.ids[$0] })
        }
        let probeTask: ProbeTask = parameters.target == .multiclass ? .multiClass(encoding.outputs) : .multiLabel(encoding.outputs)
        guard let head = context.registry.heads[parameters.head.kind] else {
            throw RunnerError.unknownKind(what: "head kind", kind: parameters.head.kind, known: context.registry.heads.keys.sorted())
        }
        let testRows = try features(split.test)
        var tokens: HeadTokens?
        var testTokens: StoredPatchTokens?
        if readsTokens {
            let stored = try EmbeddingTokens(embedDirectory: embedDirectory, cacheDirectory: context.cacheDirectory)
            let manifest = context.inputs["manifest"] == nil ? nil : try context.manifestInput().manifest
            let classes = parameters.maskClasses
            tokens = HeadTokens(train: try StoredPatchTokens(tokens: stored, rows: trainRows, manifest: manifest, classes: classes),
                                validation: try StoredPatchTokens(tokens: stored, rows: validationRows, manifest: manifest, classes: classes),
                                test: try StoredPatchTokens(tokens: stored, rows: split.test, manifest: manifest, classes: classes))
            testTokens = tokens?.test as? StoredPatchTokens
        }
        try context.checkCancellation()
        let fit = try head.fit(HeadProblem(train: try data(trainRows), validation: try data(validationRows), test: testRows,
                                           task: probeTask, seed: UInt64(parameters.seed), tokens: tokens),
                               settings: parameters.head.settings, context: context)
        try context.checkCancellation()
        artifact.testIndices = split.test
        artifact.testIDs = split.test.map { embedding.info.ids[$0] }
        artifact.scores = fit.probabilities.map(Double.init)
        artifact.targets = split.test.flatMap { encoding.testTargets(row: $0) }
        artifact.trainCount = trainRows.count
        artifact.validationCount = validationRows.count
        artifact.epochs = fit.epochs
        artifact.bestEpoch = fit.bestEpoch
        artifact.stoppedEarly = fit.stoppedEarly
        artifact.curve = fit.curve
        artifact.validationMetric = fit.validationMetric
        if let masks = fit.masks {
            guard let testTokens, masks.scores.count == split.test.count, masks.classes == testTokens.maskClasses else {
                throw RunnerError.artifact(path: context.stage.label, problem: "the head's test masks do not fit the test samples and mask classes")
            }
            artifact.segmentation = ProbeSegmentation(classes: testTokens.maskClassNames, predictions: masks)
            try ProbeSegmentation.writeMasks(masks.predicted, to: context.outputDirectory)
        }
        try ArtifactJSON.write(artifact, to: context.outputDirectory, name: ProbeArtifact.fileName)
        if !fit.weights.isEmpty {
            try saveSafetensors(fit.weights, to: context.outputDirectory.appendingPathComponent(ProbeArtifact.weightsFile), metadata: fit.metadata)
        }
        context.logger.debug("\(context.stage.label): \(trainRows.count) train, \(validationRows.count) validation, best epoch \(fit.bestEpoch) of \(fit.epochs)")
        return StageOutputs()
    }
}

/// How a split's label values become probe targets.
struct ProbeEncoding {
    /// Output names: trained labels or classes.
    var outputs: [String] = []
    /// Labels left out of training, with why.
    var untrainable: [String: String] = [:]
    /// Why nothing can be trained.
    var notComputable: String?
    private var multiclass = false
    /// Per output label (multi-label) or for the one label (multi-class): values per sample.
    private var columns: [[String]] = []
    private var classes: [String] = []

    init(parameters: ProbeParameters, split: SplitArtifact, stage: String) throws {
        let definitions = try parameters.labels.map { name -> LabelDefinition in
            guard let definition = split.labels.first(where: { $0.name == name }), split.values[name] != nil else {
                throw RunnerError.artifact(path: "split", problem: "the split carries no values of label \(name)")
            }
            return definition
        }
        let fraction = "the training set (\(split.train.count) samples)"
        switch parameters.target {
        case .multiclass:
            guard definitions.count == 1, let definition = definitions.first else {
                throw RunnerError.label(stage: stage, label: parameters.labels.joined(separator: ", "),
                                        problem: "a multi-class task takes exactly one label; list the others as separate tasks or use target: multilabel")
            }
            multiclass = true
            classes = definition.kind == .binary ? ["0", "1"] : definition.classes
            columns = [split.values[definition.name]!]
            outputs = classes
            let present = Set(split.train.compactMap { classIndex(row: $0) })
            if present.count < 2 {
                notComputable = "\(fraction) holds \(present.count) class\(present.count == 1 ? "" : "es") of \(definition.name); a classifier needs two"
            }
        case .multilabel:
            for definition in definitions where definition.kind != .binary {
                throw RunnerError.label(stage: stage, label: definition.name,
                                        problem: "is multi-class (\(definition.classes.joined(separator: ", "))); give it its own task with target: multiclass")
            }
            for definition in definitions {
                let values = split.values[definition.name]!
                let known = split.train.compactMap { LabelValue(canonicalText: values[$0])?.binaryTarget }
                let positives = known.filter { $0 == 1 }.count
                if positives == 0 || positives == known.count {
                    untrainable[definition.name] = "\(fraction) has \(positives) positive and \(known.count - positives) negative samples of \(definition.name)"
                } else {
                    outputs.append(definition.name)
                    columns.append(values)
                }
            }
            if outputs.isEmpty {
                notComputable = "no label is trainable: " + untrainable.keys.sorted().map { untrainable[$0]! }.joined(separator: "; ")
            } else if !split.train.contains(where: isKnown) {
                notComputable = "\(fraction) has no sample with every label of \(outputs.joined(separator: ", ")) known"
            } else if !split.validation.contains(where: isKnown) {
                notComputable = "the validation set (\(split.validation.count) samples) has no sample with every label of \(outputs.joined(separator: ", ")) known"
            }
        }
        if multiclass, notComputable == nil, !split.validation.contains(where: isKnown) {
            notComputable = "the validation set (\(split.validation.count) samples) has no sample with a known \(parameters.labels[0])"
        }
    }

    private func binary(row: Int, column: Int) -> Int? {
        LabelValue(canonicalText: columns[column][row])?.binaryTarget
    }

    private func classIndex(row: Int) -> Int? {
        guard let value = LabelValue(canonicalText: columns[0][row]) else { return nil }
        switch value {
        case .category(let name): return classes.firstIndex(of: name)
        case .positive, .negative: return classes.firstIndex(of: String(value.binaryTarget!))
        default: return nil
        }
    }

    /// Whether a sample has every target the probe trains on.
    func isKnown(_ row: Int) -> Bool {
        multiclass ? classIndex(row: row) != nil : columns.indices.allSatisfy { binary(row: row, column: $0) != nil }
    }

    /// Training targets of a known sample: the class index, or one 0/1 per output.
    func trainingTargets(row: Int) -> [Double] {
        multiclass ? [Double(classIndex(row: row)!)] : columns.indices.map { Double(binary(row: row, column: $0)!) }
    }

    /// Test truths per output (one-hot for multi-class), nil where unknown.
    func testTargets(row: Int) -> [Double?] {
        if multiclass {
            guard let index = classIndex(row: row) else { return classes.map { _ in nil } }
            return classes.indices.map { $0 == index ? 1 : 0 }
        }
        return columns.indices.map { binary(row: row, column: $0).map(Double.init) }
    }
}
