/// xoshiro256** (Blackman and Vigna, 2018) seeded through SplitMix64: the generator for every
/// result-affecting draw in evaluation (splits, fractions, bootstrap, shuffling, dropout keys,
/// probe initialisation).
///
/// Streams are derived from a seed and a purpose so that, for example, the bootstrap of replicate
/// 17 does not depend on how many threads computed replicates 0...16.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    @usableFromInline var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose sequence depends only on `seed` and `stream`.
    /// - Parameters:
    ///   - seed: the user-visible seed.
    ///   - stream: a purpose tag (e.g. a replicate index or a `stableHash` of a name) mixed into the seed.
    public init(seed: UInt64, stream: UInt64 = 0) {
        var seeder = SplitMix64(seed: seed ^ (stream &* SplitMix64.increment) ^ 0xD1B5_4A32_D192_ED03)
        state = (seeder.next(), seeder.next(), seeder.next(), seeder.next())
    }

    /// A generator in a given state, for checking the algorithm against its published outputs.
    init(state: (UInt64, UInt64, UInt64, UInt64)) {
        self.state = state
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = Self.rotateLeft(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = Self.rotateLeft(state.3, 45)
        return result
    }

    @inlinable
    static func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// A stable 64-bit FNV-1a hash of a string, for deriving generator streams from names
/// (Swift's `Hasher` is randomly seeded per process and must not affect results).
public func stableHash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return hash
}
