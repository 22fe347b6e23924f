import Foundation

/// The DeLong test of two correlated AUROCs: two models scored on the same samples.
public struct DeLongResult: Sendable, Equatable {
    /// AUROC of the first model (`roc_auc_score`).
    public var firstAUROC: Double
    /// AUROC of the second model.
    public var secondAUROC: Double
    /// `firstAUROC − secondAUROC`.
    public var difference: Double
    /// DeLong's estimate of the variance of the difference: `S₁₁ + S₂₂ − 2S₁₂` of the covariance
    /// matrix `S = S₁₀/m + S₀₁/n` of the two AUROCs.
    public var variance: Double
    /// `difference / √variance`; 0 when both are 0 (the two models rank every pair alike).
    public var z: Double
    /// Two-sided p-value `2·(1 − Φ(|z|))`.
    public var pValue: Double
    /// The normal interval of the difference at `confidenceLevel`: `difference ± z_(1+level)/2 · √variance`.
    public var interval: ClosedRange<Double>
    /// The interval's coverage.
    public var confidenceLevel: Double
    /// Positive (m) and negative (n) samples.
    public var positives: Int, negatives: Int
}

/// A paired test's outcome: the result, or why the test is undefined on these samples.
public enum PairedTestOutcome<Result: Sendable & Equatable>: Sendable, Equatable {
    /// The test ran.
    case tested(Result)
    /// The test is undefined here (one class only; two models whose difference has no variance).
    case notComputable(reason: String)
}

/// DeLong's test for the difference of two AUROCs on the same samples (DeLong, DeLong and
/// Clarke-Pearson 1988), computed by the fast algorithm of Sun and Xu (2014): the placement
/// values come from midranks, so no m × n comparison matrix is formed.
///
/// For each model, with X its scores of the m positives and Y of the n negatives: the midranks
/// `Tx` of X within X, `Ty` of Y within Y and `Tz` of both within both give
/// `AUROC = (ΣTz[positives] − m(m+1)/2)/(mn)`, the positives' placements
/// `V₁₀ = (Tz − Tx)/n` and the negatives' `V₀₁ = 1 − (Tz − Ty)/m`. The covariance of the two
/// AUROCs is `S₁₀/m + S₀₁/n`, with `S₁₀`, `S₀₁` the sample covariances (n − 1) of the placements
/// across the two models.
///
/// - Parameters:
///   - targets: 0 or 1 per sample.
///   - firstScores: the first model's score per sample (any monotone score).
///   - secondScores: the second model's score per sample.
///   - label: the label's name, for reasons and errors.
///   - confidenceLevel: coverage of the interval of the difference, in (0, 1).
/// - Returns: the test, or not computable when the samples hold one class, or when the models'
///   placements differ by a constant while their AUROCs differ (zero variance: no z exists).
/// - Throws: `EvaluationError` for mismatched lengths, a target outside {0, 1}, a non-finite
///   score, or a confidence level outside (0, 1).
/// - Complexity: O(N log N) for N samples (three sorts per model).
public func delongTest(targets: [Double], firstScores: [Double], secondScores: [Double], label: String = "label",
                       confidenceLevel: Double = 0.95) throws -> PairedTestOutcome<DeLongResult> {
    guard confidenceLevel > 0, confidenceLevel < 1 else {
        throw EvaluationError.invalidParameter(name: "confidence level", value: "\(confidenceLevel)", reason: "must lie in (0, 1)")
    }
    for (what, scores) in [("first model's scores", firstScores), ("second model's scores", secondScores)] {
        guard scores.count == targets.count else {
            throw EvaluationError.lengthMismatch(what: "\(what) of label '\(label)'", expected: targets.count, actual: scores.count)
        }
        if let bad = scores.firstIndex(where: { !$0.isFinite }) {
            throw EvaluationError.nonFiniteValue(what: "\(what) of label '\(label)'", index: bad)
        }
    }
    var positiveRows: [Int] = [], negativeRows: [Int] = []
    for (index, target) in targets.enumerated() {
        switch target {
        case 1: positiveRows.append(index)
        case 0: negativeRows.append(index)
        default: throw EvaluationError.nonBinaryTarget(label: label, sampleIndex: index, value: target)
        }
    }
    let m = positiveRows.count, n = negativeRows.count
    guard m > 0 else { return .notComputable(reason: "label '\(label)' has no positive sample in the test set") }
    guard n > 0 else { return .notComputable(reason: "label '\(label)' has no negative sample in the test set") }
    let first = DeLongPlacements(scores: firstScores, positiveRows: positiveRows, negativeRows: negativeRows)
    let second = DeLongPlacements(scores: secondScores, positiveRows: positiveRows, negativeRows: negativeRows)
    // Sample covariances (denominator count − 1) of the placements across the two models; a
    // class with a single sample contributes no spread.
    func covariance(_ a: [Double], _ meanA: Double, _ b: [Double], _ meanB: Double) -> Double {
        guard a.count > 1 else { return 0 }
        var sum = 0.0
        for index in a.indices { sum += (a[index] - meanA) * (b[index] - meanB) }
        return sum / Double(a.count - 1)
    }
    let (auc1, auc2) = (first.auroc, second.auroc)
    let s10 = [covariance(first.positive, auc1, first.positive, auc1), covariance(first.positive, auc1, second.positive, auc2),
               covariance(second.positive, auc2, second.positive, auc2)]
    let s01 = [covariance(first.negative, auc1, first.negative, auc1), covariance(first.negative, auc1, second.negative, auc2),
               covariance(second.negative, auc2, second.negative, auc2)]
    let s = (0..<3).map { s10[$0] / Double(m) + s01[$0] / Double(n) }
    let variance = max(0, s[0] + s[2] - 2 * s[1])
    let difference = auc1 - auc2
    let z: Double
    if variance > 0 {
        z = difference / variance.squareRoot()
    } else if difference == 0 {
        z = 0
    } else {
        return .notComputable(reason: "label '\(label)': the AUROCs differ by \(difference) but the variance of the difference is 0 "
            + "(the two models' placements differ by a constant); no z statistic exists")
    }
    let halfWidth = normalQuantile(0.5 + confidenceLevel / 2) * variance.squareRoot()
    return .tested(DeLongResult(firstAUROC: auc1, secondAUROC: auc2, difference: difference, variance: variance, z: z,
                                pValue: min(1, erfc(abs(z) / 2.0.squareRoot())),
                                interval: (difference - halfWidth)...(difference + halfWidth),
                                confidenceLevel: confidenceLevel, positives: m, negatives: n))
}

/// One model's AUROC and DeLong placement values from midranks (Sun and Xu's algorithm).
struct DeLongPlacements {
    /// AUROC.
    let auroc: Double
    /// `V₁₀` per positive (in `positiveRows` order): the share of negatives it outscores, ties ½.
    let positive: [Double]
    /// `V₀₁` per negative: the share of positives that outscore it, ties ½.
    let negative: [Double]

    init(scores: [Double], positiveRows: [Int], negativeRows: [Int]) {
        let x = positiveRows.map { scores[$0] }, y = negativeRows.map { scores[$0] }
        let m = Double(x.count), n = Double(y.count)
        let tx = midranks(x), ty = midranks(y), tz = midranks(x + y)
        var positiveRankSum = 0.0
        var positive = [Double](repeating: 0, count: x.count)
        for index in x.indices {
            positiveRankSum += tz[index]
            positive[index] = (tz[index] - tx[index]) / n
        }
        var negative = [Double](repeating: 0, count: y.count)
        for index in y.indices { negative[index] = 1 - (tz[x.count + index] - ty[index]) / m }
        auroc = (positiveRankSum - m * (m + 1) / 2) / (m * n)
        self.positive = positive
        self.negative = negative
    }
}

/// 1-based ranks of `values` with ties given their mean rank (`scipy.stats.rankdata`'s "average").
/// - Complexity: O(n log n).
func midranks(_ values: [Double]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var ranks = [Double](repeating: 0, count: values.count)
    var start = 0
    while start < order.count {
        var end = start + 1
        while end < order.count, values[order[end]] == values[order[start]] { end += 1 }
        // Positions start..<end (0-based) hold ranks start+1 ... end: their mean is (start + end + 1) / 2.
        let rank = Double(start + end + 1) / 2
        for position in start..<end { ranks[order[position]] = rank }
        start = end
    }
    return ranks
}

/// The standard normal quantile Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation
/// (relative error below 1.2e-9), refined by one Halley step on `erfc` to full double precision.
/// - Precondition: `p` in (0, 1).
public func normalQuantile(_ p: Double) -> Double {
    precondition(p > 0 && p < 1, "normal quantile needs p in (0, 1)")
    let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
    let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
             6.680131188771972e+01, -1.328068155288572e+01]
    let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    let low = 0.02425
    var x: Double
    if p < low {
        let q = (-2 * log(p)).squareRoot()
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    } else if p <= 1 - low {
        let q = p - 0.5, r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    } else {
        let q = (-2 * log(1 - p)).squareRoot()
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    }
    // Halley refinement: e = Φ(x) − p with Φ(x) = erfc(−x/√2)/2.
    let error = 0.5 * erfc(-x / 2.0.squareRoot()) - p
    let u = error * (2 * Double.pi).squareRoot() * exp(x * x / 2)
    x -= u / (1 + x * u / 2)
    return x
}
