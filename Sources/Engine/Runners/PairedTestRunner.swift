import Datasets
import Evaluation
import Foundation
import Pipeline
import Results

/// `paired-test`: compares the probes of backbones on the same test samples of one cell. Inputs
/// `probe.<backbone>` for every backbone of its pairs, and `manifest`.
///
/// - `delong`: DeLong's test of the two AUROCs of every trained binary label (Sun and Xu's fast
///   algorithm; 95% normal interval of the difference). A multi-label task's macro mean has no
///   DeLong test (its labels have different positives); compare it with `paired-bootstrap`.
/// - `paired-bootstrap`: per metric, the task-level value's difference (the multi-class value,
///   or the mean over the computable labels, as `metric` stages record it), bootstrapped by
///   resampling patients of the test subgroup, the same resample for both backbones; 95%
///   percentile interval and bootstrap p-value.
///
/// Rows go to `statistical_test` with `compared_dimension = backbone`, `group1` the first
/// backbone, `group2` the one it is compared against, `effect_size` their difference; Holm
/// adjusts across the stage's tests when asked. A test that cannot be computed (one class, no
/// probe) is a `result` row without value, backbone `first vs second`, whose note says why.
public struct PairedTestRunner: StageRunner {
    /// `paired-test`.
    public var kind: StageKind { .pairedTest }
    /// Version 1.
    public var codeVersion: Int { 1 }

    /// Creates the runner.
    public init() {}

    /// Runs the tests.
    /// - Throws: `RunnerError` for a metric the catalog has no classification metric for, or
    ///   probes whose test samples differ (not a paired comparison).
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(PairedTestParameters.self)
        let manifest = try context.manifestInput().manifest
        let stage = context.stage.label
        var predictions: [String: ProbeTestPredictions] = [:]
        var probeLabels: [String] = parameters.labels
        for backbone in Set(parameters.pairs.flatMap { [$0.first, $0.second] }).sorted() {
            let probe = try ProbeArtifact.read(from: context.input("probe.\(backbone)").directory)
            probeLabels = probe.labels
            predictions[backbone] = try ProbeTestPredictions(probe: probe, manifest: manifest, testFilter: parameters.testFilter,
                                                             aggregate: parameters.aggregate, stage: stage)
        }
        var tests: [StatisticalTestRow] = []
        var results: [ResultRow] = []
        func notComputable(_ pair: BackbonePair, label: String, reason: String) {
            var coordinates = context.resultCoordinates(label: label)
            coordinates.backbone = "\(pair.first) vs \(pair.second)"
            results.append(ResultRow(coordinates: coordinates, metric: parameters.test.rawValue, value: nil,
                                     note: "test not computable: \(reason)", sampleCount: 0))
        }
        for pair in parameters.pairs {
            guard case .scored(let first) = predictions[pair.first]!, case .scored(let second) = predictions[pair.second]! else {
                var reasons: [String] = []
                for backbone in [pair.first, pair.second] {
                    if case .notComputable(let reason) = predictions[backbone]! { reasons.append("\(backbone): \(reason)") }
                }
                notComputable(pair, label: probeLabels.count == 1 ? probeLabels[0] : "", reason: reasons.joined(separator: "; "))
                continue
            }
            guard first.ids == second.ids, first.outputs == second.outputs, first.targets == second.targets else {
                throw RunnerError.artifact(path: "probes of \(stage)",
                                           problem: "\(pair.first) and \(pair.second) were tested on different samples or outputs; "
                                               + "a paired test needs the same split (same dataset, fraction, seed and training subgroup)")
            }
            switch parameters.test {
            case .delong:
                deLong(pair, first, second, context: context, tests: &tests, notComputable: notComputable)
            case .pairedBootstrap:
                try bootstrap(pair, first, second, parameters: parameters, context: context, tests: &tests, notComputable: notComputable)
            }
        }
        if parameters.correction == .holm, !tests.isEmpty {
            for (index, adjusted) in holmAdjusted(tests.map(\.pValue)).enumerated() { tests[index].holmPValue = adjusted }
        }
        return StageOutputs(results: results, statisticalTests: tests)
    }

    /// One DeLong test per trained binary label.
    private func deLong(_ pair: BackbonePair, _ first: ScoredPredictions, _ second: ScoredPredictions, context: StageContext,
                        tests: inout [StatisticalTestRow], notComputable: (BackbonePair, String, String) -> Void) {
        let width = first.outputs.count
        for (column, label) in first.outputs.enumerated() {
            var targets: [Double] = [], firstScores: [Double] = [], secondScores: [Double] = []
            for row in 0..<first.count {
                guard let target = first.targets[row * width + column] else { continue }
                targets.append(target)
                firstScores.append(first.scores[row * width + column])
                secondScores.append(second.scores[row * width + column])
            }
            let outcome: PairedTestOutcome<DeLongResult>
            do {
                outcome = try delongTest(targets: targets, firstScores: firstScores, secondScores: secondScores, label: label)
            } catch {
                notComputable(pair, label, "\(error)")
                continue
            }
            switch outcome {
            case .notComputable(let reason):
                notComputable(pair, label, reason)
            case .tested(let result):
                tests.append(row(pair, label: label, metric: "auroc", test: .delong, statistic: result.z, p: result.pValue,
                                 difference: result.difference, count: targets.count, method: .asymptotic,
                                 interval: result.interval, replicates: nil, context: context))
            }
        }
        for (label, reason) in first.untrainedLabels.sorted(by: { $0.key < $1.key }) { notComputable(pair, label, "not trained: \(reason)") }
    }

    /// One paired bootstrap per metric, of the task-level value.
    private func bootstrap(_ pair: BackbonePair, _ first: ScoredPredictions, _ second: ScoredPredictions,
                           parameters: PairedTestParameters, context: StageContext, tests: inout [StatisticalTestRow],
                           notComputable: (BackbonePair, String, String) -> Void) throws {
        let label = first.labels.count == 1 ? first.labels[0] : MetricRunner.meanLabel
        let seed = UInt64(parameters.seed ?? 0)
        let configuration = BootstrapConfiguration(replicates: parameters.replicates ?? 1000, seed: seed)
        let resampler = try BootstrapResampler(sampleCount: first.count, patientIDs: first.patientIDs, seed: seed)
        for name in parameters.metrics {
            let metric = try MetricRunner.classificationMetric(named: name, in: context.registry.metrics, stage: context.stage.label)
            let result = try first.pairedBootstrap(against: second, metric: metric, resampler: resampler, configuration: configuration)
            guard let difference = result.difference.value, let interval = result.interval, let p = result.pValue else {
                let reason = MetricRunner.reason(result.difference) ?? "no replicate is computable"
                notComputable(pair, label, "\(metric.name): \(reason)")
                continue
            }
            tests.append(row(pair, label: label, metric: metric.name, test: .pairedBootstrap, statistic: difference, p: p,
                             difference: difference, count: first.count, method: .bootstrap, interval: interval,
                             replicates: result.computableReplicates.count, context: context))
        }
    }

    private func row(_ pair: BackbonePair, label: String, metric: String, test: PairedTest, statistic: Double, p: Double,
                     difference: Double, count: Int, method: TestMethod, interval: ClosedRange<Double>, replicates: Int?,
                     context: StageContext) -> StatisticalTestRow {
        var coordinates = context.resultCoordinates(label: label)
        coordinates.backbone = ""
        return StatisticalTestRow(coordinates: coordinates, metric: metric, testName: test.rawValue, comparedDimension: "backbone",
                                  group1: pair.first, group2: pair.second, statistic: statistic, pValue: p, effectSize: difference,
                                  count1: count, count2: count, method: method, interval: interval, replicates: replicates)
    }
}
