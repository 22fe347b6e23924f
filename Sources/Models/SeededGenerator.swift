import Foundation

/// SplitMix64: a small, fast, seedable generator, so random models are identical on every run
/// (unlike with `SystemRandomNumberGenerator`).
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator; equal seeds give equal sequences.
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in (0, 1), never 0 (so its logarithm is finite).
    mutating func nextOpenUnit() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }

    /// Fills `buffer` with normal values of mean 0 and the given standard deviation.
    ///
    /// transformers draws these weights with `trunc_normal_(std=0.02)` whose default bounds are
    /// ±2 in absolute value, i.e. ±100σ: in effect an untruncated normal, which this draws.
    mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, standardDeviation: Float) {
        var index = 0
        while index < buffer.count {
            // Marsaglia's polar method: two independent standard normals per accepted point of
            // the unit disc, without trigonometric calls.
            let u = 2 * nextOpenUnit() - 1
            let v = 2 * nextOpenUnit() - 1
            let radiusSquared = u * u + v * v
            guard radiusSquared < 1, radiusSquared > 0 else { continue }
            let factor = (-2 * Foundation.log(radiusSquared) / radiusSquared).squareRoot() * Double(standardDeviation)
            buffer[index] = Float(u * factor)
            if index + 1 < buffer.count { buffer[index + 1] = Float(v * factor) }
            index += 2
        }
    }
}
