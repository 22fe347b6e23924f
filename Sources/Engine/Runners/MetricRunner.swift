import Datasets
import Evaluation
import Foundation
import Pipeline
import Results

/// `metric`: scores a probe's test predictions on one test subgroup. Inputs `probe`, `manifest`.
///
/// Records, per metric: one row per label (a multi-class task: one row for its label), plus a
/// `mean` row over the computable labels when the task has several; per-sample predictions when
/// asked. Anything that cannot be computed (a label with one class in the test subgroup, an
/// empty subgroup, a label the training set could not train) is a row with no value and a note.
/// The values come from `ScoredPredictions.score(_:)`; metric names resolve through the catalog.
/// The segmentation metrics `dice`, `iou` and `dice-pos` of a segmenting patch head come from
/// the probe's per-image mask scores (`ProbeSegmentation.score`), one row under the task's label
/// (`mean` for several labels), per image even when the task aggregates studies.
///
/// With `trainingCurve` (the first test subgroup of a trained probe), it also records the probe's
/// training curve: one `training_curve` row per epoch under the probe's coordinates.
public struct MetricRunner: StageRunner {
    /// `metric`.
    public var kind: StageKind { .metric }
    /// Version 2: records `dice`, `iou` and `dice-pos` of segmenting heads (version 1 knew only
    /// classification metrics; its rows for those are unchanged).
    public var codeVersion: Int { 2 }

    /// The coordinate label of the mean over a task's labels.
    static let meanLabel = ResultCoordinates.allLabels

    /// Creates the runner.
    /// Metric names resolve in the registry's metrics (`context.registry.metrics`).
    public init() {}

    /// Scores the predictions and returns the rows to record.
    /// - Throws: `RunnerError` for a metric name the catalog has no classification metric for,
    ///   or a probe artifact that does not match the manifest.
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(MetricParameters.self)
        let resolved = try parameters.metrics.map { name -> ResolvedMetric in
            if let segmentation = SegmentationMetricName(rawValue: name) { return .segmentation(segmentation) }
            return .classification(try Self.classificationMetric(named: name, in: context.registry.metrics, stage: context.stage.label))
        }
        let probe = try ProbeArtifact.read(from: context.input("probe").directory)
        let manifest = try context.manifestInput().manifest
        let test = try ProbeTestPredictions(probe: probe, manifest: manifest, testFilter: parameters.testFilter,
                                            aggregate: parameters.aggregate, stage: context.stage.label)
        var results: [ResultRow] = []
        func row(_ label: String, _ metric: String, _ value: MetricValue, count: Int, note: String? = nil) -> ResultRow {
            ResultRow(coordinates: context.resultCoordinates(label: label), metric: metric, value: value.value,
                      note: value.value == nil ? Self.reason(value) : note, sampleCount: count)
        }
        for resolvedMetric in resolved {
            let metric: any ClassificationMetric
            switch resolvedMetric {
            case .classification(let classification): metric = classification
            case .segmentation(let segmentation):
                results.append(try Self.segmentationRow(segmentation, probe: probe, manifest: manifest, parameters: parameters, context: context))
                continue
            }
            let score: TaskScore
            switch test {
            case .scored(let predictions): score = predictions.score(metric)
            case .notComputable(let reason): score = .notComputable(labels: probe.labels, reason: reason)
            }
            results += score.labels.map { row($0.label, metric.name, $0.value, count: $0.sampleCount) }
            if score.isMeanOverLabels {
                let note = score.leftOut.isEmpty ? nil
                    : "mean over the computable labels; left out: \(score.leftOut.map(\.label).joined(separator: ", "))"
                results.append(row(Self.meanLabel, metric.name, score.value, count: score.sampleCount, note: note))
            }
        }
        var predictionRows: [PredictionRow] = []
        if parameters.recordPredictions, case .scored(let predictions) = test {
            let width = predictions.outputs.count
            for row in 0..<predictions.count {
                for output in 0..<width {
                    guard let target = predictions.targets[row * width + output] else { continue }
                    predictionRows.append(PredictionRow(sampleID: predictions.ids[row], label: predictions.outputs[output],
                                                        score: predictions.scores[row * width + output], target: target))
                }
            }
        }
        return StageOutputs(results: results, predictions: predictionRows,
                            trainingCurves: parameters.trainingCurve == true ? Self.curve(of: probe, context: context) : [])
    }

    /// The probe's training curve as rows: coordinates without test subgroup or label.
    static func curve(of probe: ProbeArtifact, context: StageContext) -> [TrainingCurveRow] {
        var coordinates = context.resultCoordinates(label: "")
        coordinates.testSubgroup = ""
        let metric = probe.validationMetric ?? "negative-loss"
        return probe.curve.map { epoch in
            TrainingCurveRow(coordinates: coordinates, epoch: epoch.epoch, trainingLoss: epoch.trainingLoss,
                             validationLoss: epoch.validationLoss, validationMetric: metric, validationValue: epoch.validationScore,
                             learningRate: epoch.learningRate, isBest: epoch.epoch == probe.bestEpoch)
        }
    }

    /// A metric stage's metric: a classification metric of the catalog, or a segmentation
    /// metric of the head's masks.
    enum ResolvedMetric {
        case classification(any ClassificationMetric)
        case segmentation(SegmentationMetricName)
    }

    /// The row of a segmentation metric on the stage's test subgroup.
    /// - Throws: `RunnerError.artifact` when the probe's mask scores do not fit its test samples.
    static func segmentationRow(_ metric: SegmentationMetricName, probe: ProbeArtifact, manifest: Manifest, parameters: MetricParameters,
                                context: StageContext) throws -> ResultRow {
        let label = probe.labels.count == 1 ? probe.labels[0] : meanLabel
        func row(_ value: Double?, count: Int, note: String) -> ResultRow {
            ResultRow(coordinates: context.resultCoordinates(label: label), metric: metric.rawValue, value: value, note: note, sampleCount: count)
        }
        let positions: [Int]
        switch try ProbeTestPredictions.positions(probe: probe, manifest: manifest, testFilter: parameters.testFilter, stage: context.stage.label) {
        case .notComputable(let reason): return row(nil, count: 0, note: reason)
        case .kept(let kept): positions = kept
        }
        guard let segmentation = probe.segmentation else {
            return row(nil, count: 0, note: "the head has no trained segmentation branch, so no masks to score")
        }
        try segmentation.validate(testCount: probe.testIndices.count, stage: context.stage.label)
        let score = segmentation.score(metric, positions: positions)
        var note = "hard masks of the segmentation branch at \(segmentation.maskSize) px, \(segmentation.classes.joined(separator: ", "))"
        if parameters.aggregate == .study { note += "; per image (masks are not aggregated by study)" }
        return row(score.value, count: score.count, note: score.reason ?? note)
    }

    static func reason(_ value: MetricValue) -> String? {
        if case .notComputable(let reason) = value { return reason }
        return nil
    }

    /// The classification metric `name` names in `catalog`.
    /// - Throws: `RunnerError.badOption` naming the classification metrics the catalog knows.
    static func classificationMetric(named name: String, in catalog: MetricCatalog, stage: String) throws -> any ClassificationMetric {
        guard let metric = catalog.classificationMetric(named: name) else {
            throw RunnerError.badOption(stage: stage, option: "metric", value: name,
                                        reason: "not a classification metric of this build; use one of \(catalog.classificationMetricNames.joined(separator: ", "))")
        }
        return metric
    }
}

/// A probe's test predictions on one test subgroup, averaged per study when the task says so:
/// what `metric` and `bootstrap` stages score, or why there is nothing to score.
enum ProbeTestPredictions {
    /// The predictions.
    case scored(ScoredPredictions)
    /// No probe could be trained, or the test subgroup holds no test sample.
    case notComputable(reason: String)

    /// Selects the probe's test rows in the subgroup and aggregates them.
    /// - Throws: `RunnerError.artifact` when the probe's test samples are not the manifest's, or
    ///   its predictions do not fit its outputs; `EvaluationError` for a multi-class study whose
    ///   images have different classes.
    init(probe: ProbeArtifact, manifest: Manifest, testFilter: Pipeline.SubgroupFilter, aggregate: Aggregation, stage: String) throws {
        if let reason = probe.notComputable {
            self = .notComputable(reason: reason)
            return
        }
        let kept: [Int]
        switch try Self.positions(probe: probe, manifest: manifest, testFilter: testFilter, stage: stage) {
        case .notComputable(let reason):
            self = .notComputable(reason: reason)
            return
        case .kept(let positions): kept = positions
        }
        let samples = kept.map { manifest.samples[probe.testIndices[$0]] }
        let all: ScoredPredictions
        do {
            all = try ScoredPredictions(ids: probe.testIDs, patientIDs: probe.testIndices.map { manifest.samples[$0].patientID },
                                        outputs: probe.outputs, scores: probe.scores, targets: probe.targets,
                                        multiclass: probe.isMulticlass, labels: probe.labels, untrainedLabels: probe.untrainable)
        } catch let error as EvaluationError {
            throw RunnerError.artifact(path: "probe of \(stage)", problem: "predictions do not fit the outputs: \(error)")
        }
        let subgroup = all.restricted(to: kept)
        switch aggregate {
        case .none: self = .scored(subgroup)
        case .study: self = .scored(try subgroup.aggregatedByStudy(samples.map(\.studyID)))
        }
    }

    /// Positions in the probe's test rows of the samples in a test subgroup, or why there are none.
    enum Positions {
        case kept([Int])
        case notComputable(reason: String)
    }

    /// The probe's test rows (positions) that fall in the test subgroup.
    /// - Throws: `RunnerError.artifact` when the probe's test samples are not the manifest's.
    static func positions(probe: ProbeArtifact, manifest: Manifest, testFilter: Pipeline.SubgroupFilter, stage: String) throws -> Positions {
        if let reason = probe.notComputable { return .notComputable(reason: reason) }
        let filter = try Subgroups.filter(testFilter, stage: stage)
        guard probe.testIDs.count == probe.testIndices.count else {
            throw RunnerError.artifact(path: "probe of \(stage)", problem: "\(probe.testIDs.count) test ids for \(probe.testIndices.count) test rows")
        }
        var kept: [Int] = []
        for (position, index) in probe.testIndices.enumerated() {
            guard index < manifest.samples.count, manifest.samples[index].id == probe.testIDs[position] else {
                throw RunnerError.artifact(path: "probe of \(stage)", problem: "test sample \(probe.testIDs[position]) is not row \(index) of the manifest")
            }
            let sample = manifest.samples[index]
            if try filter.matches(Subgroups.attributes(of: sample), sampleID: sample.id) { kept.append(position) }
        }
        guard !kept.isEmpty else {
            return .notComputable(reason: "test subgroup \(testFilter.name) has no sample in the test set (\(probe.testIndices.count) samples)")
        }
        return .kept(kept)
    }
}
