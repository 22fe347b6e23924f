import Foundation

/// How a Mann–Whitney p-value was computed.
public enum MannWhitneyMethod: String, Sendable, Codable, Equatable {
    /// From the exact null distribution of U (no tie correction).
    case exact
    /// From the normal approximation with tie correction and continuity correction.
    case asymptotic
}

/// Result of a two-sided Mann–Whitney U test of `first` against `second`.
public struct MannWhitneyResult: Sendable, Equatable, Codable {
    /// U of the first sample (`scipy.stats.mannwhitneyu`'s `statistic`): the number of
    /// (first, second) pairs where the first value is larger, ties counting one half.
    public var u: Double
    /// Two-sided p-value.
    public var p: Double
    /// Rank-biserial correlation `2U/(n₁n₂) − 1` in [−1, 1]: positive when values of the first
    /// sample tend to be larger than those of the second, 0 for complete overlap.
    public var rankBiserial: Double
    /// Which p-value computation was used.
    public var method: MannWhitneyMethod
    /// Sample sizes.
    public var firstCount: Int, secondCount: Int
}

/// Two-sided Mann–Whitney U test, as
/// `scipy.stats.mannwhitneyu(first, second, alternative="two-sided", method="auto")`.
///
/// scipy's "auto" rule (scipy 1.17 `_mwu_choose_method`): asymptotic when both samples have more
/// than 8 values or when any value is tied (within or across samples); exact otherwise. The
/// asymptotic p is `2·Φ(−z)` with `z = (max(U₁, U₂) − n₁n₂/2 − ½) / σ`,
/// `σ² = n₁n₂/12 · ((n + 1) − Σ(t³ − t)/(n(n − 1)))` over tie-group sizes t. The exact p is
/// `2·P(U ≥ max(U₁, U₂))` under the null. Both are clipped to [0, 1]. One deviation: when the
/// exact computation would take more than ~2·10⁹ steps (one sample ≤ 8 values, the other tens of
/// thousands), the asymptotic p is reported, with `method` saying so.
///
/// - Parameters:
///   - first: first sample (e.g. bootstrap AUROCs of the model trained on males).
///   - second: second sample.
///   - method: force a method instead of scipy's automatic choice.
/// - Throws: `EvaluationError` when a sample is empty or holds a NaN or infinity.
/// - Complexity: O(n log n) asymptotic; O(n₂ · n₁ · n₁n₂) exact with n₁ ≤ 8 the smaller size.
public func mannWhitneyU(_ first: [Double], _ second: [Double], method: MannWhitneyMethod? = nil) throws -> MannWhitneyResult {
    guard !first.isEmpty else { throw EvaluationError.empty(what: "first sample of the Mann–Whitney test") }
    guard !second.isEmpty else { throw EvaluationError.empty(what: "second sample of the Mann–Whitney test") }
    for (index, value) in first.enumerated() where !value.isFinite {
        throw EvaluationError.nonFiniteValue(what: "first sample of the Mann–Whitney test", index: index)
    }
    for (index, value) in second.enumerated() where !value.isFinite {
        throw EvaluationError.nonFiniteValue(what: "second sample of the Mann–Whitney test", index: index)
    }
    let n1 = first.count, n2 = second.count
    let (ranks, tieSizes) = averageRanks(first + second)
    let rankSumFirst = ranks[0..<n1].reduce(0, +)
    let u1 = rankSumFirst - Double(n1 * (n1 + 1)) / 2
    let u2 = Double(n1 * n2) - u1
    let hasTies = tieSizes.contains { $0 > 1 }
    var chosen = method ?? ((n1 > 8 && n2 > 8) || hasTies ? .asymptotic : .exact)
    // The exact distribution costs O(n₂ · n₁ · n₁n₂); past ~2·10⁹ steps (e.g. 8 against
    // 10⁵ values, where scipy would also run for minutes) the normal approximation is used
    // instead, and `method` says so.
    let small = Double(min(n1, n2)), large = Double(max(n1, n2))
    if chosen == .exact && large * small * small * large / 2 > 2e9 { chosen = .asymptotic }
    let uLarger = max(u1, u2)
    var p: Double
    switch chosen {
    case .exact:
        p = 2 * exactMannWhitneySurvival(atLeast: Int(uLarger.rounded()), n1, n2)
    case .asymptotic:
        let n = Double(n1 + n2)
        let tieTerm = tieSizes.reduce(0.0) { $0 + Double($1) * Double($1) * Double($1) - Double($1) }
        let sigma = (Double(n1 * n2) / 12 * ((n + 1) - tieTerm / (n * (n - 1)))).squareRoot()
        let z = (uLarger - Double(n1 * n2) / 2 - 0.5) / sigma
        p = erfc(z / 2.0.squareRoot())  // 2 · Φ(−z)
    }
    p = min(max(p, 0), 1)
    return MannWhitneyResult(u: u1, p: p, rankBiserial: 2 * u1 / Double(n1 * n2) - 1,
                             method: chosen, firstCount: n1, secondCount: n2)
}

/// Mid-ranks (1-based, ties averaged, as `scipy.stats.rankdata(method="average")`) and the
/// size of every tie group (1 for an untied value).
func averageRanks(_ values: [Double]) -> (ranks: [Double], tieSizes: [Int]) {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var ranks = [Double](repeating: 0, count: values.count)
    var tieSizes: [Int] = []
    var start = 0
    while start < order.count {
        var end = start + 1
        while end < order.count && values[order[end]] == values[order[start]] { end += 1 }
        let rank = Double(start + 1 + end) / 2  // mean of ranks start+1 ... end
        for position in start..<end { ranks[order[position]] = rank }
        tieSizes.append(end - start)
        start = end
    }
    return (ranks, tieSizes)
}

/// P(U ≥ k) under the null hypothesis for sample sizes n1, n2 without ties.
///
/// Uses the symmetry of U about n₁n₂/2 to sum the lower tail up to n₁n₂ − k, from the
/// distribution built by the recursion on the largest observation:
/// P(m, n; u) = m/(m+n)·P(m−1, n; u − n) + n/(m+n)·P(m, n−1; u), which only adds
/// non-negative terms (no cancellation, no overflow) in probability space.
func exactMannWhitneySurvival(atLeast k: Int, _ n1: Int, _ n2: Int) -> Double {
    let small = min(n1, n2), large = max(n1, n2)
    let total = small * large
    if k <= 0 { return 1 }
    if k > total { return 0 }
    // P(U ≥ k) = P(U ≤ total − k) by symmetry; when k is below the mean, use 1 − P(U ≤ k − 1).
    let lowerTailEnd = k > total - k ? total - k : k - 1
    let distribution = mannWhitneyNullDistribution(small, large, through: lowerTailEnd)
    let lowerTail = distribution.reduce(0, +)
    return k > total - k ? lowerTail : 1 - lowerTail
}

/// Null probabilities P(U = u), u = 0...`through`, for sizes (small ≤ large).
func mannWhitneyNullDistribution(_ small: Int, _ large: Int, through maximum: Int) -> [Double] {
    let width = maximum + 1
    // rows[m] holds P(m, n'; ·) for the current n'; with n' = 0 every U is 0.
    var rows = [[Double]](repeating: [1] + [Double](repeating: 0, count: maximum), count: small + 1)
    guard large > 0, small > 0 else { return rows[small] }
    for n in 1...large {
        for m in 1...small {
            let fromLargestFirst = Double(m) / Double(m + n)
            let fromLargestSecond = Double(n) / Double(m + n)
            // rows[m - 1] already holds n' = n; rows[m] still holds n' = n − 1.
            for u in 0..<width {
                let shifted = u >= n ? rows[m - 1][u - n] : 0
                rows[m][u] = fromLargestFirst * shifted + fromLargestSecond * rows[m][u]
            }
        }
    }
    return rows[small]
}

/// Holm–Bonferroni adjusted p-values, in the input order (as
/// `statsmodels.stats.multitest.multipletests(p, method="holm")[1]`): sort ascending, multiply
/// the i-th smallest (0-based) by (m − i), take running maxima, cap at 1.
public func holmAdjusted(_ pValues: [Double]) -> [Double] {
    let order = pValues.indices.sorted { pValues[$0] < pValues[$1] }
    var adjusted = [Double](repeating: 0, count: pValues.count)
    var runningMaximum = 0.0
    for (position, index) in order.enumerated() {
        runningMaximum = max(runningMaximum, min(1, Double(pValues.count - position) * pValues[index]))
        adjusted[index] = runningMaximum
    }
    return adjusted
}

/// One named comparison of a family, e.g. "trained male vs female, tested on female".
public struct MannWhitneyComparison: Sendable, Equatable, Codable {
    /// The comparison's name.
    public var name: String
    /// The test result (p unadjusted).
    public var result: MannWhitneyResult
    /// p after Holm correction across the family, or the unadjusted p when correction is off.
    public var adjustedP: Double
}

/// Mann–Whitney U tests of a family of comparisons (e.g. bootstrap AUROCs of models trained on
/// different subgroups), optionally Holm-corrected across the family.
/// - Parameters:
///   - comparisons: name, first sample and second sample of each comparison.
///   - holmCorrection: adjust p-values across the family with `holmAdjusted(_:)`.
/// - Throws: `EvaluationError` when a sample is empty or not finite (naming the comparison).
public func mannWhitneyFamily(
    _ comparisons: [(name: String, first: [Double], second: [Double])], holmCorrection: Bool
) throws -> [MannWhitneyComparison] {
    let results = try comparisons.map { comparison in
        do {
            return try mannWhitneyU(comparison.first, comparison.second)
        } catch let error as EvaluationError {
            throw EvaluationError.invalidParameter(name: "comparison '\(comparison.name)'", value: "samples", reason: error.description)
        }
    }
    let adjusted = holmCorrection ? holmAdjusted(results.map(\.p)) : results.map(\.p)
    return zip(comparisons, zip(results, adjusted)).map { comparison, pair in
        MannWhitneyComparison(name: comparison.name, result: pair.0, adjustedP: pair.1)
    }
}
