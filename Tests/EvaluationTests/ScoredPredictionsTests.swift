import Testing
@testable import Evaluation

/// `ScoredPredictions` on cases small enough to compute by hand.
@Suite struct ScoredPredictionsTests {
    /// Labels a and b trained, c not; b has only negatives among its known rows; row 3 knows nothing.
    static func multiLabel() throws -> ScoredPredictions {
        try ScoredPredictions(
            ids: ["r0", "r1", "r2", "r3"], patientIDs: ["p0", "p0", "p1", "p2"], outputs: ["a", "b"],
            scores: [0.9, 0.2,
                     0.3, 0.6,
                     0.4, 0.1,
                     0.8, 0.5],
            targets: [1, nil,
                      0, 0,
                      1, 0,
                      nil, nil],
            multiclass: false, labels: ["a", "b", "c"], untrainedLabels: ["c": "the training set has 0 positive samples of c"])
    }

    @Test func multiLabelScoresEachLabelOnItsKnownRowsAndMeansTheComputableOnes() throws {
        let predictions = try Self.multiLabel()
        #expect(predictions.rowsWithAnyTarget == 3)
        let auroc = predictions.score(AUROC())
        #expect(auroc.labels == [
            LabelScore(label: "a", value: .value(1), sampleCount: 3),
            LabelScore(label: "b", value: .notComputable(reason: "label 'b' has no positive sample in the test set"), sampleCount: 2),
            LabelScore(label: "c", value: .notComputable(reason: "not trained: the training set has 0 positive samples of c"), sampleCount: 0),
        ])
        // Two trained labels, one computable: the mean is a's value, on the rows knowing anything.
        #expect(auroc.isMeanOverLabels && auroc.value == .value(1) && auroc.sampleCount == 3)
        #expect(auroc.leftOut.map(\.label) == ["b", "c"])
        #expect(auroc.leftOut[0].reason.contains("no positive") && auroc.leftOut[1].reason.hasPrefix("not trained"))

        // MCC at 0.5: a predicts [1, 0, 0] against [1, 0, 1] (TP 1, TN 1, FN 1: 1/√4); b holds
        // one class, where MCC is 0 as in sklearn. Both count in the mean.
        let mcc = predictions.score(MCC())
        #expect(mcc.labels.map(\.value) == [.value(0.5), .value(0), .notComputable(reason: "not trained: the training set has 0 positive samples of c")])
        #expect(mcc.value == .value(0.25) && mcc.leftOut.map(\.label) == ["c"])
        // Balanced accuracy: a recalls 1/2 positives and 1/1 negatives; b (negatives only) 1/2.
        #expect(predictions.score(BalancedAccuracy()).labels.prefix(2).map(\.value) == [.value(0.75), .value(0.5)])
    }

    @Test func oneLabelIsItsOwnTaskValue() throws {
        let predictions = try ScoredPredictions(ids: ["x", "y", "z"], patientIDs: ["x", "y", "z"], outputs: ["edema"],
                                                scores: [0.7, 0.2, 0.4], targets: [1, 0, nil], multiclass: false)
        let score = predictions.score(AUPRC())
        #expect(!score.isMeanOverLabels && score.leftOut.isEmpty)
        #expect(score.labels == [LabelScore(label: "edema", value: .value(1), sampleCount: 2)] && score.value == .value(1))
    }

    @Test func notComputableCasesSayWhy() throws {
        // Every trained label holds one class: no mean.
        let oneClass = try ScoredPredictions(ids: ["x", "y"], patientIDs: ["x", "y"], outputs: ["a", "b"],
                                             scores: [0.1, 0.2, 0.3, 0.4], targets: [1, 0, 1, 0], multiclass: false)
        #expect(oneClass.score(AUROC()).value == .notComputable(reason: "no label has a computable auroc"))
        // No row knows the label.
        let unknown = try ScoredPredictions(ids: ["x"], patientIDs: ["x"], outputs: ["a", "b"], scores: [0.1, 0.2],
                                            targets: [nil, 1], multiclass: false)
        #expect(unknown.score(Accuracy()).labels[0].value == .notComputable(reason: "no test sample has a known a"))
        // A metric that throws (a NaN score) gives the error as the reason, and the other labels still count.
        let nan = try ScoredPredictions(ids: ["x", "y"], patientIDs: ["x", "y"], outputs: ["a", "b"],
                                        scores: [.nan, 0.2, 0.3, 0.4], targets: [1, 1, 0, 0], multiclass: false)
        let score = nan.score(AUROC())
        #expect("\(score.labels[0].value)".contains("NaN or infinite") && score.value == .value(0))
        // Nothing to score at all.
        let none = TaskScore.notComputable(labels: ["a", "b"], reason: "test subgroup female has no sample")
        #expect(none.labels.map(\.value) == [.notComputable(reason: "test subgroup female has no sample"),
                                             .notComputable(reason: "test subgroup female has no sample")])
        #expect(none.isMeanOverLabels && none.value.value == nil && none.sampleCount == 0)
    }

    /// Classes x, y, z of the label `kind`; row 2 unknown; row 1 ties x and y at the top.
    static func multiClass() throws -> ScoredPredictions {
        try ScoredPredictions(
            ids: ["r0", "r1", "r2", "r3", "r4"], patientIDs: ["p0", "p1", "p2", "p3", "p4"], outputs: ["x", "y", "z"],
            scores: [0.2, 0.5, 0.3,
                     0.4, 0.4, 0.2,
                     0.1, 0.1, 0.8,
                     0.5, 0.2, 0.3,
                     0.3, 0.3, 0.4],
            targets: [0, 1, 0,
                      1, 0, 0,
                      nil, nil, nil,
                      0, 0, 1,
                      0, 1, 0],
            multiclass: true, labels: ["kind"])
    }

    @Test func multiClassScoresTheKnownRowsOnce() throws {
        let predictions = try Self.multiClass()
        // Arg-max (lowest index on ties): y, x, –, x, z against y, x, –, z, y.
        let accuracy = predictions.score(Accuracy())
        #expect(accuracy.labels == [LabelScore(label: "kind", value: .value(0.5), sampleCount: 4)])
        #expect(!accuracy.isMeanOverLabels && accuracy.value == .value(0.5) && accuracy.sampleCount == 4)
        // Recall x 1/1, y 1/2, z 0/1.
        #expect(predictions.score(BalancedAccuracy()).value == .value(0.5))
        // One-vs-rest AUROC: x 2/3, y 3/4, z (one tie) 1.5/3.
        let auroc = try #require(predictions.score(AUROC()).value.value)
        #expect(abs(auroc - 23.0 / 36) < 1e-15)
        // No class known anywhere.
        let unknown = try ScoredPredictions(ids: ["r"], patientIDs: ["p"], outputs: ["x", "y"], scores: [0.5, 0.5],
                                            targets: [nil, nil], multiclass: true, labels: ["kind"])
        #expect(unknown.score(MCC()).value == .notComputable(reason: "no test sample has a known kind"))
    }

    @Test func studyAggregationAveragesScoresAndTakesAnyPositive() throws {
        let images = try ScoredPredictions(
            ids: ["i0", "i1", "i2", "i3", "i4"], patientIDs: ["pa", "pb", "pa2", "pc", "pb2"], outputs: ["abnormal"],
            scores: [0.2, 0.6, 0.4, 0.9, 0.8], targets: [0, nil, 1, nil, nil], multiclass: false)
        let studies = try images.aggregatedByStudy(["s1", "s2", "s1", "s3", "s2"])
        #expect(studies.ids == ["s1", "s2", "s3"] && studies.patientIDs == ["pa", "pb", "pc"])
        #expect(studies.targets == [1, nil, nil])
        for (actual, expected) in zip(studies.scores, [0.3, 0.7, 0.9]) { #expect(abs(actual - expected) < 1e-15) }
        #expect(throws: EvaluationError.lengthMismatch(what: "study ids", expected: 5, actual: 1)) {
            try images.aggregatedByStudy(["s1"])
        }
        // A multi-class study has one class: images that disagree are an error, not a guess.
        let classes = try ScoredPredictions(ids: ["i0", "i1"], patientIDs: ["p", "p"], outputs: ["x", "y"],
                                            scores: [0.5, 0.5, 0.5, 0.5], targets: [1, 0, 0, 1], multiclass: true, labels: ["kind"])
        #expect(throws: EvaluationError.self) { try classes.aggregatedByStudy(["s", "s"]) }
        #expect(try classes.aggregatedByStudy(["s", "t"]).count == 2)
    }

    @Test func restrictionKeepsRepeatsAndScoresLikeRepeatedRows() throws {
        let predictions = try Self.multiLabel()
        let restricted = predictions.restricted(to: [2, 0, 2, 3])
        #expect(restricted.ids == ["r2", "r0", "r2", "r3"] && restricted.patientIDs == ["p1", "p0", "p1", "p2"])
        #expect(restricted.scores == [0.4, 0.1, 0.9, 0.2, 0.4, 0.1, 0.8, 0.5])
        #expect(restricted.targets == [1, 0, 1, nil, 1, 0, nil, nil])
        #expect(restricted.labels == predictions.labels && restricted.untrainedLabels == predictions.untrainedLabels)
        let explicit = try ScoredPredictions(ids: restricted.ids, patientIDs: restricted.patientIDs, outputs: ["a", "b"],
                                             scores: restricted.scores, targets: restricted.targets, multiclass: false,
                                             labels: ["a", "b", "c"], untrainedLabels: predictions.untrainedLabels)
        #expect(restricted == explicit)
        #expect(restricted.score(MCC()) == explicit.score(MCC()) && restricted.score(MCC()).sampleCount == 3)
        #expect(predictions.restricted(to: []).score(AUROC()).labels[0].value == .notComputable(reason: "no test sample has a known a"))
    }

    @Test func bootstrapScoresEachResample() throws {
        let predictions = try Self.multiClass().restricted(to: [0, 1, 3, 4, 0, 1, 3, 4, 2])
        let resampler = try BootstrapResampler(sampleCount: predictions.count, patientIDs: predictions.patientIDs, seed: 3)
        let result = try predictions.bootstrap(BalancedAccuracy(), resampler: resampler, configuration: BootstrapConfiguration(replicates: 20))
        for (replicate, value) in result.replicates.enumerated() {
            #expect(value == predictions.restricted(to: resampler.indices(replicate: replicate)).score(BalancedAccuracy()).value)
        }
        #expect(result.estimate == predictions.score(BalancedAccuracy()).value)
        let other = try BootstrapResampler(sampleCount: 3, patientIDs: nil, seed: 3)
        #expect(throws: EvaluationError.self) { try predictions.bootstrap(MCC(), resampler: other, configuration: BootstrapConfiguration()) }
    }

    @Test func fastAUROCBootstrapEqualsScoringEachResample() throws {
        var generator = SeededGenerator(seed: 11)
        let rows = 60, outputs = ["a", "b", "c"]
        let targets: [Double?] = (0..<(rows * 3)).map { _ in generator.nextIndex(below: 3) == 0 ? 1 : 0 }
        let scores = targets.map { ($0! + Double(generator.nextIndex(below: 10))) / 11 }
        let predictions = try ScoredPredictions(ids: (0..<rows).map { "s\($0)" }, patientIDs: (0..<rows).map { "p\($0 / 3)" },
                                                outputs: outputs, scores: scores, targets: targets, multiclass: false)
        let resampler = try BootstrapResampler(sampleCount: rows, patientIDs: predictions.patientIDs, seed: 8)
        let result = try predictions.bootstrap(AUROC(), resampler: resampler, configuration: BootstrapConfiguration(replicates: 25))
        for (replicate, value) in result.replicates.enumerated() {
            let expected = try #require(predictions.restricted(to: resampler.indices(replicate: replicate)).score(AUROC()).value.value)
            #expect(abs(try #require(value.value) - expected) < 1e-12, "replicate \(replicate)")
        }
    }

    @Test func inconsistentInputThrows() throws {
        #expect(throws: EvaluationError.lengthMismatch(what: "scores (rows × 2 outputs)", expected: 2, actual: 1)) {
            try ScoredPredictions(ids: ["x"], patientIDs: ["x"], outputs: ["a", "b"], scores: [0.1], targets: [1, 0], multiclass: false)
        }
        #expect(throws: EvaluationError.nonBinaryTarget(label: "b", sampleIndex: 0, value: 0.5)) {
            try ScoredPredictions(ids: ["x"], patientIDs: ["x"], outputs: ["a", "b"], scores: [0.1, 0.2], targets: [1, 0.5], multiclass: false)
        }
        #expect(throws: EvaluationError.self) {  // a label neither trained nor reported untrained
            try ScoredPredictions(ids: ["x"], patientIDs: ["x"], outputs: ["a"], scores: [0.1], targets: [1], multiclass: false, labels: ["a", "b"])
        }
        #expect(throws: EvaluationError.self) {  // a multi-class row that is not one-hot
            try ScoredPredictions(ids: ["x"], patientIDs: ["x"], outputs: ["a", "b"], scores: [0.1, 0.9], targets: [1, nil],
                                  multiclass: true, labels: ["kind"])
        }
        #expect(throws: EvaluationError.self) {
            try ScoredPredictions(ids: ["x"], patientIDs: [], outputs: ["a"], scores: [0.1], targets: [1], multiclass: false)
        }
    }
}
