// Vectorised natural logarithm and logistic function for the segmentation losses, which evaluate
// them on every pixel at mask resolution (8.6 M values per batch of eight 518-px masks × 4 classes).

extension VectorMath {
    /// ln x for positive, finite, normal x (the losses call it on sums of exponentials ≥ 1 and on
    /// 1 + e^(−|z|) ∈ (1, 2]). Relative error ≲ 2 ulp.
    ///
    /// x = m·2^e with m ∈ [√½, √2); ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172, by its
    /// odd series to s¹¹ (truncation below 1e-10); e·ln2 is added in two parts.
    @inline(__always)
    static func log(_ x: Vector) -> Vector {
        let bits = unsafeBitCast(x, to: SIMD16<UInt32>.self)
        var exponent = SIMD16<Int32>(truncatingIfNeeded: bits &>> 23) &- 127
        var mantissa = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F80_0000, to: Vector.self)
        let large = mantissa .> 1.414_213_56
        mantissa = mantissa.replacing(with: mantissa * 0.5, where: large)
        exponent = exponent.replacing(with: exponent &+ 1, where: large)
        let s = (mantissa - 1) / (mantissa + 1)
        let s2 = s * s
        var series = Vector(repeating: 1.0 / 9).addingProduct(s2, Vector(repeating: 1.0 / 11))
        series = Vector(repeating: 1.0 / 7).addingProduct(series, s2)
        series = Vector(repeating: 1.0 / 5).addingProduct(series, s2)
        series = Vector(repeating: 1.0 / 3).addingProduct(series, s2)
        let logMantissa = (2 * s).addingProduct(2 * s * s2, series)
        let e = Vector(exponent)
        // ln2 = 0.693359375 (exact in 9 bits) − 2.12194440e-4.
        return logMantissa.addingProduct(e, Vector(repeating: -2.121_944_4e-4)).addingProduct(e, Vector(repeating: 0.693_359_375))
    }

    /// The logistic function 1/(1 + e^(−z)), saturating to 0 and 1 without overflow.
    @inline(__always)
    static func sigmoid(_ z: Vector) -> Vector {
        1 / (1 + exp(-z))
    }

    /// ln(1 + e^(−|z|)), the softplus tail of binary cross-entropy, for any finite z.
    @inline(__always)
    static func softplusOfNegativeMagnitude(_ z: Vector) -> Vector {
        log(1 + exp(-magnitude(z)))
    }
}
