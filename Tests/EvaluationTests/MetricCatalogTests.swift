import Testing
import Evaluation

/// A metric defined outside the Evaluation module: the squared error of the probabilities (mean
/// squared difference between probability and truth; multi-class: summed over classes), where
/// lower is better.
struct SquaredError: ClassificationMetric {
    var name: String { "squared-error" }
    var displayName: String { "Squared error" }
    var direction: MetricDirection { .lowerIsBetter }

    func binaryValue(targets: [Double], scores: [Double], label: String) throws -> MetricValue {
        .value(zip(targets, scores).reduce(0) { $0 + ($1.1 - $1.0) * ($1.1 - $1.0) } / Double(targets.count))
    }

    func multiclassValue(trueClasses: [Int], scores: [Double], classes: [String]) throws -> MetricValue {
        var sum = 0.0
        for (row, trueClass) in trueClasses.enumerated() {
            for column in classes.indices {
                let difference = scores[row * classes.count + column] - (column == trueClass ? 1 : 0)
                sum += difference * difference
            }
        }
        return .value(sum / Double(trueClasses.count))
    }
}

/// Only the public API: what another module sees.
@Suite struct MetricCatalogTests {
    @Test func standardCatalogListsTheBuiltInSpellings() throws {
        let spellings = MetricCatalog.standard.spellings
        #expect(spellings.map(\.name) == ["auroc", "auprc", "mcc", "accuracy", "balanced-accuracy", "ece", "adaptive-ece", "brier", "nll",
                                          "precision@k", "ece@k", "adaptive-ece@k"])
        #expect(spellings.map(\.displayName) == ["AUROC", "AUPRC", "MCC", "Accuracy", "Balanced accuracy", "ECE", "Adaptive ECE", "Brier", "NLL",
                                                 "P@k", "ECE@k", "Adaptive ECE@k"])
        #expect(spellings.map { $0.direction == .higherIsBetter } == Array(repeating: true, count: 5) + Array(repeating: false, count: 4)
            + [true, false, false])
        #expect(spellings.map(\.isFamily) == Array(repeating: false, count: 9) + [true, true, true])
        #expect(MetricCatalog.standard.classificationMetricNames == ["auroc", "auprc", "mcc", "accuracy", "balanced-accuracy", "ece", "adaptive-ece",
                                                                     "brier", "nll"])
        for spelling in spellings where !spelling.isFamily {
            let metric = try #require(MetricCatalog.standard.classificationMetric(named: spelling.name))
            #expect(metric.name == spelling.name && metric.displayName == spelling.displayName)
        }
        #expect(MetricCatalog.standard.metric(named: "auc") == nil)
        #expect(MetricCatalog.standard.metric(named: "AUROC") == nil)
    }

    @Test func precisionAtKIsParsedAndFormattedInOnePlace() throws {
        let metric = try #require(MetricCatalog.standard.metric(named: "precision@10") as? PrecisionAtK)
        #expect(metric == PrecisionAtK(k: 10) && metric.name == "precision@10" && metric.displayName == "P@10")
        #expect(PrecisionAtK(name: PrecisionAtK(k: 100).name)?.k == 100)
        for bad in ["precision@0", "precision@", "precision@x", "precision@010", "precision@+5", "precision@-1", "precision@ 5", "precision10"] {
            #expect(MetricCatalog.standard.metric(named: bad) == nil, "\(bad)")
        }
        // A retrieval metric is not a classification metric.
        #expect(MetricCatalog.standard.classificationMetric(named: "precision@5") == nil)
    }

    @Test func aMetricFromAnotherModuleRegistersWithoutEditingTheCatalog() throws {
        var catalog = MetricCatalog.standard
        catalog.register(SquaredError())
        #expect(MetricCatalog.standard.metric(named: "squared-error") == nil)  // the standard catalog is a value, unchanged
        let brier = try #require(catalog.classificationMetric(named: "squared-error"))
        let spelling = try #require(catalog.spellings.first { $0.name == "squared-error" })
        #expect(spelling.displayName == "Squared error" && spelling.direction == .lowerIsBetter && !spelling.isFamily)
        #expect(catalog.classificationMetricNames.last == "squared-error")
        #expect(catalog.metric(named: "precision@3") != nil && catalog.metric(named: "auroc") != nil)

        // It scores through the one scoring path like a built-in: per label on the known rows, then the mean.
        let predictions = try ScoredPredictions(ids: ["a", "b", "c"], patientIDs: ["a", "b", "c"], outputs: ["x", "y"],
                                                scores: [0.5, 1, 0.25, 0, 1, 0.5], targets: [1, 1, 0, nil, 1, 1], multiclass: false)
        let score = predictions.score(brier)
        // x: (0.25 + 0.0625 + 0) / 3; y: (0 + 0.25) / 2.
        #expect(score.labels.map(\.value) == [.value(0.3125 / 3), .value(0.125)])
        #expect(score.labels.map(\.sampleCount) == [3, 2])
        #expect(score.value == .value((0.3125 / 3 + 0.125) / 2))
    }

    @Test func aFamilyFromAnotherModuleRegistersToo() throws {
        var catalog = MetricCatalog()
        catalog.register(RecallAtK.family)
        #expect((catalog.metric(named: "recall@4") as? RecallAtK)?.k == 4)
        #expect(catalog.metric(named: "recall@4")?.displayName == "R@4")
        #expect(catalog.metric(named: "precision@4") == nil && catalog.metric(named: "recall@0") == nil)
        #expect(catalog.spellings.map(\.name) == ["recall@k"] && catalog.classificationMetricNames.isEmpty)
    }
}

/// A parameterised family defined outside the Evaluation module (names only: no computation).
struct RecallAtK: Metric {
    var k: Int
    var name: String { "recall@\(k)" }
    var displayName: String { "R@\(k)" }
    var direction: MetricDirection { .higherIsBetter }
    var input: String { "retrieval" }

    static let family = MetricCatalog.Family(pattern: "recall@k", displayName: "R@k", direction: .higherIsBetter, input: "retrieval") { name in
        guard name.hasPrefix("recall@"), let k = Int(name.dropFirst("recall@".count)), k > 0 else { return nil }
        return RecallAtK(k: k)
    }
}
