import Foundation

/// SplitMix64: a small, fast, seedable generator whose output is identical on every platform.
///
/// The phantom generator never touches `SystemRandomNumberGenerator`: every random choice
/// flows from the user's seed through this type, so a seed always gives the same bytes.
struct PhantomRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence is fully determined by `seed`.
    init(seed: UInt64) {
        state = seed
    }

    /// A generator for a sub-stream (say, image `index`), independent of its siblings.
    init(seed: UInt64, stream: UInt64) {
        var mixer = PhantomRandom(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        state = mixer.next() ^ stream
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in `range`.
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * unit()
    }

    /// Uniform integer in `range` (bias below 2^-40 for the small ranges used here).
    mutating func integer(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// True with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool {
        unit() < probability
    }

    /// Standard normal deviate (Box–Muller; one of the pair is discarded for simplicity).
    mutating func normal() -> Double {
        let u1 = max(unit(), 0x1.0p-53)
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// One element of a non-empty array, by weights.
    mutating func pick<Element>(_ elements: [Element], weights: [Double]) -> Element {
        precondition(elements.count == weights.count && !elements.isEmpty, "one weight per element")
        var target = unit() * weights.reduce(0, +)
        for (element, weight) in zip(elements, weights) {
            target -= weight
            if target < 0 { return element }
        }
        return elements[elements.count - 1]
    }
}
