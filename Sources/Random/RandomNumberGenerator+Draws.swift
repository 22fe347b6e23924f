import Foundation

// Draws built on any generator's 64-bit output, written out rather than taken from the
// standard library (`Int.random(in:using:)`, `shuffle(using:)`), whose algorithms may change
// between releases: a seed must give the same splits, weights and images on every toolchain.

extension RandomNumberGenerator {
    /// A uniform integer in `0..<upperBound` (Lemire's multiply-shift with rejection, unbiased).
    @inlinable
    public mutating func nextIndex(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "upper bound must be positive")
        let bound = UInt64(upperBound)
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return Int(product.high)
    }

    /// A uniform Float in [0, 1) with 24 random bits.
    @inlinable
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A uniform Double in [0, 1) with 53 random bits.
    @inlinable
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A uniform Double in (0, 1) with 53 random bits, never 0 (so its logarithm is finite).
    @inlinable
    public mutating func nextOpenUnitDouble() -> Double { (Double(next() >> 11) + 0.5) * 0x1p-53 }

    /// Fisher–Yates shuffle driven by this generator.
    @inlinable
    public mutating func shuffle<T>(_ elements: inout [T]) {
        guard elements.count > 1 else { return }
        for i in stride(from: elements.count - 1, to: 0, by: -1) {
            let j = nextIndex(below: i + 1)
            if i != j { elements.swapAt(i, j) }
        }
    }

    /// Fills `buffer` with normal values of mean 0 and the given standard deviation, drawn in
    /// pairs by Marsaglia's polar method (no trigonometric calls; a pair's second value is
    /// dropped when `buffer` has an odd count).
    @inlinable
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, standardDeviation: Float) {
        var index = 0
        while index < buffer.count {
            let u = 2 * nextOpenUnitDouble() - 1
            let v = 2 * nextOpenUnitDouble() - 1
            let radiusSquared = u * u + v * v
            guard radiusSquared < 1, radiusSquared > 0 else { continue }
            let factor = (-2 * Foundation.log(radiusSquared) / radiusSquared).squareRoot() * Double(standardDeviation)
            buffer[index] = Float(u * factor)
            if index + 1 < buffer.count { buffer[index + 1] = Float(v * factor) }
            index += 2
        }
    }
}
