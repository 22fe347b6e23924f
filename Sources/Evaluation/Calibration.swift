import Foundation

// Calibration metrics: expected calibration error (equal-width or equal-mass bins), Brier score
// and negative log-likelihood, all lower-is-better, each checked against a NumPy / scikit-learn
// reference (scripts/fixtures/comparisons.py).
//
// What is calibrated: a binary label's predicted probability of the positive class against the
// observed frequency of positives (the reliability diagram of `sklearn.calibration.calibration_curve`);
// a multi-class label's top-label confidence (the largest class probability) against the
// accuracy of the arg-max class (Guo et al. 2017).

/// How a reliability diagram's bins are cut.
public enum CalibrationBinning: String, Sendable, Hashable, Codable, CaseIterable {
    /// `bins` intervals of equal width on [0, 1]: bin `min(⌊p·bins⌋, bins − 1)`.
    case equalWidth = "equal-width"
    /// `bins` groups of (nearly) equal count in ascending confidence order, as
    /// `numpy.array_split` of the stably sorted samples (the first `N mod bins` get one more).
    case equalMass = "equal-mass"
}

/// One bin of a reliability diagram.
public struct ReliabilityBin: Sendable, Equatable, Codable {
    /// The bin's confidence range: its interval for equal-width bins, the smallest and largest
    /// confidence in it for equal-mass bins.
    public var lower: Double, upper: Double
    /// Samples in the bin.
    public var count: Int
    /// Mean confidence of its samples (0 when empty).
    public var meanConfidence: Double
    /// Share of its samples whose outcome is 1: positives, or correct arg-max classes (0 when empty).
    public var observedFrequency: Double
}

/// Reliability bins of confidences against 0/1 outcomes.
/// - Parameters:
///   - confidences: one probability per sample, in [0, 1].
///   - outcomes: 1 where the event happened (a positive, a correct prediction), else 0.
///   - bins: number of bins, at least 1.
///   - binning: equal width or equal mass.
/// - Returns: every bin in ascending order; equal-width bins include empty ones, equal-mass bins
///   are empty only when there are fewer samples than bins.
/// - Throws: `EvaluationError` for mismatched lengths, a confidence outside [0, 1], an outcome
///   other than 0 or 1, or fewer than one bin.
public func reliabilityBins(confidences: [Double], outcomes: [Double], bins: Int,
                            binning: CalibrationBinning) throws -> [ReliabilityBin] {
    guard bins >= 1 else { throw EvaluationError.invalidParameter(name: "calibration bins", value: "\(bins)", reason: "must be at least 1") }
    guard outcomes.count == confidences.count else {
        throw EvaluationError.lengthMismatch(what: "calibration outcomes", expected: confidences.count, actual: outcomes.count)
    }
    for (index, confidence) in confidences.enumerated() where !(confidence >= 0 && confidence <= 1) {
        throw EvaluationError.invalidParameter(name: "probability of sample \(index)", value: "\(confidence)", reason: "must lie in [0, 1]")
    }
    for (index, outcome) in outcomes.enumerated() where outcome != 0 && outcome != 1 {
        throw EvaluationError.nonBinaryTarget(label: "calibration outcome", sampleIndex: index, value: outcome)
    }
    var members = [[Int]](repeating: [], count: bins)
    var ranges: [(Double, Double)]
    switch binning {
    case .equalWidth:
        for (index, confidence) in confidences.enumerated() {
            members[min(Int((confidence * Double(bins)).rounded(.down)), bins - 1)].append(index)
        }
        ranges = (0..<bins).map { (Double($0) / Double(bins), Double($0 + 1) / Double(bins)) }
    case .equalMass:
        let order = confidences.indices.sorted { confidences[$0] < confidences[$1] || (confidences[$0] == confidences[$1] && $0 < $1) }
        let base = order.count / bins, extra = order.count % bins
        var start = 0
        for bin in 0..<bins {
            let size = base + (bin < extra ? 1 : 0)
            members[bin] = Array(order[start..<(start + size)])
            start += size
        }
        ranges = members.map { rows in rows.isEmpty ? (0, 0) : (confidences[rows.first!], confidences[rows.last!]) }
    }
    return (0..<bins).map { bin in
        let rows = members[bin]
        guard !rows.isEmpty else {
            return ReliabilityBin(lower: ranges[bin].0, upper: ranges[bin].1, count: 0, meanConfidence: 0, observedFrequency: 0)
        }
        var confidence = 0.0, outcome = 0.0
        for row in rows {
            confidence += confidences[row]
            outcome += outcomes[row]
        }
        return ReliabilityBin(lower: ranges[bin].0, upper: ranges[bin].1, count: rows.count,
                              meanConfidence: confidence / Double(rows.count), observedFrequency: outcome / Double(rows.count))
    }
}

/// `Σ_b (n_b / N) · |frequency_b − confidence_b|` over the bins.
public func expectedCalibrationError(_ bins: [ReliabilityBin]) -> Double {
    let total = bins.reduce(0) { $0 + $1.count }
    guard total > 0 else { return 0 }
    return bins.reduce(0) { $0 + Double($1.count) / Double(total) * abs($1.observedFrequency - $1.meanConfidence) }
}

/// The top-label confidence (largest class probability) and correctness of the arg-max class
/// (lowest index on ties, as `numpy.argmax`) of every multi-class row.
public func topLabelConfidences(trueClasses: [Int], scores: [Double], classCount: Int) -> (confidences: [Double], outcomes: [Double]) {
    var confidences: [Double] = [], outcomes: [Double] = []
    confidences.reserveCapacity(trueClasses.count)
    outcomes.reserveCapacity(trueClasses.count)
    for (row, trueClass) in trueClasses.enumerated() {
        var best = 0
        for column in 1..<max(classCount, 1) where scores[row * classCount + column] > scores[row * classCount + best] { best = column }
        confidences.append(scores[row * classCount + best])
        outcomes.append(best == trueClass ? 1 : 0)
    }
    return (confidences, outcomes)
}

/// Expected calibration error (`ece`: 15 equal-width bins; `adaptive-ece`: 15 equal-mass bins;
/// `ece@k`, `adaptive-ece@k`: k bins). Binary labels: the positive-class probability against
/// the frequency of positives; multi-class: the top-label confidence against accuracy.
public struct ExpectedCalibrationError: ClassificationMetric, Hashable {
    /// The default number of bins (Guo et al. 2017).
    public static let defaultBins = 15
    /// Number of bins.
    public let bins: Int
    /// How the bins are cut.
    public let binning: CalibrationBinning
    /// Whether the name carries the bin count (`ece@10`) or stands for the default (`ece`).
    let namesBins: Bool

    /// ECE with `bins` bins cut by `binning`; the name carries the count unless it is the
    /// default spelled without it.
    /// - Precondition: `bins >= 1`.
    public init(bins: Int = ExpectedCalibrationError.defaultBins, binning: CalibrationBinning = .equalWidth, namesBins: Bool = false) {
        precondition(bins >= 1, "ECE needs at least one bin")
        self.bins = bins
        self.binning = binning
        self.namesBins = namesBins
    }

    /// `ece`, `adaptive-ece`, or with `@<bins>`.
    public var name: String { Self.stem(binning) + (namesBins ? "@\(bins)" : "") }
    /// `ECE`, `Adaptive ECE`, or with `@<bins>`.
    public var displayName: String { (binning == .equalWidth ? "ECE" : "Adaptive ECE") + (namesBins ? "@\(bins)" : "") }
    /// Lower is better.
    public var direction: MetricDirection { .lowerIsBetter }

    static func stem(_ binning: CalibrationBinning) -> String { binning == .equalWidth ? "ece" : "adaptive-ece" }

    /// ECE of the positive-class probabilities.
    public func binaryValue(targets: [Double], scores: [Double], label: String) throws -> MetricValue {
        guard !targets.isEmpty else { return .notComputable(reason: "label '\(label)' has no test sample") }
        return .value(expectedCalibrationError(try reliabilityBins(confidences: scores, outcomes: targets, bins: bins, binning: binning)))
    }

    /// ECE of the top-label confidences.
    public func multiclassValue(trueClasses: [Int], scores: [Double], classes: [String]) throws -> MetricValue {
        try validateClassScores(trueClasses: trueClasses, scores: scores, classes: classes)
        let (confidences, outcomes) = topLabelConfidences(trueClasses: trueClasses, scores: scores, classCount: classes.count)
        guard !confidences.isEmpty else { return .notComputable(reason: "no test sample") }
        return .value(expectedCalibrationError(try reliabilityBins(confidences: confidences, outcomes: outcomes, bins: bins, binning: binning)))
    }

    /// The families `ece@k` and `adaptive-ece@k`.
    public static let families: [MetricCatalog.Family] = CalibrationBinning.allCases.map { binning in
        let stem = stem(binning)
        return MetricCatalog.Family(pattern: "\(stem)@k", displayName: (binning == .equalWidth ? "ECE" : "Adaptive ECE") + "@k",
                                    direction: .lowerIsBetter, input: "classification") { name in
            guard name.hasPrefix(stem + "@"), let bins = Int(name.dropFirst(stem.count + 1)), bins >= 1,
                  String(bins) == name.dropFirst(stem.count + 1) else { return nil }
            return ExpectedCalibrationError(bins: bins, binning: binning, namesBins: true)
        }
    }
}

/// Brier score (`brier`), as `sklearn.metrics.brier_score_loss`: binary, `mean((p − y)²)`;
/// multi-class, Brier's original `mean(Σ_k (p_k − y_k)²)` over one-hot truths, halved for two
/// classes (scikit-learn's `scale_by_half="auto"`, so a binary label scored as two classes gets
/// its binary Brier score).
public struct BrierScore: ClassificationMetric, Hashable {
    /// `brier`.
    public var name: String { "brier" }
    /// `Brier`.
    public var displayName: String { "Brier" }
    /// Lower is better.
    public var direction: MetricDirection { .lowerIsBetter }

    /// Creates the metric.
    public init() {}

    /// Mean squared error of the positive-class probability.
    public func binaryValue(targets: [Double], scores: [Double], label: String) throws -> MetricValue {
        try validateBinaryProbabilities(targets: targets, scores: scores, label: label)
        guard !targets.isEmpty else { return .notComputable(reason: "label '\(label)' has no test sample") }
        var total = 0.0
        for (target, score) in zip(targets, scores) { total += (score - target) * (score - target) }
        return .value(total / Double(targets.count))
    }

    /// Mean over rows of the squared distance to the one-hot truth (halved for two classes).
    public func multiclassValue(trueClasses: [Int], scores: [Double], classes: [String]) throws -> MetricValue {
        try validateClassScores(trueClasses: trueClasses, scores: scores, classes: classes)
        guard !trueClasses.isEmpty else { return .notComputable(reason: "no test sample") }
        let width = classes.count
        var total = 0.0
        for (row, trueClass) in trueClasses.enumerated() {
            guard (0..<width).contains(trueClass) else {
                throw EvaluationError.invalidClassIndex(sampleIndex: row, value: trueClass, classCount: width)
            }
            for column in 0..<width {
                let difference = scores[row * width + column] - (column == trueClass ? 1 : 0)
                total += difference * difference
            }
        }
        return .value(total / Double(trueClasses.count) * (width == 2 ? 0.5 : 1))
    }
}

/// Negative log-likelihood (`nll`, log loss): binary, `−mean(y·log p + (1 − y)·log(1 − p))` as
/// `sklearn.metrics.log_loss`; multi-class, `−mean(log p_true)`. Probabilities are clipped to
/// [ε, 1 − ε] with ε the float64 machine epsilon (2.22e-16), as scikit-learn clips float64
/// input, so a saturated wrong prediction costs about 36 rather than infinity.
public struct NegativeLogLikelihood: ClassificationMetric, Hashable {
    /// `nll`.
    public var name: String { "nll" }
    /// `NLL`.
    public var displayName: String { "NLL" }
    /// Lower is better.
    public var direction: MetricDirection { .lowerIsBetter }
    /// The clipping bound.
    static let epsilon = Double.ulpOfOne

    /// Creates the metric.
    public init() {}

    /// Binary cross-entropy of the positive-class probability.
    public func binaryValue(targets: [Double], scores: [Double], label: String) throws -> MetricValue {
        try validateBinaryProbabilities(targets: targets, scores: scores, label: label)
        guard !targets.isEmpty else { return .notComputable(reason: "label '\(label)' has no test sample") }
        var total = 0.0
        for (target, score) in zip(targets, scores) {
            let p = min(max(score, Self.epsilon), 1 - Self.epsilon)
            total -= target * log(p) + (1 - target) * log(1 - p)
        }
        return .value(total / Double(targets.count))
    }

    /// Cross-entropy of the true class's probability.
    public func multiclassValue(trueClasses: [Int], scores: [Double], classes: [String]) throws -> MetricValue {
        try validateClassScores(trueClasses: trueClasses, scores: scores, classes: classes)
        guard !trueClasses.isEmpty else { return .notComputable(reason: "no test sample") }
        let width = classes.count
        var total = 0.0
        for (row, trueClass) in trueClasses.enumerated() {
            guard (0..<width).contains(trueClass) else {
                throw EvaluationError.invalidClassIndex(sampleIndex: row, value: trueClass, classCount: width)
            }
            total -= log(min(max(scores[row * width + trueClass], Self.epsilon), 1 - Self.epsilon))
        }
        return .value(total / Double(trueClasses.count))
    }
}

/// Checks a binary label's targets (0/1) and probabilities (finite, in [0, 1]).
func validateBinaryProbabilities(targets: [Double], scores: [Double], label: String) throws {
    guard targets.count == scores.count else {
        throw EvaluationError.lengthMismatch(what: "scores of label '\(label)'", expected: targets.count, actual: scores.count)
    }
    for (index, target) in targets.enumerated() where target != 0 && target != 1 {
        throw EvaluationError.nonBinaryTarget(label: label, sampleIndex: index, value: target)
    }
    for (index, score) in scores.enumerated() where !(score >= 0 && score <= 1) {
        throw EvaluationError.nonFiniteValue(what: "probabilities of label '\(label)' (must lie in [0, 1])", index: index)
    }
}
