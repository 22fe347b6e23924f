/// Average precision, as `sklearn.metrics.average_precision_score`: the area under the
/// precision–recall step curve, `Σₙ (Rₙ − Rₙ₋₁) Pₙ` over the distinct score thresholds from
/// the highest down, without interpolation.
///
/// Tied scores form one threshold: a group of tied samples enters the curve at once, as in
/// sklearn's `precision_recall_curve`.
///
/// - Parameters:
///   - targets: 0 or 1 per sample.
///   - scores: one finite score per sample.
///   - label: the label name used in errors and reasons.
/// - Returns: the average precision; `.notComputable` without a positive sample (recall is
///   undefined; sklearn warns and returns 0). With only positives it is 1, as in sklearn.
/// - Throws: `EvaluationError` for a target outside {0, 1}, a non-finite score, or mismatched lengths.
/// - Complexity: O(n log n).
public func averagePrecision(targets: [Double], scores: [Double], label: String = "label") throws -> MetricValue {
    try RankedScores(targets: targets, scores: scores, label: label).averagePrecision()
}

extension RankedScores {
    /// Average precision with every sample counted once.
    public func averagePrecision() -> MetricValue {
        let positives = Double(isPositive.lazy.filter { $0 }.count)
        guard positives > 0 else {
            return .notComputable(reason: "label '\(label)' has no positive sample in the test set")
        }
        var truePositives = 0.0, falsePositives = 0.0, area = 0.0
        // Tie groups from the highest score down: each is one threshold of the curve.
        for group in groupEnds.indices.reversed() {
            let start = group == 0 ? 0 : Int(groupEnds[group - 1])
            var groupPositives = 0.0
            for position in start..<Int(groupEnds[group]) where isPositive[position] { groupPositives += 1 }
            truePositives += groupPositives
            falsePositives += Double(Int(groupEnds[group]) - start) - groupPositives
            if groupPositives > 0 {
                area += groupPositives / positives * (truePositives / (truePositives + falsePositives))
            }
        }
        return .value(area)
    }
}
