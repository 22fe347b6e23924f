import Foundation
import Testing
import TestSupport
@testable import Evaluation

/// Cases recorded by scripts/fixtures/scoring.py from scikit-learn (null: sklearn has no value).
struct ScoringFixture: Decodable {
    struct BinaryCase: Decodable { var name: String; var targets: [Double]; var scores: [Double]; var metrics: [String: Double?] }
    struct BalancedCase: Decodable {
        var name: String; var targets: [Int]; var predictions: [Int]; var classes: Int; var balancedAccuracy: Double
        enum CodingKeys: String, CodingKey { case name, targets, predictions, classes, balancedAccuracy = "balanced_accuracy" }
    }
    struct MultiLabel: Decodable {
        var outputs: [String]; var ids: [String]; var targets: [Double?]; var scores: [Double]
        var perLabel: [String: [Double?]]; var counts: [Int]; var mean: [String: Double?]; var rowsWithAnyTarget: Int
        enum CodingKeys: String, CodingKey {
            case outputs, ids, targets, scores, perLabel = "per_label", counts, mean, rowsWithAnyTarget = "rows_with_any_target"
        }
    }
    struct MultiClass: Decodable {
        var name: String; var outputs: [String]; var ids: [String]; var targets: [Double?]; var scores: [Double]
        var knownRows: Int; var tiedRows: Int; var metrics: [String: Double]
        enum CodingKeys: String, CodingKey {
            case name, outputs, ids, targets, scores, knownRows = "known_rows", tiedRows = "tied_rows", metrics
        }
    }
    struct Study: Decodable {
        var outputs: [String]; var ids: [String]; var studies: [String]; var patients: [String]
        var targets: [Double?]; var scores: [Double]
        var studyIDs: [String]; var studyPatients: [String]; var studyScores: [Double]; var studyTargets: [Double?]
        var perLabel: [String: [Double?]]; var counts: [Int]; var mean: [String: Double?]; var rowsWithAnyTarget: Int
        enum CodingKeys: String, CodingKey {
            case outputs, ids, studies, patients, targets, scores, counts, mean
            case studyIDs = "study_ids", studyPatients = "study_patients", studyScores = "study_scores", studyTargets = "study_targets"
            case perLabel = "per_label", rowsWithAnyTarget = "rows_with_any_target"
        }
    }
    var binary: [BinaryCase]
    var balancedAccuracy: [BalancedCase]
    var multilabel: MultiLabel
    var multiclass: [MultiClass]
    var study: Study
    enum CodingKeys: String, CodingKey { case binary, balancedAccuracy = "balanced_accuracy", multilabel, multiclass, study }

    static func load() throws -> ScoringFixture {
        let data = try Data(contentsOf: fixturesDirectory().appendingPathComponent("scoring.json"))
        return try JSONDecoder().decode(ScoringFixture.self, from: data)
    }
}

@Suite struct ScoringParityTests {
    let fixture: ScoringFixture
    /// The fixture's metric names, each resolved through the standard catalog.
    let metrics: [(name: String, metric: any ClassificationMetric)]

    init() throws {
        fixture = try ScoringFixture.load()
        metrics = try ["auroc", "auprc", "mcc", "accuracy", "balanced-accuracy"].map { name in
            (name, try #require(MetricCatalog.standard.classificationMetric(named: name)))
        }
    }

    /// Records an issue unless `value` is within 1e-9 of sklearn's, or not computable where sklearn has none.
    func expectMatches(_ value: MetricValue, _ expected: Double?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if let expected {
            guard let actual = value.value else {
                Issue.record("\(what): \(value), sklearn \(expected)", sourceLocation: sourceLocation)
                return
            }
            #expect(abs(actual - expected) <= 1e-9, "\(what): \(actual) vs sklearn \(expected)", sourceLocation: sourceLocation)
        } else {
            #expect(value.value == nil, "\(what): sklearn has no value, got \(value)", sourceLocation: sourceLocation)
        }
    }

    @Test func binaryMetricsMatchScikitLearn() throws {
        for testCase in fixture.binary {
            for (name, metric) in metrics {
                let value = try metric.binaryValue(targets: testCase.targets, scores: testCase.scores, label: "x")
                expectMatches(value, try #require(testCase.metrics[name]), "\(testCase.name) \(name)")
            }
        }
    }

    @Test func balancedAccuracyOfClassesMatchesScikitLearn() throws {
        for testCase in fixture.balancedAccuracy {
            let value = try balancedAccuracy(targets: testCase.targets, predictions: testCase.predictions, classCount: testCase.classes)
            #expect(abs(value - testCase.balancedAccuracy) <= 1e-9, "\(testCase.name): \(value) vs sklearn \(testCase.balancedAccuracy)")
        }
    }

    /// Per-label values and counts, and the mean over computable labels, of every metric.
    func expectLabelBlock(_ predictions: ScoredPredictions, perLabel: [String: [Double?]], counts: [Int],
                          mean: [String: Double?], rowsWithAnyTarget: Int, _ what: String) throws {
        for (name, metric) in metrics {
            let score = predictions.score(metric)
            let expected = try #require(perLabel[name])
            #expect(score.labels.map(\.label) == predictions.outputs)
            #expect(score.labels.map(\.sampleCount) == counts, "\(what) \(name) counts")
            for (labelScore, reference) in zip(score.labels, expected) {
                expectMatches(labelScore.value, reference, "\(what) \(name) \(labelScore.label)")
            }
            expectMatches(score.value, try #require(mean[name]), "\(what) \(name) mean")
            #expect(score.sampleCount == rowsWithAnyTarget)
            #expect(score.leftOut.map(\.label) == zip(predictions.outputs, expected).filter { $0.1 == nil }.map(\.0))
        }
    }

    @Test func multiLabelWithUnknownAndOneClassLabelsMatchesScikitLearn() throws {
        let multi = fixture.multilabel
        let predictions = try ScoredPredictions(ids: multi.ids, patientIDs: multi.ids, outputs: multi.outputs,
                                                scores: multi.scores, targets: multi.targets, multiclass: false)
        try expectLabelBlock(predictions, perLabel: multi.perLabel, counts: multi.counts, mean: multi.mean,
                             rowsWithAnyTarget: multi.rowsWithAnyTarget, "multi-label")
    }

    @Test func multiClassMatchesScikitLearn() throws {
        for testCase in fixture.multiclass {
            #expect(testCase.tiedRows > 0)  // the arg-max tie rule is exercised
            let predictions = try ScoredPredictions(ids: testCase.ids, patientIDs: testCase.ids, outputs: testCase.outputs,
                                                    scores: testCase.scores, targets: testCase.targets, multiclass: true, labels: ["class"])
            for (name, metric) in metrics {
                let score = predictions.score(metric)
                expectMatches(score.value, try #require(testCase.metrics[name]), "\(testCase.name) \(name)")
                #expect(score.labels.count == 1 && score.labels[0].value == score.value && score.sampleCount == testCase.knownRows)
            }
        }
    }

    @Test func studyAggregationThenMetricsMatchesScikitLearn() throws {
        let study = fixture.study
        let images = try ScoredPredictions(ids: study.ids, patientIDs: study.patients, outputs: study.outputs,
                                           scores: study.scores, targets: study.targets, multiclass: false)
        let studies = try images.aggregatedByStudy(study.studies)
        #expect(studies.ids == study.studyIDs && studies.patientIDs == study.studyPatients)
        #expect(studies.targets == study.studyTargets)
        expectClose(studies.scores, study.studyScores, tolerance: 1e-12, "study scores")
        try expectLabelBlock(studies, perLabel: study.perLabel, counts: study.counts, mean: study.mean,
                             rowsWithAnyTarget: study.rowsWithAnyTarget, "study")
    }
}
