import Foundation
import Testing
import TestSupport
@testable import Evaluation

/// Cases recorded by scripts/fixtures/comparisons.py: DeLong (NumPy fast algorithm, checked there
/// against the O(mn) definition and scikit-learn), paired bootstrap replicates (xrbench's
/// resamples re-implemented, scored by scikit-learn), calibration (NumPy, scikit-learn) and
/// DINOv2's k-NN vote (NumPy).
struct ComparisonsFixture: Decodable {
    struct DeLongCase: Decodable {
        var name: String; var targets: [Double]; var first: [Double]; var second: [Double]
        var firstAuroc: Double; var secondAuroc: Double; var difference: Double; var variance: Double
        var z: Double; var p: Double; var low: Double; var high: Double
    }
    struct PairedCase: Decodable {
        var name: String; var metric: String; var patients: [String]; var targets: [Double?]; var labels: Int
        var first: [Double]; var second: [Double]; var replicates: Int; var seed: UInt64
        var firstEstimate: Double; var secondEstimate: Double; var difference: Double
        var replicateDifferences: [Double?]; var low: Double; var high: Double; var p: Double
    }
    struct BinaryCalibrationCase: Decodable {
        var name: String; var targets: [Double]; var probabilities: [Double]
        var ece: Double; var ece10: Double; var adaptiveEce: Double; var adaptiveEce7: Double; var brier: Double; var nll: Double
        var bins: [[Double]]; var adaptiveBins: [[Double]]
    }
    struct MulticlassCalibrationCase: Decodable {
        var name: String; var classes: Int; var truths: [Int]; var probabilities: [Double]
        var ece: Double; var adaptiveEce: Double; var brier: Double; var nll: Double
    }
    struct KNNCase: Decodable {
        var name: String; var bank: String; var k: Int; var temperature: Double; var multiclass: Bool; var outputs: Int
        var probabilities: [Double]
    }
    struct KNNBank: Decodable { var width: Int; var features: [Double]; var targets: [Double] }
    var delong: [DeLongCase]
    var pairedBootstrap: [PairedCase]
    var calibrationBinary: [BinaryCalibrationCase]
    var calibrationMulticlass: [MulticlassCalibrationCase]
    var knn: [KNNCase]
    var knnBanks: [String: KNNBank]

    static func load() throws -> ComparisonsFixture {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ComparisonsFixture.self, from: Data(contentsOf: fixturesDirectory().appendingPathComponent("comparisons.json")))
    }
}

@Suite struct ComparisonParityTests {
    let fixture: ComparisonsFixture
    init() throws { fixture = try ComparisonsFixture.load() }

    @Test func deLongMatchesTheReference() throws {
        for testCase in fixture.delong {
            let outcome = try delongTest(targets: testCase.targets, firstScores: testCase.first, secondScores: testCase.second, label: testCase.name)
            guard case .tested(let result) = outcome else {
                Issue.record("\(testCase.name): \(outcome)")
                continue
            }
            let pairs: [(String, Double, Double)] = [
                ("first AUROC", result.firstAUROC, testCase.firstAuroc), ("second AUROC", result.secondAUROC, testCase.secondAuroc),
                ("difference", result.difference, testCase.difference), ("variance", result.variance, testCase.variance),
                ("z", result.z, testCase.z), ("p", result.pValue, testCase.p),
                ("interval low", result.interval.lowerBound, testCase.low), ("interval high", result.interval.upperBound, testCase.high),
            ]
            for (what, actual, expected) in pairs {
                #expect(abs(actual - expected) <= 1e-9, "\(testCase.name): \(what) \(actual) vs \(expected)")
            }
        }
    }

    @Test func deLongIsNotComputableWithOneClass() throws {
        let outcome = try delongTest(targets: [1, 1, 1], firstScores: [0.1, 0.2, 0.3], secondScores: [0.3, 0.2, 0.1], label: "x")
        guard case .notComputable(let reason) = outcome else { Issue.record("expected not computable, got \(outcome)"); return }
        #expect(reason.contains("no negative"))
        #expect(throws: EvaluationError.self) { try delongTest(targets: [0, 2], firstScores: [0, 1], secondScores: [0, 1]) }
        #expect(throws: EvaluationError.self) { try delongTest(targets: [0, 1], firstScores: [0, .nan], secondScores: [0, 1]) }
    }

    @Test func normalQuantileInvertsTheDistribution() {
        for p in [1e-10, 0.001, 0.025, 0.3, 0.5, 0.8, 0.975, 0.999, 1 - 1e-10] {
            let x = normalQuantile(p)
            #expect(abs(0.5 * erfc(-x / 2.0.squareRoot()) - p) <= 1e-15 + 1e-12 * p, "p = \(p): Φ(\(x))")
        }
        #expect(abs(normalQuantile(0.975) - 1.959963984540054) <= 1e-13)
    }

    @Test func pairedBootstrapMatchesScikitLearnOnTheSameResamples() throws {
        for testCase in fixture.pairedBootstrap {
            let labels = (0..<testCase.labels).map { "L\($0)" }
            let ids = testCase.patients.indices.map { "s\($0)" }
            func predictions(_ scores: [Double]) throws -> ScoredPredictions {
                try ScoredPredictions(ids: ids, patientIDs: testCase.patients, outputs: labels, scores: scores,
                                      targets: testCase.targets, multiclass: false)
            }
            let first = try predictions(testCase.first), second = try predictions(testCase.second)
            let resampler = try BootstrapResampler(sampleCount: ids.count, patientIDs: testCase.patients, seed: testCase.seed)
            let configuration = BootstrapConfiguration(replicates: testCase.replicates, seed: testCase.seed)
            let metric: any ClassificationMetric = testCase.metric == "auroc" ? AUROC() : MCC()
            let result = try first.pairedBootstrap(against: second, metric: metric, resampler: resampler, configuration: configuration)
            #expect(abs((result.firstEstimate.value ?? .nan) - testCase.firstEstimate) <= 1e-9, "\(testCase.name): first estimate")
            #expect(abs((result.secondEstimate.value ?? .nan) - testCase.secondEstimate) <= 1e-9, "\(testCase.name): second estimate")
            #expect(abs((result.difference.value ?? .nan) - testCase.difference) <= 1e-9, "\(testCase.name): difference")
            #expect(result.replicates.count == testCase.replicateDifferences.count)
            for (index, (actual, expected)) in zip(result.replicates, testCase.replicateDifferences).enumerated() {
                if let expected {
                    #expect(abs((actual.value ?? .nan) - expected) <= 1e-9, "\(testCase.name): replicate \(index): \(actual) vs \(expected)")
                } else {
                    #expect(actual.value == nil, "\(testCase.name): replicate \(index) should not be computable")
                }
            }
            let interval = try #require(result.interval)
            #expect(abs(interval.lowerBound - testCase.low) <= 1e-9 && abs(interval.upperBound - testCase.high) <= 1e-9,
                    "\(testCase.name): interval \(interval) vs [\(testCase.low), \(testCase.high)]")
            #expect(abs((result.pValue ?? .nan) - testCase.p) <= 1e-12, "\(testCase.name): p")
        }
    }

    @Test func pairedBootstrapOfAModelAgainstItselfFindsNothing() throws {
        let testCase = fixture.pairedBootstrap[0]
        let labels = (0..<testCase.labels).map { "L\($0)" }
        let predictions = try ScoredPredictions(ids: testCase.patients.indices.map { "s\($0)" }, patientIDs: testCase.patients,
                                                outputs: labels, scores: testCase.first, targets: testCase.targets, multiclass: false)
        let resampler = try BootstrapResampler(sampleCount: predictions.count, patientIDs: testCase.patients, seed: 1)
        let result = try predictions.pairedBootstrap(against: predictions, metric: AUROC(), resampler: resampler,
                                                     configuration: BootstrapConfiguration(replicates: 50))
        #expect(result.difference == .value(0))
        #expect(result.pValue == 1)
        #expect(result.interval == 0...0)
        // Predictions of other samples are refused.
        let other = predictions.restricted(to: Array(0..<10))
        #expect(throws: EvaluationError.self) {
            try predictions.pairedBootstrap(against: other, metric: AUROC(), resampler: resampler, configuration: BootstrapConfiguration())
        }
    }

    @Test func binaryCalibrationMatchesTheReference() throws {
        for testCase in fixture.calibrationBinary {
            let (targets, scores, label) = (testCase.targets, testCase.probabilities, testCase.name)
            let values: [(String, any ClassificationMetric, Double)] = [
                ("ece", ExpectedCalibrationError(), testCase.ece),
                ("ece@10", ExpectedCalibrationError(bins: 10, namesBins: true), testCase.ece10),
                ("adaptive-ece", ExpectedCalibrationError(binning: .equalMass), testCase.adaptiveEce),
                ("adaptive-ece@7", ExpectedCalibrationError(bins: 7, binning: .equalMass, namesBins: true), testCase.adaptiveEce7),
                ("brier", BrierScore(), testCase.brier), ("nll", NegativeLogLikelihood(), testCase.nll),
            ]
            for (name, metric, expected) in values {
                #expect(metric.name == name)
                let actual = try #require(try metric.binaryValue(targets: targets, scores: scores, label: label).value)
                #expect(abs(actual - expected) <= 1e-9, "\(label): \(name) \(actual) vs \(expected)")
            }
            for (binning, expected) in [(CalibrationBinning.equalWidth, testCase.bins), (.equalMass, testCase.adaptiveBins)] {
                let bins = try reliabilityBins(confidences: scores, outcomes: targets, bins: 15, binning: binning)
                #expect(bins.map { Double($0.count) } == expected.map { $0[0] }, "\(label): \(binning) counts")
                expectClose(bins.map(\.meanConfidence), expected.map { $0[1] }, tolerance: 1e-12, "\(label): \(binning) confidences")
                expectClose(bins.map(\.observedFrequency), expected.map { $0[2] }, tolerance: 1e-12, "\(label): \(binning) frequencies")
            }
        }
    }

    @Test func multiclassCalibrationMatchesTheReference() throws {
        for testCase in fixture.calibrationMulticlass {
            let classes = (0..<testCase.classes).map { "c\($0)" }
            let values: [(any ClassificationMetric, Double)] = [
                (ExpectedCalibrationError(), testCase.ece), (ExpectedCalibrationError(binning: .equalMass), testCase.adaptiveEce),
                (BrierScore(), testCase.brier), (NegativeLogLikelihood(), testCase.nll),
            ]
            for (metric, expected) in values {
                let actual = try #require(try metric.multiclassValue(trueClasses: testCase.truths, scores: testCase.probabilities,
                                                                     classes: classes).value)
                #expect(abs(actual - expected) <= 1e-9, "\(testCase.name): \(metric.name) \(actual) vs \(expected)")
            }
        }
    }

    @Test func calibrationMetricsAreRegisteredLowerIsBetter() throws {
        for name in ["ece", "adaptive-ece", "brier", "nll", "ece@20", "adaptive-ece@10"] {
            let metric = try #require(MetricCatalog.standard.classificationMetric(named: name), "\(name) is not registered")
            #expect(metric.name == name)
            #expect(metric.direction == .lowerIsBetter)
        }
        #expect(MetricCatalog.standard.metric(named: "ece@0") == nil)
        #expect(MetricCatalog.standard.metric(named: "ece@015") == nil)
        #expect(MetricCatalog.standard.metric(named: "ECE@10")?.displayName == nil)
        #expect(MetricCatalog.standard.metric(named: "adaptive-ece@12")?.displayName == "Adaptive ECE@12")
    }

    @Test func nearestNeighbourVoteMatchesDINOv2() throws {
        for testCase in fixture.knn {
            let bank = try #require(fixture.knnBanks[testCase.bank])
            let test = try #require(fixture.knnBanks[testCase.bank == "small" ? "small-test" : "test"])
            let names = (0..<testCase.outputs).map { "o\($0)" }
            let task: ProbeTask = testCase.multiclass ? .multiClass(names) : .multiLabel(names)
            let count = bank.features.count / bank.width
            let train = ProbeData(features: bank.features.map(Float.init), width: bank.width, targets: bank.targets,
                                  sampleIDs: (0..<count).map { "t\($0)" })
            for threads in [1, 2] {
                let probabilities = try nearestNeighbourProbabilities(train: train, testFeatures: test.features.map(Float.init), task: task,
                                                                      k: testCase.k, temperature: testCase.temperature, threads: threads)
                expectClose(probabilities, testCase.probabilities, tolerance: 1e-9, "\(testCase.name) on \(threads) threads")
            }
        }
    }

    @Test func nearestNeighbourRefusesBadSettings() {
        let train = ProbeData(features: [1, 0, 0, 1], width: 2, targets: [0, 1], sampleIDs: ["a", "b"])
        #expect(throws: EvaluationError.self) { try nearestNeighbourProbabilities(train: train, testFeatures: [1, 0], task: .multiClass(["x", "y"]), k: 0) }
        #expect(throws: EvaluationError.self) {
            try nearestNeighbourProbabilities(train: train, testFeatures: [1, 0], task: .multiClass(["x", "y"]), k: 1, temperature: 0)
        }
        #expect(throws: EvaluationError.self) { try nearestNeighbourProbabilities(train: train, testFeatures: [1, 0, 3], task: .multiClass(["x", "y"]), k: 1) }
    }
}
