extension Gradients {
    /// ReLU: `output = max(input, 0)`; `input` and `output` may be the same buffer.
    public static func reluForward(_ input: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        for index in 0..<count { output[index] = max(input[index], 0) }
    }

    /// Fills a block of a dropout mask: entry `(row, column)` of a row-major mask with rows of
    /// `leading` entries, for the rows in `rows` and the columns in `columns`, becomes 0 with probability
    /// `probability` and `1 / (1 − probability)` otherwise (inverted dropout, as
    /// `torch.nn.Dropout` in training mode).
    ///
    /// Each entry is decided by a keyed hash of its position alone (two rounds of a 32-bit
    /// integer mixer, one per half of `key`), not by a sequential generator, so that threads
    /// filling different column blocks produce the same mask as one thread filling it all.
    /// Derive a fresh `key` per step and layer from a seeded generator.
    public static func fillDropoutMask(
        _ mask: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: Range<Int>, leading: Int,
        probability: Float, key: UInt64
    ) {
        precondition(probability >= 0 && probability < 1, "dropout probability must lie in [0, 1)")
        precondition(columns.lowerBound >= 0 && columns.upperBound <= leading, "columns outside the row")
        precondition(rows.lowerBound >= 0 && rows.upperBound * leading <= Int(UInt32.max), "mask too large for 32-bit positions")
        let keptScale = 1 / (1 - probability)
        let threshold = UInt32(min((Double(probability) * 4_294_967_296).rounded(.down), 4_294_967_295))
        let low = UInt32(truncatingIfNeeded: key), high = UInt32(truncatingIfNeeded: key >> 32)
        typealias Lanes = SIMD8<UInt32>
        let laneOffsets = Lanes(0, 1, 2, 3, 4, 5, 6, 7)
        for row in rows {
            let rowMask = mask + row * leading
            let base = UInt32(row * leading)
            var column = columns.lowerBound
            while column + 8 <= columns.upperBound {
                let positions = Lanes(repeating: base &+ UInt32(column)) &+ laneOffsets
                let bits = mix32(mix32(positions ^ Lanes(repeating: low)) ^ Lanes(repeating: high))
                let values = SIMD8<Float>(repeating: keptScale).replacing(with: 0, where: bits .< Lanes(repeating: threshold))
                UnsafeMutableRawPointer(rowMask + column).storeBytes(of: values, as: SIMD8<Float>.self)
                column += 8
            }
            while column < columns.upperBound {
                let position = base &+ UInt32(column)
                let bits = mix32(mix32(Lanes(repeating: position ^ low)) ^ Lanes(repeating: high))[0]
                rowMask[column] = bits < threshold ? 0 : keptScale
                column += 1
            }
        }
    }

    /// A 32-bit integer hash with full avalanche (Chris Wellons' "lowbias32"), lane-wise.
    @inline(__always)
    static func mix32(_ value: SIMD8<UInt32>) -> SIMD8<UInt32> {
        var x = value
        x ^= x &>> 16
        x &*= SIMD8(repeating: 0x7FEB_352D)
        x ^= x &>> 15
        x &*= SIMD8(repeating: 0x846C_A68B)
        x ^= x &>> 16
        return x
    }
}
