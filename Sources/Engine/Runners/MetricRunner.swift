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
public struct MetricRunner: StageRunner {
    /// `metric`.
    public var kind: StageKind { .metric }
    /// Version 1.
    public var codeVersion: Int { 1 }

    /// Creates the runner.
    public init() {}

    /// Scores the predictions; writes `metrics.json` (the rows) beside the engine's `outputs.json`.
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(MetricParameters.self)
        let probe = try ProbeArtifact.read(from: context.input("probe").directory)
        let manifest = try ManifestArtifact.read(from: context.input("manifest").directory)
        let set = try ScoredTestSet(probe: probe, manifest: manifest, testFilter: parameters.testFilter,
                                    aggregate: parameters.aggregate, stage: context.stage.label)
        var results: [ResultRow] = []
        func row(_ label: String, _ metric: Metric, _ value: MetricValue, count: Int, note: String? = nil) -> ResultRow {
            ResultRow(coordinates: context.resultCoordinates(label: label), metric: metric.rawValue, value: value.value,
                      note: value.value == nil ? Self.reason(value) : note, sampleCount: count)
        }
        let all = Array(0..<set.count)
        for metric in try parameters.metrics.map(Metric.init(named:)) {
            if let reason = set.notComputable {
                let labels = set.labels.count > 1 ? set.labels + ["mean"] : set.labels
                results += labels.map { row($0, metric, .notComputable(reason: reason), count: 0) }
                continue
            }
            let values = set.perLabel(metric, rows: all)
            results += values.map { row($0.label, metric, $0.value, count: $0.count) }
            if !set.multiclass {
                for label in set.labels where set.untrainable[label] != nil {
                    results.append(row(label, metric, .notComputable(reason: "not trained: " + set.untrainable[label]!), count: 0))
                }
            }
            if set.labels.count > 1 {
                let excluded = values.filter { $0.value.value == nil }.map(\.label) + set.untrainable.keys.sorted()
                results.append(row("mean", metric, set.summary(metric, rows: all), count: set.rowsWithAnyTarget,
                                   note: excluded.isEmpty ? nil : "mean over the computable labels; left out: \(excluded.joined(separator: ", "))"))
            }
        }
        var predictions: [PredictionRow] = []
        if parameters.recordPredictions, set.notComputable == nil {
            let width = set.outputs.count
            for row in 0..<set.count {
                for output in 0..<width {
                    guard let target = set.targets[row * width + output] else { continue }
                    predictions.append(PredictionRow(sampleID: set.ids[row], label: set.outputs[output],
                                                     score: set.scores[row * width + output], target: target))
                }
            }
        }
        return StageOutputs(results: results, predictions: predictions)
    }

    static func reason(_ value: MetricValue) -> String? {
        if case .notComputable(let reason) = value { return reason }
        return nil
    }
}
