import Datasets
import Evaluation
import Foundation
import Imaging
import Pipeline
import Results
import Tensor

/// `segmentation-train`: trains a linear or UPerNet decoder on the split's training images
/// (validation images for the plateau schedule, early stopping and the kept weights), then scores
/// every test image with Dice, IoU and positivity per class. Inputs `embed`, `split`, `manifest`.
///
/// Writes `segmentation.json` (the per-image scores the metric and bootstrap stages read, and the
/// training history), `decoder.safetensors` (the kept weights under mmsegmentation's / DINOv2's
/// names) and, for the first `examples` test images, `examples/<n>.png`: the image, the ground
/// truth and the prediction side by side (the qualitative figure's panels).
///
/// With `augment: none` (the default) the decoder trains on the stored tokens, so the paper's
/// image augmentations do not apply. With `augment: paper` the backbone runs on every training
/// image of every iteration after the paper's augmentations (`SegmentationAugmentation`).
public struct SegmentationTrainRunner: StageRunner {
    public var kind: StageKind { .segmentationTrain }
    /// Version 2: stride-1 3×3 convolutions of ≥ 128 channels each way (UPerNet at the paper's
    /// widths) run Winograd F(2×2, 3×3), which rounds differently from version 1's direct
    /// products; narrower decoders (the demo's) compute the same bits as before.
    public var codeVersion: Int { 2 }
    /// Training splits every pass over the cores.
    public var threadNeed: ThreadNeed { .all }

    /// Creates the runner.
    public init() {}

    /// Trains, scores and writes the artifact.
    /// - Throws: `RunnerError` for an embedding without the tokens asked for, classes the
    ///   manifest lacks or a split that does not match; `MaskError` for unreadable masks;
    ///   `SegmentationError` for settings the trainer rejects.
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(SegmentationTrainParameters.self)
        BLASBackend.defaultThreadCount = 1  // stages run side by side: no OpenBLAS pool on top (docs/ARCHITECTURE.md)
        let split = try SplitArtifact.read(from: context.input("split").directory)
        var artifact = SegmentationArtifact(decoder: parameters.decoder.rawValue, augment: parameters.augment.rawValue)
        if let reason = split.notComputable {
            artifact.notComputable = reason
            try ArtifactJSON.write(artifact, to: context.outputDirectory, name: SegmentationArtifact.fileName)
            return StageOutputs()
        }
        let manifest = try context.manifestInput().manifest
        guard manifest.samples.count == split.sampleCount else {
            throw RunnerError.artifact(path: "split of \(context.stage.label)", problem: "the split has \(split.sampleCount) samples, the manifest \(manifest.samples.count)")
        }
        if parameters.activation == "softmax", manifest.segmentation?.exclusive == false {
            throw RunnerError.badOption(stage: context.stage.label, option: "activation", value: "softmax",
                                        reason: "the classes of \(manifest.dataset) may overlap (\(manifest.segmentation?.classes.joined(separator: ", ") ?? "")); "
                                            + "a softmax needs exclusive classes, so use activation: sigmoid")
        }
        let layers: [Int?] = parameters.upernet.map { $0.blocks.map { Optional($0) } } ?? [nil]
        let embedDirectory = try context.input("embed").directory
        func samples(_ rows: [Int]) throws -> StoredSegmentationSamples {
            try loadSegmentationSamples(embedDirectory: embedDirectory, cacheDirectory: context.cacheDirectory, manifest: manifest,
                                        rows: rows, classes: parameters.classes, maskSize: parameters.maskSize, layers: layers,
                                        stage: context.stage.label)
        }
        for (part, rows) in [("training", split.train), ("validation", split.validation), ("test", split.test)] where rows.isEmpty {
            artifact.notComputable = "the \(part) part of the split is empty (\(manifest.samples.count) samples)"
            try ArtifactJSON.write(artifact, to: context.outputDirectory, name: SegmentationArtifact.fileName)
            return StageOutputs()
        }
        let test = try samples(split.test)
        let validation = try samples(split.validation)
        let storedTrain = try samples(split.train)
        try context.checkCancellation()
        let train: any SegmentationSamples
        switch parameters.augment {
        case .none:
            train = storedTrain
        case .paper:
            train = try AugmentedSegmentationSamples(stored: storedTrain, manifest: manifest, parameters: parameters, context: context)
        }
        let configuration = SegmentationTrainingConfiguration(
            decoder: parameters.upernet.map { .upernet($0) } ?? .linear,
            activation: parameters.activation == "softmax" ? .softmax : .sigmoid,
            batchSize: parameters.batch, learningRate: parameters.learningRate, maximumIterations: parameters.iterations,
            validationInterval: parameters.validationInterval, learningRatePatience: parameters.learningRatePatience,
            earlyStoppingPatience: parameters.patience,
            crossEntropyWeight: parameters.loss == .diceAndCrossEntropy ? 1 : 0, seed: UInt64(parameters.seed))
        let trainer = try SegmentationTrainer(train: train, validation: validation, configuration: configuration, threads: context.threads)
        let began = Date()
        let result = try trainer.fit(checkingCancellation: context.checkCancellation)
        let scores = try trainer.evaluate(test)
        artifact.classes = test.classNames
        artifact.testRows = test.rows
        artifact.testIDs = test.sampleIDs
        artifact.patientIDs = test.patientIDs
        artifact.dice = scores.dice
        artifact.iou = scores.iou
        artifact.positive = scores.isPositive
        artifact.trainCount = train.count
        artifact.validationCount = validation.count
        artifact.iterations = result.iterations
        artifact.bestIteration = result.bestIteration
        artifact.bestValidationDice = result.bestValidationDice.isFinite ? result.bestValidationDice : nil
        artifact.history = result.history.map {
            SegmentationArtifact.Validation(iteration: $0.iteration, trainingLoss: $0.trainingLoss.isFinite ? $0.trainingLoss : nil,
                                            validationDice: $0.validationDice, learningRate: $0.learningRate)
        }
        artifact.seconds = Date().timeIntervalSince(began)
        let count = min(parameters.examples, test.count)
        if count > 0 {
            let shown = test.subset(Array(0..<count))
            let predicted = try trainer.predict(shown)
            artifact.examples = try SegmentationExamples.write(shown, predicted: predicted, manifest: manifest,
                                                              to: context.outputDirectory)
        }
        try ArtifactJSON.write(artifact, to: context.outputDirectory, name: SegmentationArtifact.fileName)
        try saveSafetensors(trainer.stateDictionary(), to: context.outputDirectory.appendingPathComponent(SegmentationArtifact.weightsFile),
                            metadata: ["decoder": parameters.decoder.rawValue, "classes": test.classNames.joined(separator: ",")])
        context.logger.debug("\(context.stage.label): \(train.count) train, \(validation.count) validation, \(result.iterations) iterations, best \(result.bestIteration)")
        return StageOutputs()
    }
}

/// The `segmentation-train` artifact (`segmentation.json`).
struct SegmentationArtifact: Codable {
    static let fileName = "segmentation.json"
    static let weightsFile = "decoder.safetensors"
    static let examplesFolder = "examples"

    /// One validation pass.
    struct Validation: Codable {
        var iteration: Int
        var trainingLoss: Double?
        var validationDice: Double
        var learningRate: Double
    }

    var decoder: String
    var augment: String
    /// Class names, in plane order.
    var classes: [String] = []
    /// Test images: manifest rows, ids, patients.
    var testRows: [Int] = []
    var testIDs: [String] = []
    var patientIDs: [String] = []
    /// Per test image, per class.
    var dice: [[Double]] = []
    var iou: [[Double]] = []
    var positive: [[Bool]] = []
    var trainCount = 0
    var validationCount = 0
    var iterations = 0
    var bestIteration = 0
    var bestValidationDice: Double?
    var history: [Validation] = []
    var seconds: Double = 0
    /// Example panels (`examples/<n>.png`) with the sample each shows.
    var examples: [SegmentationExamples.Entry] = []
    /// Why nothing was trained.
    var notComputable: String?

    static func read(from directory: URL) throws -> SegmentationArtifact {
        try ArtifactJSON.read(SegmentationArtifact.self, from: directory, name: fileName)
    }
}
