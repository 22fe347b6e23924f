// Vectorised element-wise math for the ViT forward: exp on 16 lanes, erf, GELU, SiLU on 8.
//
// Swift has no SIMD exp or erf, and the scalar libm calls would dominate the GELU and softmax
// passes. These run in float32 on `SIMD8<Float>` (one AVX register) or `SIMD16<Float>` (one
// AVX-512 register, two AVX ones); their accuracy (exp: ~2 ulp, erf: ≤ 5e-7 absolute) is pinned
// by tests against Foundation. The small helpers (load, store, max, clamp) are written out for
// each width: a version generic over `SIMD` compiled its comparisons lane by lane (measured).

typealias Vector8 = SIMD8<Float>
typealias Vector16 = SIMD16<Float>

/// `exp(x)` on 16 lanes: `2^n * p(r)` with `x = n ln2 + r`, `|r| ≤ ln2 / 2`.
///
/// Sixteen lanes are one register with AVX-512 and two with AVX2; the softmax rows are long,
/// so either way no lane is wasted, and the 8-lane SiLU pays for the rare SwiGLU model only.
///
/// Inputs below -87.3 flush to 0 (softmax feeds `x - max ≤ 0`, so large negative inputs are
/// the ones that occur); inputs above 88.7 saturate.
@_transparent
func exp16(_ x: Vector16) -> Vector16 {
    let clamped = clamp16(x, -87.3, 88.7)
    // Round x/ln2 to an integer by adding 1.5 * 2^23: the sum's low mantissa bits are then the
    // integer itself, which saves a float-to-int conversion (scalarised by the generic
    // `SIMD16<Int32>(_:rounding:)`).
    let magic = Vector16(repeating: 12_582_912)
    let shifted = clamped * 1.442_695_04 + magic
    let n = shifted - magic
    // ln 2 split in a part exact in float and a correction, so `r` keeps its low bits.
    var r = clamped - n * 0.693_359_375
    r = r + n * 2.121_944_4e-4
    // Taylor polynomial to degree 6: relative error ≤ 1.2e-7 on |r| ≤ 0.347.
    var p = Vector16(repeating: 1.0 / 720)
    p = p.multipliedAdding(r, 1.0 / 120)
    p = p.multipliedAdding(r, 1.0 / 24)
    p = p.multipliedAdding(r, 1.0 / 6)
    p = p.multipliedAdding(r, 0.5)
    p = p.multipliedAdding(r, 1)
    p = p.multipliedAdding(r, 1)
    let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self)
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Vector16.self)
    let result = p * scale
    // The clamp leaves exponent ≥ 1, so only true underflow needs the explicit zero.
    return result.replacing(with: 0, where: x .< Vector16(repeating: -87.3))
}

/// `erf(x)` on 8 lanes: a rational minimax approximation on [-4, 4] (erf is ±1 to float
/// precision beyond), the form used by Eigen and XLA for float32; max abs error ≈ 4e-7.
@inline(__always)
func erf8(_ x: Vector8) -> Vector8 {
    let v = clamp8(x, -4, 4)
    let v2 = v * v
    var p = Vector8(repeating: -2.726_142_3e-10)
    p = p.multipliedAdding(v2, 2.770_681_4e-08)
    p = p.multipliedAdding(v2, -2.101_024_0e-06)
    p = p.multipliedAdding(v2, -5.692_506_4e-05)
    p = p.multipliedAdding(v2, -7.349_906_3e-04)
    p = p.multipliedAdding(v2, -2.954_600_0e-03)
    p = p.multipliedAdding(v2, -1.609_603_3e-02)
    p = p * v
    var q = Vector8(repeating: -1.456_607_2e-05)
    q = q.multipliedAdding(v2, -2.133_740_6e-04)
    q = q.multipliedAdding(v2, -1.682_827_0e-03)
    q = q.multipliedAdding(v2, -7.373_329_2e-03)
    q = q.multipliedAdding(v2, -1.426_473_9e-02)
    return p / q
}

/// Exact (erf) GELU, `0.5 x (1 + erf(x / √2))`, as `nn.GELU()` / transformers' "gelu".
@inline(__always)
func gelu8(_ x: Vector8) -> Vector8 {
    0.5 * x * (1 + erf8(x * 0.707_106_77))
}

/// SiLU, `x / (1 + exp(-x))`.
@inline(__always)
func silu8(_ x: Vector8) -> Vector8 {
    x / (1 + exp16(Vector16(lowHalf: -x, highHalf: -x)).lowHalf)
}

/// Scalar GELU for the tails of rows whose length is not a multiple of 8.
@inline(__always)
func gelu1(_ x: Float) -> Float {
    gelu8(Vector8(repeating: x))[0]
}

/// Scalar SiLU for row tails.
@inline(__always)
func silu1(_ x: Float) -> Float {
    silu8(Vector8(repeating: x))[0]
}

extension SIMD16 where Scalar == Float {
    /// `self * factor + addend` as one fused multiply-add per lane.
    @inline(__always)
    func multipliedAdding(_ factor: Vector16, _ addend: Float) -> Vector16 {
        Vector16(repeating: addend).addingProduct(self, factor)
    }
}

extension SIMD8 where Scalar == Float {
    /// `self * factor + addend` as one fused multiply-add per lane (Swift does not contract
    /// `a * b + c` by itself).
    @inline(__always)
    func multipliedAdding(_ factor: Vector8, _ addend: Float) -> Vector8 {
        Vector8(repeating: addend).addingProduct(self, factor)
    }
}

/// Lane-wise maximum on 16 lanes. The generic `pointwiseMax` and `clamped` are not
/// specialised across modules and run as calls; masks compile to `vmaxps`-like blends.
@inline(__always)
func max16(_ a: Vector16, _ b: Vector16) -> Vector16 {
    a.replacing(with: b, where: b .> a)
}

/// Lane-wise clamp to `[lower, upper]` on 16 lanes.
@inline(__always)
func clamp16(_ x: Vector16, _ lower: Float, _ upper: Float) -> Vector16 {
    let low = Vector16(repeating: lower)
    let high = Vector16(repeating: upper)
    let above = x.replacing(with: low, where: x .< low)
    return above.replacing(with: high, where: above .> high)
}

/// Lane-wise clamp to `[lower, upper]`.
@inline(__always)
func clamp8(_ x: Vector8, _ lower: Float, _ upper: Float) -> Vector8 {
    let low = Vector8(repeating: lower)
    let high = Vector8(repeating: upper)
    let above = x.replacing(with: low, where: x .< low)
    return above.replacing(with: high, where: above .> high)
}

/// Loads 8 floats from `pointer + offset` (unaligned).
@inline(__always)
func load8(_ pointer: UnsafePointer<Float>, _ offset: Int) -> Vector8 {
    UnsafeRawPointer(pointer + offset).loadUnaligned(as: Vector8.self)
}

/// Stores 8 floats at `pointer + offset` (unaligned).
@inline(__always)
func store8(_ value: Vector8, _ pointer: UnsafeMutablePointer<Float>, _ offset: Int) {
    UnsafeMutableRawPointer(pointer + offset).storeBytes(of: value, as: Vector8.self)
}

/// Loads 16 floats from `pointer + offset` (unaligned).
@inline(__always)
func load16(_ pointer: UnsafePointer<Float>, _ offset: Int) -> Vector16 {
    UnsafeRawPointer(pointer + offset).loadUnaligned(as: Vector16.self)
}

/// Stores 16 floats at `pointer + offset` (unaligned).
@inline(__always)
func store16(_ value: Vector16, _ pointer: UnsafeMutablePointer<Float>, _ offset: Int) {
    UnsafeMutableRawPointer(pointer + offset).storeBytes(of: value, as: Vector16.self)
}
