/// The built-in classification metrics. Each matches scikit-learn on the same samples (checked
/// by the parity fixtures of scripts/fixtures/scoring.py) except where sklearn has no value.

/// Area under the ROC curve (`auroc`), as `sklearn.metrics.roc_auc_score`; multi-class: the
/// one-vs-rest macro mean over the classes present in the test samples.
public struct AUROC: ClassificationMetric {
    /// `auroc`.
    public var name: String { "auroc" }
    /// `AUROC`.
    public var displayName: String { "AUROC" }
    /// Higher is better.
    public var direction: MetricDirection { .higherIsBetter }

    /// Creates the metric.
    public init() {}

    /// `rocAUC(targets:scores:label:)`: not computable when the samples hold one class.
    public func binaryValue(targets: [Double], scores: [Double], label: String) throws -> MetricValue {
        try rocAUC(targets: targets, scores: scores, label: label)
    }

    /// One-vs-rest macro AUROC (`roc_auc_score(label_binarize(y), s, average="macro")`).
    public func multiclassValue(trueClasses: [Int], scores: [Double], classes: [String]) throws -> MetricValue {
        try oneVersusRest(self, trueClasses: trueClasses, scores: scores, classes: classes)
    }
}

/// Area under the precision–recall curve as average precision (`auprc`), exactly
/// `sklearn.metrics.average_precision_score`; multi-class: the one-vs-rest macro mean over the
/// classes present in the test samples (sklearn's `label_binarize` path, which refuses absent classes).
public struct AUPRC: ClassificationMetric {
    /// `auprc`.
    public var name: String { "auprc" }
    /// `AUPRC`.
    public var displayName: String { "AUPRC" }
    /// Higher is better.
    public var direction: MetricDirection { .higherIsBetter }

    /// Creates the metric.
    public init() {}

    /// `averagePrecision(targets:scores:label:)`: not computable without a positive sample.
    public func binaryValue(targets: [Double], scores: [Double], label: String) throws -> MetricValue {
        try averagePrecision(targets: targets, scores: scores, label: label)
    }

    /// One-vs-rest macro average precision.
    public func multiclassValue(trueClasses: [Int], scores: [Double], classes: [String]) throws -> MetricValue {
        try oneVersusRest(self, trueClasses: trueClasses, scores: scores, classes: classes)
    }
}

/// Matthews correlation coefficient (`mcc`), as `sklearn.metrics.matthews_corrcoef` of the
/// predicted classes; 0 where sklearn returns 0 (one class predicted or present).
public struct MCC: ThresholdedMetric {
    /// `mcc`.
    public var name: String { "mcc" }
    /// `MCC`.
    public var displayName: String { "MCC" }
    /// Higher is better.
    public var direction: MetricDirection { .higherIsBetter }

    /// Creates the metric.
    public init() {}

    /// `matthewsCorrelation(targets:predictions:classCount:)`.
    public func value(trueClasses: [Int], predictedClasses: [Int], classCount: Int) throws -> MetricValue {
        .value(try matthewsCorrelation(targets: trueClasses, predictions: predictedClasses, classCount: classCount))
    }
}

/// Fraction of samples whose predicted class is the true class (`accuracy`), as
/// `sklearn.metrics.accuracy_score`.
public struct Accuracy: ThresholdedMetric {
    /// `accuracy`.
    public var name: String { "accuracy" }
    /// `Accuracy`.
    public var displayName: String { "Accuracy" }
    /// Higher is better.
    public var direction: MetricDirection { .higherIsBetter }

    /// Creates the metric.
    public init() {}

    /// `accuracy(targets:predictions:classCount:)`.
    public func value(trueClasses: [Int], predictedClasses: [Int], classCount: Int) throws -> MetricValue {
        .value(try accuracy(targets: trueClasses, predictions: predictedClasses, classCount: classCount))
    }
}

/// Mean recall over the classes present in the test samples (`balanced-accuracy`), as
/// `sklearn.metrics.balanced_accuracy_score` (not adjusted).
public struct BalancedAccuracy: ThresholdedMetric {
    /// `balanced-accuracy`.
    public var name: String { "balanced-accuracy" }
    /// `Balanced accuracy`.
    public var displayName: String { "Balanced accuracy" }
    /// Higher is better.
    public var direction: MetricDirection { .higherIsBetter }

    /// Creates the metric.
    public init() {}

    /// `balancedAccuracy(targets:predictions:classCount:)`.
    public func value(trueClasses: [Int], predictedClasses: [Int], classCount: Int) throws -> MetricValue {
        .value(try balancedAccuracy(targets: trueClasses, predictions: predictedClasses, classCount: classCount))
    }
}

/// A binary metric made multi-class one-vs-rest: each class's scores against "is this class",
/// then the mean over the classes where it is computable (a class absent from the samples is
/// left out), as sklearn's `label_binarize` + `average="macro"` when every class is present.
/// - Throws: `EvaluationError` for bad shapes, class indices or scores.
func oneVersusRest(_ metric: some ClassificationMetric, trueClasses: [Int], scores: [Double], classes: [String]) throws -> MetricValue {
    try validateClassScores(trueClasses: trueClasses, scores: scores, classes: classes)
    let classCount = classes.count
    for (index, trueClass) in trueClasses.enumerated() where !(0..<classCount).contains(trueClass) {
        throw EvaluationError.invalidClassIndex(sampleIndex: index, value: trueClass, classCount: classCount)
    }
    let perClass = try classes.enumerated().map { column, name in
        try metric.binaryValue(targets: trueClasses.map { $0 == column ? 1 : 0 },
                               scores: trueClasses.indices.map { scores[$0 * classCount + column] }, label: name)
    }
    return macroMean(perClass, metric: metric.displayName)
}
