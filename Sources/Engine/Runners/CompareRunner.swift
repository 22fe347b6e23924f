import Evaluation
import Foundation
import Pipeline
import Results

/// `compare`: a family of two-sided Mann–Whitney U tests between the bootstrap replicates of
/// models trained on two subgroups and tested on the same one, Holm-corrected across the family
/// when the task asks. Inputs `bootstrap.<train>.<test>`.
///
/// A comparison whose side has no computable replicate is recorded as a `mann-whitney-u` result
/// row without a value (train subgroup `first vs second`) whose note says why.
public struct CompareRunner: StageRunner {
    /// `compare`.
    public var kind: StageKind { .compare }
    /// Version 1.
    public var codeVersion: Int { 1 }

    /// Creates the runner.
    public init() {}

    /// Runs the tests.
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(CompareParameters.self)
        var computed: [(comparison: Comparison, label: String, metric: String, first: [Double], second: [Double])] = []
        var results: [ResultRow] = []
        for comparison in parameters.comparisons {
            let first = try BootstrapArtifact.read(from: context.input("bootstrap.\(comparison.first).\(comparison.test)").directory)
            let second = try BootstrapArtifact.read(from: context.input("bootstrap.\(comparison.second).\(comparison.test)").directory)
            let firstValues = first.replicates.compactMap { $0 }, secondValues = second.replicates.compactMap { $0 }
            var problems: [String] = []
            for (name, artifact, values) in [(comparison.first, first, firstValues), (comparison.second, second, secondValues)] where values.isEmpty {
                problems.append("trained on \(name): " + (artifact.notComputable ?? "no computable replicate"))
            }
            if problems.isEmpty {
                computed.append((comparison, first.label, first.metric, firstValues, secondValues))
            } else {
                var coordinates = context.resultCoordinates(label: first.label)
                coordinates.trainSubgroup = "\(comparison.first) vs \(comparison.second)"
                coordinates.testSubgroup = comparison.test
                results.append(ResultRow(coordinates: coordinates, metric: "mann-whitney-u", value: nil,
                                         note: "test not computable: " + problems.joined(separator: "; "), sampleCount: 0))
            }
        }
        let family = try mannWhitneyFamily(
            computed.map { ("\($0.comparison.first) vs \($0.comparison.second) on \($0.comparison.test)", $0.first, $0.second) },
            holmCorrection: parameters.correction == .holm)
        let tests = zip(computed, family).map { entry, test in
            var coordinates = context.resultCoordinates(label: entry.label)
            coordinates.trainSubgroup = ""
            coordinates.testSubgroup = entry.comparison.test
            return StatisticalTestRow(
                coordinates: coordinates, metric: entry.metric, testName: "mann-whitney-u", comparedDimension: "train_subgroup",
                group1: entry.comparison.first, group2: entry.comparison.second, statistic: test.result.u, pValue: test.result.p,
                effectSize: test.result.rankBiserial, count1: test.result.firstCount, count2: test.result.secondCount,
                method: test.result.method == .exact ? .exact : .asymptotic,
                holmPValue: parameters.correction == .holm ? test.adjustedP : nil)
        }
        return StageOutputs(results: results, statisticalTests: tests)
    }
}
