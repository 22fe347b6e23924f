/// Whether larger values of a metric are better.
public enum MetricDirection: String, Sendable, Hashable, Codable {
    /// Larger is better (AUROC, accuracy, Precision@k).
    case higherIsBetter
    /// Smaller is better (a loss, an error rate).
    case lowerIsBetter
}

/// A metric as specs, results and tables name it.
///
/// Metrics are looked up by name in a `MetricCatalog`; nothing else parses their spellings.
public protocol Metric: Sendable {
    /// The spelling in specs and in the results' `metric` column (`auroc`, `precision@10`).
    var name: String { get }
    /// The name in table headers (`AUROC`, `P@10`).
    var displayName: String { get }
    /// Whether larger values are better.
    var direction: MetricDirection { get }
    /// What it scores (`classification`, `retrieval`, ...): a task kind accepts the metrics of
    /// its input.
    var input: String { get }
}

/// A metric of a classifier's probability scores against known truths: one binary label, or one
/// multi-class label.
///
/// `ScoredPredictions` calls the binary form once per label on the samples whose truth is
/// known, and the multi-class form once per task. A thrown error becomes a not-computable value
/// carrying the error's description, so one bad label never hides the others.
public protocol ClassificationMetric: Metric {
    /// The metric of one binary label.
    /// - Parameters:
    ///   - targets: 0 or 1 per sample.
    ///   - scores: the predicted probability of 1 per sample.
    ///   - label: the label's name, for reasons and errors.
    /// - Returns: the value, or why it is undefined on these samples.
    /// - Throws: `EvaluationError` for mismatched lengths, a target outside {0, 1} or a non-finite score.
    func binaryValue(targets: [Double], scores: [Double], label: String) throws -> MetricValue

    /// The metric of one multi-class label.
    /// - Parameters:
    ///   - trueClasses: the true class index per sample, in `0..<classes.count`.
    ///   - scores: row-major `[samples, classes.count]` class probabilities.
    ///   - classes: the class names, for reasons and errors.
    /// - Returns: the value, or why it is undefined on these samples.
    /// - Throws: `EvaluationError` for mismatched shapes, a class index out of range or a non-finite score.
    func multiclassValue(trueClasses: [Int], scores: [Double], classes: [String]) throws -> MetricValue
}

/// A classification metric of predicted classes: a binary label is predicted 1 at probability
/// 0.5 or above, a multi-class label as its arg-max class (lowest index on ties, as `numpy.argmax`).
///
/// Conforming types implement only `value(trueClasses:predictedClasses:classCount:)`.
public protocol ThresholdedMetric: ClassificationMetric {
    /// The metric of predicted against true class indices (binary: classes 0 and 1).
    /// - Throws: `EvaluationError` for mismatched lengths, no samples or an index out of range.
    func value(trueClasses: [Int], predictedClasses: [Int], classCount: Int) throws -> MetricValue
}

extension ThresholdedMetric {
    /// The metric of the predictions `score >= 0.5`.
    public func binaryValue(targets: [Double], scores: [Double], label: String) throws -> MetricValue {
        guard targets.count == scores.count else {
            throw EvaluationError.lengthMismatch(what: "scores of label '\(label)'", expected: targets.count, actual: scores.count)
        }
        for (index, target) in targets.enumerated() where target != 0 && target != 1 {
            throw EvaluationError.nonBinaryTarget(label: label, sampleIndex: index, value: target)
        }
        for (index, score) in scores.enumerated() where !score.isFinite {
            throw EvaluationError.nonFiniteValue(what: "scores of label '\(label)'", index: index)
        }
        return try value(trueClasses: targets.map { Int($0) }, predictedClasses: predictedClasses(scores: scores, classCount: 1),
                         classCount: 2)
    }

    /// The metric of the arg-max predictions.
    public func multiclassValue(trueClasses: [Int], scores: [Double], classes: [String]) throws -> MetricValue {
        try validateClassScores(trueClasses: trueClasses, scores: scores, classes: classes)
        return try value(trueClasses: trueClasses, predictedClasses: predictedClasses(scores: scores, classCount: classes.count),
                         classCount: classes.count)
    }
}

/// Checks the shape and values of a multi-class metric's inputs.
/// - Throws: `EvaluationError` for no classes, a shape that is not samples × classes, a non-finite score.
func validateClassScores(trueClasses: [Int], scores: [Double], classes: [String]) throws {
    guard !classes.isEmpty else { throw EvaluationError.empty(what: "class list") }
    guard scores.count == trueClasses.count * classes.count else {
        throw EvaluationError.lengthMismatch(what: "class scores (samples × \(classes.count) classes)",
                                             expected: trueClasses.count * classes.count, actual: scores.count)
    }
    for (index, score) in scores.enumerated() where !score.isFinite {
        throw EvaluationError.nonFiniteValue(what: "scores of class '\(classes[index % classes.count])'", index: index / classes.count)
    }
}

extension ClassificationMetric {
    /// Classification metrics score a classifier's predictions.
    public var input: String { "classification" }
}
