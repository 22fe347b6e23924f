// Vectorised transcendental functions for the element-wise kernels.
//
// libm's `expf`/`erff` are scalar calls; a ViT-B/14 forward at 518 px applies GELU to ~50 M
// elements and softmax to ~270 M, so these run 16 lanes at a time with FMA. Accuracy is
// measured against Double libm in `VectorMathTests`.

/// Sixteen floats: two AVX2 registers, enough independent work to hide FMA latency.
typealias Vector = SIMD16<Float>

/// Lane-wise integers matching `Vector`.
typealias IntegerVector = SIMD16<Int32>

enum VectorMath {
    /// e^x, underflowing through the subnormals to 0 and overflowing to +∞; NaN stays NaN.
    ///
    /// Relative error ≲ 2 ulp.
    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        // x = n·ln2 + r with |r| ≤ ln2/2, so e^x = 2^n · e^r. Cody–Waite: ln2 is split into a
        // high part with 9 significant bits (so n·part is exact) and a low correction.
        // A NaN survives the clamps (its comparisons are false) and every step after them.
        let clamped = minimum(maximum(x, Vector(repeating: -110)), Vector(repeating: 89))
        let (n, integer) = roundedQuotientByLn2(clamped)
        var r = clamped.addingProduct(n, -0.693_359_375)
        r = r.addingProduct(n, 2.121_944_4e-4)
        return expOfReduced(r, timesTwoToThe: integer)
    }

    /// e^(high + low) for a `low` that carries bits `high` cannot hold (|low| ≪ |high|).
    ///
    /// A float argument near −80 is only known to ±4·10⁻⁶, which would become the relative
    /// error of the result; erfc's tail passes −z² as an exact two-float sum instead.
    @inline(__always)
    static func exp(_ high: Vector, plus low: Vector) -> Vector {
        let clampedHigh = minimum(maximum(high, Vector(repeating: -110)), Vector(repeating: 89))
        let clampedLow = low.replacing(with: 0, where: high .!= clampedHigh)
        let (n, integer) = roundedQuotientByLn2(clampedHigh + clampedLow)
        var r = clampedHigh.addingProduct(n, -0.693_359_375) + clampedLow
        r = r.addingProduct(n, 2.121_944_4e-4)
        return expOfReduced(r, timesTwoToThe: integer)
    }

    /// n = round(x / ln2), as a float and as an integer.
    @inline(__always)
    private static func roundedQuotientByLn2(_ x: Vector) -> (Vector, IntegerVector) {
        // Adding 1.5·2^23 rounds to the nearest integer and leaves it in the low mantissa bits;
        // this avoids a float→int conversion that Swift checks lane by lane.
        let magic: Float = 12_582_912
        let shifted = x * 1.442_695_04 + magic
        return (shifted - magic, unsafeBitCast(shifted, to: IntegerVector.self) &- 0x4B40_0000)
    }

    /// e^r · 2^n for |r| ≤ ln2/2 and −160 ≤ n ≤ 128.
    @inline(__always)
    private static func expOfReduced(_ r: Vector, timesTwoToThe n: IntegerVector) -> Vector {
        // e^r ≈ 1 + r + r²·P(r), Cephes `expf` minimax coefficients.
        var p = Vector(repeating: 1.398_199_950_7e-3).addingProduct(Vector(repeating: 1.987_569_150_0e-4), r)
        p = Vector(repeating: 8.333_451_907_3e-3).addingProduct(p, r)
        p = Vector(repeating: 4.166_579_589_4e-2).addingProduct(p, r)
        p = Vector(repeating: 1.666_666_545_9e-1).addingProduct(p, r)
        p = Vector(repeating: 5.000_000_120_1e-1).addingProduct(p, r)
        let expR = (r + 1).addingProduct(p, r * r)
        // 2^n as two factors so that results in the subnormal range (n < -126) round only once.
        let half = n &>> 1
        let rest = n &- half
        let scaleA = unsafeBitCast((half &+ 127) &<< 23, to: Vector.self)
        let scaleB = unsafeBitCast((rest &+ 127) &<< 23, to: Vector.self)
        return expR * scaleA * scaleB
    }

    /// erfc(|x|/√2) = 2·Φ(−|x|), the two-sided tail of the standard normal distribution.
    ///
    /// The Chebyshev fit erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + z/2), from Numerical Recipes
    /// (§6.2, `erfcc`): fractional error below 1.2·10⁻⁷ for every z ≥ 0, so the tail keeps its
    /// *relative* accuracy, which `1 − erf(z)` would lose to cancellation. The exponent −x²/2 is
    /// formed from `x` exactly (rounded square plus its FMA rounding error): rounding z = |x|/√2
    /// first would put a relative error of ~z²·10⁻⁷ into the result.
    @inline(__always)
    static func normalTail(_ x: Vector) -> Vector {
        let a = magnitude(x)
        let z = a * 0.707_106_781_186_547_5
        let t = 1 / Vector(repeating: 1).addingProduct(z, 0.5)
        var p = Vector(repeating: -0.822_152_23).addingProduct(Vector(repeating: 0.170_872_77), t)
        p = Vector(repeating: 1.488_515_87).addingProduct(p, t)
        p = Vector(repeating: -1.135_203_98).addingProduct(p, t)
        p = Vector(repeating: 0.278_868_07).addingProduct(p, t)
        p = Vector(repeating: -0.186_288_06).addingProduct(p, t)
        p = Vector(repeating: 0.096_784_18).addingProduct(p, t)
        p = Vector(repeating: 0.374_091_96).addingProduct(p, t)
        p = Vector(repeating: 1.000_023_68).addingProduct(p, t)
        p = Vector(repeating: -1.265_512_23).addingProduct(p, t)
        let square = a * a
        let squareError = (-square).addingProduct(a, a)
        return t * exp(square * -0.5, plus: p.addingProduct(squareError, -0.5))
    }

    /// Lane-wise maximum (a NaN in `a` is kept, one in `b` ignored).
    ///
    /// The standard library's `pointwiseMax` is not inlined and runs lane by lane (~10× slower
    /// in a GELU loop); a compare and blend is two instructions.
    @inline(__always)
    static func maximum(_ a: Vector, _ b: Vector) -> Vector {
        a.replacing(with: b, where: a .< b)
    }

    /// Lane-wise minimum (a NaN in `a` is kept, one in `b` ignored); see `maximum`.
    @inline(__always)
    static func minimum(_ a: Vector, _ b: Vector) -> Vector {
        a.replacing(with: b, where: b .< a)
    }

    /// |x| lane-wise, by clearing the sign bit.
    @inline(__always)
    static func magnitude(_ x: Vector) -> Vector {
        unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Vector.self)
    }

    /// GELU with the exact normal CDF, x·Φ(x) = ½·x·(1 + erf(x/√2)), as `torch.nn.GELU()`.
    ///
    /// Φ is taken as ½·erfc(−x/√2): for x < 0 that is the accurate tail, for x ≥ 0 it is
    /// 1 − ½·erfc(|x|/√2) without cancellation, so the result has ~1e-7 relative error
    /// everywhere (PyTorch's `1 + erf` loses relative accuracy for x ≪ 0).
    @inline(__always)
    static func gelu(_ x: Vector) -> Vector {
        let tail = normalTail(x)
        let twicePhi = (2 - tail).replacing(with: tail, where: x .< 0)
        return 0.5 * x * twicePhi
    }

    /// SiLU (swish), x·σ(x) = x / (1 + e^(−x)), as `torch.nn.SiLU()`.
    @inline(__always)
    static func silu(_ x: Vector) -> Vector {
        x / (1 + exp(-x))
    }
}
