import CBLAS

// The one file of Models that imports the BLAS C module: every large product of the ViT forward
// goes through these two calls, which write into caller-owned buffers so that nothing is
// allocated per layer.

/// `C[m, n] = alpha * A[m, k] * B[n, k]^T + beta * C`, row-major, with leading dimensions.
///
/// `B` in `[n, k]` order is how PyTorch stores `nn.Linear` weights (`[out, in]`), and how the
/// keys of attention sit in the fused QKV buffer, so both products need no transposed copies.
@inline(__always)
func multiplyTransposedB(
    rows m: Int, columns n: Int, inner k: Int,
    _ a: UnsafePointer<Float>, leadingA: Int,
    _ b: UnsafePointer<Float>, leadingB: Int,
    into c: UnsafeMutablePointer<Float>, leadingC: Int,
    alpha: Float = 1, beta: Float = 0
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(leadingA), b, Int32(leadingB), beta, c, Int32(leadingC))
}

/// `C[m, n] = alpha * A[m, k] * B[k, n] + beta * C`, row-major, with leading dimensions.
@inline(__always)
func multiply(
    rows m: Int, columns n: Int, inner k: Int,
    _ a: UnsafePointer<Float>, leadingA: Int,
    _ b: UnsafePointer<Float>, leadingB: Int,
    into c: UnsafeMutablePointer<Float>, leadingC: Int,
    alpha: Float = 1, beta: Float = 0
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(leadingA), b, Int32(leadingB), beta, c, Int32(leadingC))
}

/// The number of threads OpenBLAS uses for one call.
func blasThreadCount() -> Int { Int(openblas_get_num_threads()) }

/// Sets the number of threads OpenBLAS uses for one call (process-wide).
func setBLASThreadCount(_ count: Int) { openblas_set_num_threads(Int32(count)) }
