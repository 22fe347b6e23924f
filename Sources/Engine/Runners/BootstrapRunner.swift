import Datasets
import Evaluation
import Foundation
import Pipeline
import Results

/// `bootstrap`: replicates of a task-level metric (the multi-class value, or the mean over the
/// labels) on one test subgroup, resampling patients (all of a drawn patient's images) with a
/// seeded generator. Inputs `probe`, `manifest`.
///
/// Records one replicate row per replicate (no value where a replicate is not computable, e.g.
/// it drew no positive), and `<metric>-ci-low` / `<metric>-ci-high` result rows with the 95%
/// percentile interval. Writes `bootstrap.json` for the `compare` stages.
public struct BootstrapRunner: StageRunner {
    /// `bootstrap`.
    public var kind: StageKind { .bootstrap }
    /// Version 2: bootstraps `dice`, `iou` and `dice-pos` of segmenting heads over the test
    /// images with masks (version 1: classification metrics only, unchanged).
    public var codeVersion: Int { 2 }

    /// Creates the runner.
    /// Metric names resolve in the registry's metrics (`context.registry.metrics`).
    public init() {}

    /// Resamples and writes the artifact.
    /// - Throws: `RunnerError` for a metric name the catalog has no classification metric for,
    ///   or a probe artifact that does not match the manifest.
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(BootstrapParameters.self)
        if let segmentationMetric = SegmentationMetricName(rawValue: parameters.metric) {
            return try bootstrapMasks(segmentationMetric, parameters: parameters, context: context)
        }
        let metric = try MetricRunner.classificationMetric(named: parameters.metric, in: context.registry.metrics, stage: context.stage.label)
        let probe = try ProbeArtifact.read(from: context.input("probe").directory)
        let manifest = try context.manifestInput().manifest
        let test = try ProbeTestPredictions(probe: probe, manifest: manifest, testFilter: parameters.testFilter,
                                            aggregate: parameters.aggregate, stage: context.stage.label)
        let label = probe.labels.count == 1 ? probe.labels[0] : MetricRunner.meanLabel
        let coordinates = context.resultCoordinates(label: label)
        var artifact = BootstrapArtifact(metric: metric.name, label: label, replicates: [], estimate: nil)
        var results: [ResultRow] = []
        var replicateRows: [BootstrapReplicateRow] = []
        switch test {
        case .notComputable(let reason):
            artifact.notComputable = reason
            for bound in ["low", "high"] {
                results.append(ResultRow(coordinates: coordinates, metric: "\(metric.name)-ci-\(bound)", value: nil, note: reason, sampleCount: 0))
            }
        case .scored(let predictions):
            let configuration = BootstrapConfiguration(replicates: parameters.replicates, seed: UInt64(parameters.seed))
            let resampler = try BootstrapResampler(sampleCount: predictions.count, patientIDs: predictions.patientIDs, seed: UInt64(parameters.seed))
            let result = try predictions.bootstrap(metric, resampler: resampler, configuration: configuration)
            artifact.replicates = result.replicates.map(\.value)
            artifact.estimate = result.estimate.value
            let computable = result.computableReplicates.count
            replicateRows = result.replicates.enumerated().map {
                BootstrapReplicateRow(coordinates: coordinates, metric: metric.name, replicate: $0.offset, value: $0.element.value)
            }
            let note = result.interval == nil
                ? "no replicate is computable" + (MetricRunner.reason(result.estimate).map { " (\($0))" } ?? "")
                : "95% percentile interval of \(computable) computable of \(parameters.replicates) replicates, resampling \(resampler.patientCount) patients"
            results.append(ResultRow(coordinates: coordinates, metric: "\(metric.name)-ci-low", value: result.interval?.lowerBound,
                                     note: note, sampleCount: predictions.count))
            results.append(ResultRow(coordinates: coordinates, metric: "\(metric.name)-ci-high", value: result.interval?.upperBound,
                                     note: note, sampleCount: predictions.count))
        }
        try ArtifactJSON.write(artifact, to: context.outputDirectory, name: BootstrapArtifact.fileName)
        return StageOutputs(results: results, bootstrapReplicates: replicateRows)
    }
}

extension BootstrapRunner {
    /// Replicates of a segmentation metric of the probe's masks (`ProbeSegmentation.score`),
    /// resampling the patients of the subgroup's test samples.
    private func bootstrapMasks(_ metric: SegmentationMetricName, parameters: BootstrapParameters,
                                context: StageContext) throws -> StageOutputs {
        let probe = try ProbeArtifact.read(from: context.input("probe").directory)
        let manifest = try context.manifestInput().manifest
        let label = probe.labels.count == 1 ? probe.labels[0] : MetricRunner.meanLabel
        let coordinates = context.resultCoordinates(label: label)
        var artifact = BootstrapArtifact(metric: metric.rawValue, label: label, replicates: [], estimate: nil)
        func bounds(_ interval: ClosedRange<Double>?, note: String, count: Int) -> [ResultRow] {
            [("low", interval?.lowerBound), ("high", interval?.upperBound)].map { bound, value in
                ResultRow(coordinates: coordinates, metric: "\(metric.rawValue)-ci-\(bound)", value: value, note: note, sampleCount: count)
            }
        }
        var kept: [Int] = []
        switch try ProbeTestPredictions.positions(probe: probe, manifest: manifest, testFilter: parameters.testFilter, stage: context.stage.label) {
        case .notComputable(let reason): artifact.notComputable = reason
        case .kept(let positions): kept = positions
        }
        if artifact.notComputable == nil, probe.segmentation == nil {
            artifact.notComputable = "the head has no trained segmentation branch, so no masks to score"
        }
        guard artifact.notComputable == nil, let segmentation = probe.segmentation else {
            try ArtifactJSON.write(artifact, to: context.outputDirectory, name: BootstrapArtifact.fileName)
            return StageOutputs(results: bounds(nil, note: artifact.notComputable ?? "", count: 0))
        }
        try segmentation.validate(testCount: probe.testIndices.count, stage: context.stage.label)
        let patients = kept.map { manifest.samples[probe.testIndices[$0]].patientID }
        let resampler = try BootstrapResampler(sampleCount: kept.count, patientIDs: patients, seed: UInt64(parameters.seed))
        let configuration = BootstrapConfiguration(replicates: parameters.replicates, seed: UInt64(parameters.seed))
        let keptPositions = kept
        let result = try bootstrap(resampler: resampler, configuration: configuration) { images in
            let score = segmentation.score(metric, positions: images.map { keptPositions[$0] })
            return score.value.map(MetricValue.value) ?? .notComputable(reason: score.reason ?? "not computable")
        }
        artifact.replicates = result.replicates.map(\.value)
        artifact.estimate = result.estimate.value
        try ArtifactJSON.write(artifact, to: context.outputDirectory, name: BootstrapArtifact.fileName)
        let note = result.interval == nil
            ? "no replicate is computable" + (MetricRunner.reason(result.estimate).map { " (\($0))" } ?? "")
            : "95% percentile interval of \(result.computableReplicates.count) computable of \(parameters.replicates) replicates, "
                + "resampling \(resampler.patientCount) patients"
        let replicateRows = result.replicates.enumerated().map {
            BootstrapReplicateRow(coordinates: coordinates, metric: metric.rawValue, replicate: $0.offset, value: $0.element.value)
        }
        return StageOutputs(results: bounds(result.interval, note: note, count: kept.count), bootstrapReplicates: replicateRows)
    }
}

/// The `bootstrap` artifact (`bootstrap.json`).
struct BootstrapArtifact: Codable {
    static let fileName = "bootstrap.json"
    var metric: String
    /// The coordinate label (`mean` for several labels).
    var label: String
    /// Replicate values in order, nil where not computable.
    var replicates: [Double?]
    /// The value on the whole test subgroup.
    var estimate: Double?
    /// Why there are no replicates.
    var notComputable: String?

    static func read(from directory: URL) throws -> BootstrapArtifact {
        try ArtifactJSON.read(BootstrapArtifact.self, from: directory, name: fileName)
    }
}
