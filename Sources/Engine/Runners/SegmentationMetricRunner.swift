import Datasets
import Evaluation
import Foundation
import Pipeline
import Results

/// `segmentation-metric`: the test scores of a `segmentation-train` stage. Inputs `train`, `manifest`.
///
/// Records `dice`, `iou` and `dice-pos` per class (label = the class) and their means over the
/// classes (label `""`), each the mean over test images (DicePos: over the images whose ground
/// truth has the class; a class no test image has is not computable there), and one
/// `segmentation_score` row per test image and class.
public struct SegmentationMetricRunner: StageRunner {
    public var kind: StageKind { .segmentationMetric }
    /// Version 1.
    public var codeVersion: Int { 1 }

    /// Creates the runner.
    public init() {}

    /// Scores and returns the rows to record.
    /// - Throws: `RunnerError.artifact` for a training artifact that does not fit its manifest.
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(SegmentationMetricParameters.self)
        let artifact = try SegmentationArtifact.read(from: context.input("train").directory)
        func row(_ label: String, _ metric: SegmentationMetricName, _ value: Double?, count: Int, note: String?) -> ResultRow {
            ResultRow(coordinates: context.resultCoordinates(label: label), metric: metric.rawValue, value: value,
                      note: value == nil ? (note ?? "not computable") : note, sampleCount: count)
        }
        if let reason = artifact.notComputable {
            return StageOutputs(results: SegmentationMetricName.allCases.map { row("", $0, nil, count: 0, note: reason) })
        }
        try artifact.validate(stage: context.stage.label)
        let scores = SegmentationMeans(artifact)
        let images = artifact.testIDs.count
        var results: [ResultRow] = []
        let deviation = artifact.augment == SegmentationAugmentKind.none.rawValue
            ? "decoder trained on cached tokens without the paper's augmentations" : nil
        for (index, name) in artifact.classes.enumerated() {
            let positives = artifact.positive.filter { $0[index] }.count
            results.append(row(name, .dice, scores.meanDicePerClass[index], count: images, note: nil))
            results.append(row(name, .iou, scores.meanIoUPerClass[index], count: images, note: nil))
            let dicePositive = scores.dicePositivePerClass[index]
            results.append(row(name, .dicePositive, dicePositive, count: positives,
                               note: dicePositive == nil ? "no test image has a \(name) pixel" : nil))
        }
        results.append(row("", .dice, scores.meanDice, count: images, note: deviation))
        results.append(row("", .iou, scores.meanIoU, count: images, note: deviation))
        results.append(row("", .dicePositive, scores.meanDicePositive, count: artifact.positive.filter { $0.contains(true) }.count,
                           note: scores.meanDicePositive == nil ? "no test image has a pixel of any class" : deviation))
        try copyExamples(artifact, from: context.input("train").directory, to: context.outputDirectory)
        var scoreRows: [SegmentationScoreRow] = []
        if parameters.recordScores {
            for image in 0..<images {
                for (index, name) in artifact.classes.enumerated() {
                    scoreRows.append(SegmentationScoreRow(sampleID: artifact.testIDs[image], patientID: artifact.patientIDs[image],
                                                          className: name, dice: artifact.dice[image][index],
                                                          iou: artifact.iou[image][index], positive: artifact.positive[image][index]))
                }
            }
        }
        return StageOutputs(results: results, segmentationScores: scoreRows)
    }
}

/// `segmentation-bootstrap`: replicates of the mean Dice (over classes of the per-class mean over
/// images) resampling test patients, all of a drawn patient's images together. Inputs `train`,
/// `manifest`. Records one replicate row per replicate and `dice-ci-low` / `dice-ci-high` (95%
/// percentile interval) at label `""`.
public struct SegmentationBootstrapRunner: StageRunner {
    public var kind: StageKind { .segmentationBootstrap }
    /// Version 1.
    public var codeVersion: Int { 1 }

    /// Creates the runner.
    public init() {}

    /// Resamples and returns the rows to record.
    /// - Throws: `RunnerError.artifact` for a training artifact that does not fit; `EvaluationError`
    ///   for an invalid replicate count.
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(SegmentationBootstrapParameters.self)
        let artifact = try SegmentationArtifact.read(from: context.input("train").directory)
        let coordinates = context.resultCoordinates(label: "")
        let metric = SegmentationMetricName.dice.rawValue
        if let reason = artifact.notComputable {
            return StageOutputs(results: ["low", "high"].map {
                ResultRow(coordinates: coordinates, metric: "\(metric)-ci-\($0)", value: nil, note: reason, sampleCount: 0)
            })
        }
        try artifact.validate(stage: context.stage.label)
        let dice = artifact.dice, classes = artifact.classes.count
        let resampler = try BootstrapResampler(sampleCount: dice.count, patientIDs: artifact.patientIDs, seed: UInt64(parameters.seed))
        let result = try bootstrap(resampler: resampler, configuration: BootstrapConfiguration(replicates: parameters.replicates,
                                                                                             seed: UInt64(parameters.seed))) { images in
            var total = 0.0
            for c in 0..<classes { total += images.reduce(0.0) { $0 + dice[$1][c] } / Double(images.count) }
            return .value(total / Double(classes))
        }
        let note = "95% percentile interval of \(result.computableReplicates.count) replicates, resampling \(resampler.patientCount) patients"
        let rows = [("low", result.interval?.lowerBound), ("high", result.interval?.upperBound)].map { bound, value in
            ResultRow(coordinates: coordinates, metric: "\(metric)-ci-\(bound)", value: value, note: note, sampleCount: dice.count)
        }
        let replicates = result.replicates.enumerated().map {
            BootstrapReplicateRow(coordinates: coordinates, metric: metric, replicate: $0.offset, value: $0.element.value)
        }
        return StageOutputs(results: rows, bootstrapReplicates: replicates)
    }
}

extension SegmentationMetricRunner {
    /// The examples file the qualitative figure reads from this stage's artifact.
    static let examplesFile = "examples.json"

    /// What `examples.json` holds: the classes (in the panels' colour order) and the panels.
    struct ExampleList: Codable {
        var classes: [String]
        var examples: [SegmentationExamples.Entry]
    }

    /// Copies the trained stage's example panels beside the recorded scores, so that
    /// `xrbench tables` finds them from the stage key the results carry.
    private func copyExamples(_ artifact: SegmentationArtifact, from source: URL, to directory: URL) throws {
        guard !artifact.examples.isEmpty else { return }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent(SegmentationArtifact.examplesFolder),
                                                withIntermediateDirectories: true)
        for example in artifact.examples {
            try FileManager.default.copyItem(at: source.appendingPathComponent(example.file), to: directory.appendingPathComponent(example.file))
        }
        try ArtifactJSON.write(ExampleList(classes: artifact.classes, examples: artifact.examples), to: directory, name: Self.examplesFile)
    }
}

extension SegmentationArtifact {
    /// Every per-image list has one entry per test image and class.
    func validate(stage: String) throws {
        let images = testIDs.count
        guard patientIDs.count == images, dice.count == images, iou.count == images, positive.count == images,
              !classes.isEmpty, images > 0,
              dice.allSatisfy({ $0.count == classes.count }), iou.allSatisfy({ $0.count == classes.count }),
              positive.allSatisfy({ $0.count == classes.count }) else {
            throw RunnerError.artifact(path: "segmentation-train input of \(stage)",
                                       problem: "its per-image scores do not have one value per test image (\(images)) and class (\(classes.count))")
        }
    }
}

/// The means `segmentation-metric` records, from an artifact's per-image scores (the conventions
/// of `SegmentationScores`: per class over images, then over classes; DicePos over positive images).
struct SegmentationMeans {
    let meanDicePerClass: [Double]
    let meanIoUPerClass: [Double]
    let dicePositivePerClass: [Double?]

    init(_ artifact: SegmentationArtifact) {
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        let classes = artifact.classes.indices
        meanDicePerClass = classes.map { c in mean(artifact.dice.map { $0[c] }) ?? .nan }
        meanIoUPerClass = classes.map { c in mean(artifact.iou.map { $0[c] }) ?? .nan }
        dicePositivePerClass = classes.map { c in
            mean(artifact.dice.indices.filter { artifact.positive[$0][c] }.map { artifact.dice[$0][c] })
        }
        func overClasses(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(1, values.count)) }
        meanDice = overClasses(meanDicePerClass)
        meanIoU = overClasses(meanIoUPerClass)
        let positives = dicePositivePerClass.compactMap { $0 }
        meanDicePositive = positives.isEmpty ? nil : overClasses(positives)
    }

    let meanDice: Double
    let meanIoU: Double
    let meanDicePositive: Double?
}
