// Vectorised math on 16 lanes for element-wise loops over whole feature maps, with the loads and
// stores they use. libm's `expf` is a scalar call; this runs 16 lanes at a time with FMA. Its
// accuracy is measured against Double libm in `VectorMathTests`. (The ViT forward has its own
// kernels, tuned to its shapes, in `Models/Compute/VectorMath.swift`.)

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
}

@inline(__always)
func loadVector(_ pointer: UnsafePointer<Float>) -> Vector {
    UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
}

@inline(__always)
func storeVector(_ value: Vector, _ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Vector.self)
}

/// `count` (< 16) elements as a vector, the rest zero.
@inline(__always)
func loadPartialVector(_ pointer: UnsafePointer<Float>, count: Int) -> Vector {
    var vector = Vector()
    for lane in 0..<count { vector[lane] = pointer[lane] }
    return vector
}

@inline(__always)
func storePartialVector(_ value: Vector, _ pointer: UnsafeMutablePointer<Float>, count: Int) {
    for lane in 0..<count { pointer[lane] = value[lane] }
}
