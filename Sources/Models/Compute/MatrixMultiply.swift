import CBLAS
import Tensor

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

/// `C = A B^T` (`A` `[m, k]`, `B` `[n, k]`) with the rows of `A` and `C` split over the cores,
/// each part a single-threaded sgemm on its own dispatch thread.
///
/// The forward pass runs with OpenBLAS limited to one thread (`withSingleThreadedBLAS`) and
/// does its own splitting: OpenBLAS's idle workers spin-wait and `sched_yield`, stealing the
/// cores from the row-wise passes and the attention tasks that run between the GEMMs.
func parallelMultiplyTransposedB(
    rows m: Int, columns n: Int, inner k: Int,
    _ a: UnsafePointer<Float>, leadingA: Int,
    _ b: UnsafePointer<Float>, leadingB: Int,
    into c: UnsafeMutablePointer<Float>, leadingC: Int
) {
    let parts = m * n * k >= 4_000_000 ? min(Parallel.coreCount, max(1, m / 16)) : 1
    Parallel.forEachChunk(count: parts, minimumChunk: 1) { range in
        for part in range {
            let start = part * m / parts
            let end = (part + 1) * m / parts
            multiplyTransposedB(rows: end - start, columns: n, inner: k, a + start * leadingA, leadingA: leadingA,
                                b, leadingB: leadingB, into: c + start * leadingC, leadingC: leadingC)
        }
    }
}

/// Runs `body` with OpenBLAS limited to one thread, then restores the previous count.
func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
    let previous = blasThreadCount()
    setBLASThreadCount(1)
    defer { setBLASThreadCount(previous) }
    return try body()
}

/// The number of threads OpenBLAS uses for one call.
func blasThreadCount() -> Int { Int(openblas_get_num_threads()) }

/// Sets the number of threads OpenBLAS uses for one call (process-wide).
func setBLASThreadCount(_ count: Int) { openblas_set_num_threads(Int32(count)) }

