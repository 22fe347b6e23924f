/// The `percent`-th percentile of `values` by linear interpolation between closest ranks, as
/// `numpy.percentile(values, percent)` (method "linear", numpy's default).
///
/// Rule: sort the n values ascending, take the virtual index `h = (n − 1) × percent / 100`,
/// and interpolate between the sorted values at `floor(h)` and `floor(h) + 1` with weight
/// `g = h − floor(h)`, written like numpy's `_lerp` (`a + (b − a)·g`, or `b − (b − a)(1 − g)`
/// when `g ≥ 0.5`) so results agree to the last bit in ordinary cases.
///
/// - Precondition: `values` is non-empty, finite; `percent` in [0, 100].
/// - Complexity: O(n log n).
public func percentile(_ values: [Double], _ percent: Double) -> Double {
    precondition(!values.isEmpty, "percentile of no values")
    return percentile(sorted: values.sorted(), percent)
}

/// `percentile(_:_:)` of values already sorted ascending.
public func percentile(sorted: [Double], _ percent: Double) -> Double {
    precondition(!sorted.isEmpty, "percentile of no values")
    precondition((0...100).contains(percent), "percent must lie in [0, 100]")
    let virtualIndex = Double(sorted.count - 1) * (percent / 100)
    let lowerIndex = min(max(Int(virtualIndex.rounded(.down)), 0), sorted.count - 1)
    let upperIndex = min(lowerIndex + 1, sorted.count - 1)
    let gamma = virtualIndex - Double(lowerIndex)
    let a = sorted[lowerIndex], b = sorted[upperIndex]
    let difference = b - a
    return gamma >= 0.5 ? b - difference * (1 - gamma) : a + difference * gamma
}
