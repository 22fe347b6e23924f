import Foundation
import Random

// The phantom generator never touches `SystemRandomNumberGenerator`: every random choice flows
// from the user's seed through `SplitMix64`, so a seed always gives the same bytes. These are the
// draws it makes; changing one changes every phantom dataset (and the cached artifacts and demo
// tables made from them).

extension SplitMix64 {
    /// Uniform in `range`.
    mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * nextUnitDouble()
    }

    /// Uniform integer in `range` (bias below 2^-40 for the small ranges used here).
    mutating func integer(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// True with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool {
        nextUnitDouble() < probability
    }

    /// Standard normal deviate (Box–Muller; one of the pair is discarded for simplicity).
    mutating func normal() -> Double {
        let u1 = max(nextUnitDouble(), 0x1.0p-53)
        let u2 = nextUnitDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// One element of a non-empty array, by weights.
    mutating func pick<Element>(_ elements: [Element], weights: [Double]) -> Element {
        precondition(elements.count == weights.count && !elements.isEmpty, "one weight per element")
        var target = nextUnitDouble() * weights.reduce(0, +)
        for (element, weight) in zip(elements, weights) {
            target -= weight
            if target < 0 { return element }
        }
        return elements[elements.count - 1]
    }
}
