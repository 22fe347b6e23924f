import Foundation

/// Mean, spread and 95% interval of a metric over seeds: what a table cell shows.
public struct SeedSummary: Sendable, Hashable {
    /// How many values (seeds) the summary is over.
    public var count: Int
    /// The arithmetic mean.
    public var mean: Double
    /// The sample standard deviation (n - 1 in the denominator); nil for a single value.
    public var standardDeviation: Double?
    /// The two-sided 95% Student-t interval of the mean, `mean ± t(0.975, n-1) · sd / √n`;
    /// nil for a single value.
    public var interval: ClosedRange<Double>?

    /// Summarises `values`; nil when there are none.
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        count = values.count
        mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return }
        let mean = self.mean
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let deviation = (squares / Double(values.count - 1)).squareRoot()
        standardDeviation = deviation
        let halfWidth = StudentT.quantile(0.975, degreesOfFreedom: Double(values.count - 1))
            * deviation / Double(values.count).squareRoot()
        interval = (mean - halfWidth)...(mean + halfWidth)
    }
}

/// Student's t distribution: what the 95% interval over a handful of seeds needs.
public enum StudentT {
    /// The cumulative distribution function at `t` for `degreesOfFreedom` > 0.
    public static func cumulativeProbability(_ t: Double, degreesOfFreedom: Double) -> Double {
        precondition(degreesOfFreedom > 0, "degrees of freedom must be positive")
        // P(|T| > |t|) = I_{ν/(ν+t²)}(ν/2, 1/2).
        let tail = regularizedIncompleteBeta(degreesOfFreedom / (degreesOfFreedom + t * t),
                                             a: degreesOfFreedom / 2, b: 0.5) / 2
        return t >= 0 ? 1 - tail : tail
    }

    /// The quantile (inverse distribution function) for `probability` in (0, 1).
    /// - Complexity: bisection to full double precision, about 100 evaluations of the CDF.
    public static func quantile(_ probability: Double, degreesOfFreedom: Double) -> Double {
        precondition(probability > 0 && probability < 1, "probability must be in (0, 1)")
        if probability < 0.5 { return -quantile(1 - probability, degreesOfFreedom: degreesOfFreedom) }
        var low = 0.0
        var high = 1.0
        while cumulativeProbability(high, degreesOfFreedom: degreesOfFreedom) < probability {
            low = high
            high *= 2
        }
        // Bisection is slow but cannot fail: the CDF is monotone on the bracket.
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if middle == low || middle == high { break }
            if cumulativeProbability(middle, degreesOfFreedom: degreesOfFreedom) < probability {
                low = middle
            } else {
                high = middle
            }
        }
        return (low + high) / 2
    }

    /// The regularized incomplete beta function I_x(a, b), by its continued fraction
    /// (modified Lentz), using the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where that converges faster.
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        if x > (a + 1) / (a + b + 2) {
            return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a)
        }
        let logBeta: Double = lgamma(a) + lgamma(b) - lgamma(a + b)
        let logPower: Double = a * log(x) + b * log(1 - x)
        return exp(logPower - logBeta) * betaContinuedFraction(x, a: a, b: b) / a
    }

    private static func betaContinuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var fraction = d
        for m in 1...10_000 {
            let m = Double(m)
            // Even step.
            var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            fraction *= d * c
            // Odd step.
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let step = d * c
            fraction *= step
            if abs(step - 1) < 1e-16 { break }
        }
        return fraction
    }
}

/// The five numbers a box plot draws, with Tukey's whiskers.
public struct BoxStatistics: Sendable, Hashable {
    /// The 25th percentile (linear interpolation between order statistics, as numpy's default).
    public var firstQuartile: Double
    /// The median.
    public var median: Double
    /// The 75th percentile.
    public var thirdQuartile: Double
    /// The smallest value not below `firstQuartile - 1.5 IQR`.
    public var lowerWhisker: Double
    /// The largest value not above `thirdQuartile + 1.5 IQR`.
    public var upperWhisker: Double
    /// The values beyond the whiskers, ascending.
    public var outliers: [Double]

    /// Computes the box of `values`; nil when there are none.
    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func percentile(_ fraction: Double) -> Double {
            let position = fraction * Double(sorted.count - 1)
            let lower = Int(position.rounded(.down))
            let upper = min(lower + 1, sorted.count - 1)
            return sorted[lower] + (position - Double(lower)) * (sorted[upper] - sorted[lower])
        }
        let (first, middle, third) = (percentile(0.25), percentile(0.5), percentile(0.75))
        let reach = 1.5 * (third - first)
        let inside = sorted.filter { $0 >= first - reach && $0 <= third + reach }
        // The quartiles lie within the data's range, so `inside` always holds the median.
        let (low, high) = (inside.first ?? middle, inside.last ?? middle)
        firstQuartile = first
        median = middle
        thirdQuartile = third
        lowerWhisker = low
        upperWhisker = high
        outliers = sorted.filter { $0 < low || $0 > high }
    }
}
