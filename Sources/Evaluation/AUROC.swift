/// Area under the ROC curve, as `sklearn.metrics.roc_auc_score`.
///
/// sklearn integrates the ROC curve by trapezoids over the distinct score thresholds. That area
/// equals the probability that a random positive scores above a random negative, counting ties
/// as one half, which is what is computed here from one sort: walking the scores in ascending
/// order, each group of tied scores contributes `positives(group) × negatives below` plus
/// `½ × positives(group) × negatives(group)`.
///
/// - Parameters:
///   - targets: 0 or 1 per sample.
///   - scores: one finite score per sample (probability, logit: any monotone score).
///   - label: the label name used in error messages and reasons.
/// - Returns: the AUROC, or `.notComputable` when the targets hold only one class (sklearn raises).
/// - Throws: `EvaluationError` for a target outside {0, 1}, a non-finite score, or mismatched lengths.
/// - Complexity: O(n log n).
public func rocAUC(targets: [Double], scores: [Double], label: String = "label") throws -> MetricValue {
    let ranked = try RankedScores(targets: targets, scores: scores, label: label)
    return ranked.auroc()
}

/// Per-label and macro-averaged AUROC of a multi-label problem, as
/// `roc_auc_score(y, s, average=None)` per label, with labels holding one class in the test set
/// reported as not computable and left out of the macro mean.
public struct AUROCReport: Sendable, Equatable {
    /// Label names, in column order.
    public var labels: [String]
    /// One value per label.
    public var perLabel: [MetricValue]
    /// Mean over the computable labels; not computable when none is.
    public var macro: MetricValue
}

/// Computes per-label and macro AUROC of row-major `[sampleCount, labelCount]` targets and scores.
///
/// - Throws: `EvaluationError` for shapes that do not match, targets outside {0, 1}, or non-finite scores.
/// - Complexity: O(labels × n log n).
public func rocAUC(targets: [Double], scores: [Double], labels: [String]) throws -> AUROCReport {
    let labelCount = labels.count
    guard labelCount > 0 else { throw EvaluationError.empty(what: "label list") }
    guard targets.count == scores.count else {
        throw EvaluationError.lengthMismatch(what: "scores", expected: targets.count, actual: scores.count)
    }
    guard targets.count % labelCount == 0 else {
        throw EvaluationError.lengthMismatch(
            what: "targets (must be samples × \(labelCount) labels)",
            expected: (targets.count / labelCount + 1) * labelCount, actual: targets.count)
    }
    let sampleCount = targets.count / labelCount
    var perLabel: [MetricValue] = []
    for (column, label) in labels.enumerated() {
        let columnTargets = (0..<sampleCount).map { targets[$0 * labelCount + column] }
        let columnScores = (0..<sampleCount).map { scores[$0 * labelCount + column] }
        perLabel.append(try rocAUC(targets: columnTargets, scores: columnScores, label: label))
    }
    return AUROCReport(labels: labels, perLabel: perLabel, macro: macroMean(perLabel, metric: "AUROC"))
}

/// The mean of the computable values; not computable (listing why) when none is.
func macroMean(_ values: [MetricValue], metric: String) -> MetricValue {
    let computable = values.compactMap(\.value)
    guard !computable.isEmpty else {
        return .notComputable(reason: "no label has a computable \(metric)")
    }
    return .value(computable.reduce(0, +) / Double(computable.count))
}

/// One label's samples sorted once by score, with tie groups marked, so AUROC under any sample
/// weighting (a bootstrap replicate) is one linear pass.
public struct RankedScores: Sendable {
    /// The label name, for reasons.
    public let label: String
    /// Sample indices in ascending score order.
    let order: [Int32]
    /// Whether the sample at each sorted position is positive.
    let isPositive: [Bool]
    /// End (exclusive) of each tie group in sorted positions.
    let groupEnds: [Int32]

    /// Validates and sorts one label's targets and scores.
    /// - Throws: `EvaluationError` for a target outside {0, 1}, a non-finite score or mismatched lengths.
    public init(targets: [Double], scores: [Double], label: String) throws {
        guard targets.count == scores.count else {
            throw EvaluationError.lengthMismatch(what: "scores of label '\(label)'", expected: targets.count, actual: scores.count)
        }
        for (index, target) in targets.enumerated() where target != 0 && target != 1 {
            throw EvaluationError.nonBinaryTarget(label: label, sampleIndex: index, value: target)
        }
        for (index, score) in scores.enumerated() where !score.isFinite {
            throw EvaluationError.nonFiniteValue(what: "scores of label '\(label)'", index: index)
        }
        self.label = label
        let sorted = scores.indices.sorted { scores[$0] < scores[$1] }
        order = sorted.map { Int32($0) }
        isPositive = sorted.map { targets[$0] == 1 }
        var ends: [Int32] = []
        for position in sorted.indices.dropFirst() where scores[sorted[position]] != scores[sorted[position - 1]] {
            ends.append(Int32(position))
        }
        if !sorted.isEmpty { ends.append(Int32(sorted.count)) }
        groupEnds = ends
    }

    /// Number of samples.
    public var count: Int { order.count }

    /// AUROC with every sample counted once.
    public func auroc() -> MetricValue {
        var positives = 0.0, negatives = 0.0, numerator = 0.0, start = 0
        for end in groupEnds {
            var groupPositives = 0.0, groupNegatives = 0.0
            for position in start..<Int(end) {
                if isPositive[position] { groupPositives += 1 } else { groupNegatives += 1 }
            }
            numerator += groupPositives * (negatives + 0.5 * groupNegatives)
            positives += groupPositives
            negatives += groupNegatives
            start = Int(end)
        }
        return finish(numerator: numerator, positives: positives, negatives: negatives)
    }

    /// AUROC with sample `i` counted `weights[i]` times (sklearn on the data with rows repeated).
    /// - Precondition: `weights.count` equals the number of samples.
    public func auroc(weights: UnsafeBufferPointer<Int32>) -> MetricValue {
        precondition(weights.count == order.count, "one weight per sample")
        var positives: Int64 = 0, negatives: Int64 = 0, numerator: Int64 = 0, start = 0
        order.withUnsafeBufferPointer { order in
            isPositive.withUnsafeBufferPointer { isPositive in
                for end in groupEnds {
                    var groupPositives: Int64 = 0, groupNegatives: Int64 = 0
                    for position in start..<Int(end) {
                        let weight = Int64(weights[Int(order[position])])
                        if isPositive[position] { groupPositives &+= weight } else { groupNegatives &+= weight }
                    }
                    // Doubled to keep the half-weight of ties exact in integers.
                    numerator &+= groupPositives &* (2 &* negatives &+ groupNegatives)
                    positives &+= groupPositives
                    negatives &+= groupNegatives
                    start = Int(end)
                }
            }
        }
        return finish(numerator: Double(numerator) / 2, positives: Double(positives), negatives: Double(negatives))
    }

    private func finish(numerator: Double, positives: Double, negatives: Double) -> MetricValue {
        if positives == 0 {
            return .notComputable(reason: "label '\(label)' has no positive sample in the test set")
        }
        if negatives == 0 {
            return .notComputable(reason: "label '\(label)' has no negative sample in the test set")
        }
        return .value(numerator / (positives * negatives))
    }
}
