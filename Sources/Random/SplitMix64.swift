/// SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit counter passed through a mixing function.
///
/// Fast and small, with an output that is the same on every platform and Swift release (unlike
/// `SystemRandomNumberGenerator`, or the standard library's algorithms that take a generator).
/// It seeds `SeededGenerator`, draws the phantom radiographs and the random ViT weights, and
/// derives the probe's per-layer dropout keys. Its output `i` depends only on the seed and `i`
/// (`output(seed:index:)`), which lets parallel code draw without sharing a generator.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The counter; each output adds `increment` and mixes the result.
    @usableFromInline var state: UInt64

    /// The counter's step: 2⁶⁴ divided by the golden ratio, rounded to odd.
    public static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// A generator whose sequence is fully determined by `seed`.
    @inlinable
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= Self.increment
        return Self.mix(state)
    }

    /// Output `index` (0-based) of `SplitMix64(seed: seed)`, without drawing the ones before it.
    @inlinable
    public static func output(seed: UInt64, index: UInt64) -> UInt64 {
        mix(seed &+ (index &+ 1) &* increment)
    }

    /// SplitMix64's mixing function (a variant of MurmurHash3's 64-bit finaliser): a bijection
    /// of `UInt64` in which every input bit affects every output bit.
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
