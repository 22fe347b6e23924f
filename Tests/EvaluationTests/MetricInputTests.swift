import Testing
@testable import Evaluation

@Suite struct MetricInputTests {
    @Test func badTargetsAndScoresThrowTypedErrors() {
        #expect(throws: EvaluationError.nonBinaryTarget(label: "edema", sampleIndex: 1, value: -1)) {
            try rocAUC(targets: [0, -1, 1], scores: [0.1, 0.2, 0.3], label: "edema")
        }
        #expect(throws: EvaluationError.nonFiniteValue(what: "scores of label 'label'", index: 2)) {
            try rocAUC(targets: [0, 1, 1], scores: [0.1, 0.2, .nan])
        }
        #expect(throws: EvaluationError.self) { try rocAUC(targets: [0, 1], scores: [0.1]) }
        #expect(throws: EvaluationError.invalidClassIndex(sampleIndex: 0, value: 3, classCount: 3)) {
            try matthewsCorrelation(targets: [3, 0], predictions: [0, 0], classCount: 3)
        }
        #expect(throws: EvaluationError.empty(what: "test set")) {
            try matthewsCorrelation(targets: [], predictions: [], classCount: 2)
        }
        #expect(throws: EvaluationError.self) { try mannWhitneyU([], [1]) }
        #expect(throws: EvaluationError.self) { try mannWhitneyU([.nan], [1]) }
    }

    @Test func noPositiveIsExplainedNotNaN() throws {
        let value = try rocAUC(targets: [0, 0, 0], scores: [0.1, 0.2, 0.3], label: "fracture")
        #expect(value == .notComputable(reason: "label 'fracture' has no positive sample in the test set"))
        let report = try rocAUC(targets: [0, 0, 0, 0], scores: [0.1, 0.2, 0.3, 0.4], labels: ["a", "b"])
        #expect(report.macro.value == nil)
        #expect("\(report.macro)".contains("not computable"))
    }

    @Test func errorMessagesSayWhatToDo() {
        let message = EvaluationError.nonBinaryTarget(label: "edema", sampleIndex: 4, value: -1).description
        #expect(message.contains("edema") && message.contains("sample 4") && message.contains("-1"))
        #expect(EvaluationError.invalidFraction(1.5).description.contains("(0, 1]"))
    }

    @Test func predictedClassesUseArgmaxAndThreshold() {
        #expect(predictedClasses(scores: [0.2, 0.5, 0.5, 0.9, 0.1, 0.0], classCount: 3) == [1, 0])
        #expect(predictedClasses(scores: [0.49, 0.5, 0.7], classCount: 1) == [0, 1, 1])
    }

    @Test func holmMatchesHandComputation() {
        // Sorted p: 0.01, 0.02, 0.04, 0.3 → ×4, ×3, ×2, ×1 = 0.04, 0.06, 0.08, 0.3 (already monotone).
        let adjusted = holmAdjusted([0.04, 0.01, 0.3, 0.02])
        let expected = [0.08, 0.04, 0.3, 0.06]
        for (a, e) in zip(adjusted, expected) { #expect(abs(a - e) < 1e-15) }
        // Running maximum and the cap at 1.
        let capped = holmAdjusted([0.3, 0.2, 0.9])
        for (a, e) in zip(capped, [0.6, 0.6, 0.9]) { #expect(abs(a - e) < 1e-15) }
        #expect(holmAdjusted([0.5, 0.6]) == [1, 1])
    }

    @Test func hugeExactCaseFallsBackToAsymptoticQuickly() throws {
        let result = try mannWhitneyU([0.5, 1.5, 2.5], (0..<200_000).map { Double($0) + 0.25 })
        #expect(result.method == .asymptotic)
        #expect(result.p > 0 && result.p <= 1)
    }

    @Test func exactMannWhitneyDistributionSumsToOne() {
        for (small, large) in [(1, 1), (3, 5), (8, 8), (8, 30)] {
            let total = mannWhitneyNullDistribution(small, large, through: small * large).reduce(0, +)
            #expect(abs(total - 1) < 1e-12)
        }
        // Sizes (2, 2): U ∈ {0, 1, 2, 2, 3, 4} over the six arrangements.
        let distribution = mannWhitneyNullDistribution(2, 2, through: 4)
        let expected = [1.0, 1, 2, 1, 1].map { $0 / 6 }
        for (a, e) in zip(distribution, expected) { #expect(abs(a - e) < 1e-15) }
    }
}

@Suite struct MannWhitneyFamilyTests {
    @Test func familyAppliesHolmWhenAsked() throws {
        let comparisons: [(name: String, first: [Double], second: [Double])] = [
            ("shifted", (0..<20).map { Double($0) + 8 }, (0..<20).map(Double.init)),
            ("same", (0..<20).map(Double.init), (0..<20).map { Double($0) + 0.5 }),
        ]
        let plain = try mannWhitneyFamily(comparisons, holmCorrection: false)
        let corrected = try mannWhitneyFamily(comparisons, holmCorrection: true)
        #expect(plain.map(\.adjustedP) == plain.map(\.result.p))
        #expect(corrected.map(\.adjustedP) == holmAdjusted(plain.map(\.result.p)))
        #expect(corrected[0].result.rankBiserial > 0.5)
        #expect(throws: EvaluationError.self) { try mannWhitneyFamily([("empty", [], [1])], holmCorrection: true) }
    }
}
