/// The parts of a recorded metric name: the one place its spellings are read and written.
///
/// - `auroc`: a metric;
/// - `precision@10`: a metric family with a whole-number parameter (a table's `k` coordinate);
/// - `auroc-ci-low`, `auroc-ci-high`: the bounds of a bootstrap interval of `auroc`.
public struct MetricName: Sendable, Hashable, CustomStringConvertible {
    /// Which bound of a bootstrap interval a name records.
    public enum Bound: String, Sendable, Hashable, CaseIterable {
        /// The lower bound (`-ci-low`).
        case low = "ci-low"
        /// The upper bound (`-ci-high`).
        case high = "ci-high"
    }

    /// The family (`auroc`, `precision`).
    public var family: String
    /// The family's parameter (`10` of `precision@10`), if any.
    public var parameter: Int?
    /// The interval bound, for a bootstrap interval's rows.
    public var bound: Bound?

    /// A name from its parts.
    public init(family: String, parameter: Int? = nil, bound: Bound? = nil) {
        self.family = family
        self.parameter = parameter
        self.bound = bound
    }

    /// Reads a recorded name; anything that is not a parameter or a bound is the family.
    public init(_ text: String) {
        var rest = Substring(text)
        bound = nil
        for candidate in Bound.allCases where rest.hasSuffix("-" + candidate.rawValue) {
            bound = candidate
            rest = rest.dropLast(candidate.rawValue.count + 1)
        }
        if let at = rest.lastIndex(of: "@"), let value = Int(rest[rest.index(after: at)...]) {
            family = String(rest[..<at])
            parameter = value
        } else {
            family = String(rest)
            parameter = nil
        }
    }

    /// The metric without its bound: what a table's `metric:` names (`precision@10`).
    public var metric: MetricName { MetricName(family: family, parameter: parameter) }

    /// The same metric's interval bound.
    public func bound(_ bound: Bound) -> MetricName { MetricName(family: family, parameter: parameter, bound: bound) }

    /// The recorded text.
    public var description: String {
        family + (parameter.map { "@\($0)" } ?? "") + (bound.map { "-\($0.rawValue)" } ?? "")
    }
}
