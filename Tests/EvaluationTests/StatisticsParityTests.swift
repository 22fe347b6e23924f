import Foundation
import Random
import Testing
import TestSupport
@testable import Evaluation

/// Cases recorded by scripts/fixtures/evaluation_statistics.py from scikit-learn, scipy and numpy.
struct StatisticsFixture: Decodable {
    struct AUROCCase: Decodable { var name: String; var targets: [Double]; var scores: [Double]; var auroc: Double? }
    struct MultiLabel: Decodable {
        var labels: [String]; var targets: [Double]; var scores: [Double]; var perLabel: [Double?]; var macro: Double
        enum CodingKeys: String, CodingKey { case labels, targets, scores, perLabel = "per_label", macro }
    }
    struct MCCCase: Decodable {
        var name: String; var targets: [Int]; var predictions: [Int]; var classes: Int; var mcc: Double; var accuracy: Double
    }
    struct MWUCase: Decodable { var name: String; var x: [Double]; var y: [Double]; var u: Double; var p: Double; var method: String }
    struct PercentileCase: Decodable { var values: [Double]; var percents: [Double]; var expected: [Double] }
    var auroc: [AUROCCase]
    var multilabel: MultiLabel
    var mcc: [MCCCase]
    var mannwhitneyu: [MWUCase]
    var percentile: [PercentileCase]

    static func load() throws -> StatisticsFixture {
        let data = try Data(contentsOf: fixturesDirectory().appendingPathComponent("statistics.json"))
        return try JSONDecoder().decode(StatisticsFixture.self, from: data)
    }
}

@Suite struct StatisticsParityTests {
    let fixture: StatisticsFixture
    init() throws { fixture = try StatisticsFixture.load() }

    @Test func aurocMatchesScikitLearn() throws {
        for testCase in fixture.auroc {
            let value = try rocAUC(targets: testCase.targets, scores: testCase.scores, label: testCase.name)
            if let expected = testCase.auroc {
                let actual = try #require(value.value, "\(testCase.name): \(value)")
                #expect(abs(actual - expected) <= 1e-9, "\(testCase.name): \(actual) vs sklearn \(expected)")
            } else {
                #expect(value.value == nil, "\(testCase.name): sklearn cannot compute it, got \(value)")
            }
        }
    }

    @Test func weightedAUROCEqualsRepeatedRows() throws {
        // A bootstrap replicate's weighted pass must equal sklearn's AUROC on the repeated rows.
        let testCase = fixture.auroc.first { $0.name.hasPrefix("ties n=200") }!
        let ranked = try RankedScores(targets: testCase.targets, scores: testCase.scores, label: "x")
        var generator = SeededGenerator(seed: 5)
        let weights = (0..<testCase.targets.count).map { _ in Int32(generator.nextIndex(below: 4)) }
        var repeatedTargets: [Double] = [], repeatedScores: [Double] = []
        for (index, weight) in weights.enumerated() {
            for _ in 0..<weight {
                repeatedTargets.append(testCase.targets[index])
                repeatedScores.append(testCase.scores[index])
            }
        }
        let weighted = try #require(weights.withUnsafeBufferPointer { ranked.auroc(weights: $0) }.value)
        let repeated = try #require(try rocAUC(targets: repeatedTargets, scores: repeatedScores).value)
        #expect(abs(weighted - repeated) <= 1e-12)
    }

    @Test func multiLabelAUROCLeavesOutOneClassLabels() throws {
        let multi = fixture.multilabel
        let report = try rocAUC(targets: multi.targets, scores: multi.scores, labels: multi.labels)
        for (value, expected) in zip(report.perLabel, multi.perLabel) {
            if let expected {
                #expect(abs((value.value ?? .nan) - expected) <= 1e-9)
            } else {
                guard case let .notComputable(reason) = value else {
                    Issue.record("expected not computable, got \(value)")
                    continue
                }
                #expect(reason.contains("no positive"))
            }
        }
        #expect(abs((report.macro.value ?? .nan) - multi.macro) <= 1e-9)
    }

    @Test func matthewsCorrelationAndAccuracyMatchScikitLearn() throws {
        for testCase in fixture.mcc {
            let mcc = try matthewsCorrelation(targets: testCase.targets, predictions: testCase.predictions, classCount: testCase.classes)
            #expect(abs(mcc - testCase.mcc) <= 1e-9, "\(testCase.name): \(mcc) vs sklearn \(testCase.mcc)")
            let accuracyValue = try accuracy(targets: testCase.targets, predictions: testCase.predictions, classCount: testCase.classes)
            #expect(abs(accuracyValue - testCase.accuracy) <= 1e-12, "\(testCase.name)")
        }
    }

    @Test func mannWhitneyMatchesScipyAuto() throws {
        for testCase in fixture.mannwhitneyu {
            let result = try mannWhitneyU(testCase.x, testCase.y)
            #expect(result.u == testCase.u, "\(testCase.name): U \(result.u) vs scipy \(testCase.u)")
            #expect(abs(result.p - testCase.p) <= 1e-9, "\(testCase.name): p \(result.p) vs scipy \(testCase.p)")
            #expect(result.method.rawValue == testCase.method, "\(testCase.name): \(result.method) vs scipy \(testCase.method)")
            #expect(abs(result.rankBiserial - (2 * testCase.u / Double(testCase.x.count * testCase.y.count) - 1)) <= 1e-12)
        }
    }

    @Test func percentileMatchesNumPyLinear() {
        for testCase in fixture.percentile {
            for (percent, expected) in zip(testCase.percents, testCase.expected) {
                let actual = percentile(testCase.values, percent)
                #expect(abs(actual - expected) <= 1e-12, "n=\(testCase.values.count) q=\(percent): \(actual) vs numpy \(expected)")
            }
        }
    }
}
