import Foundation
import Tensor

// Every large product of the ViT forward goes through these two calls (over Tensor's BLAS wrapper), which write into caller-owned buffers so that nothing is
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
    BLASBackend.sgemm(transposeB: true, m: m, n: n, k: k, alpha: alpha, a: a, leadingA: leadingA,
                      b: b, leadingB: leadingB, beta: beta, c: c, leadingC: leadingC)
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
    BLASBackend.sgemm(m: m, n: n, k: k, alpha: alpha, a: a, leadingA: leadingA,
                      b: b, leadingB: leadingB, beta: beta, c: c, leadingC: leadingC)
}

/// `C = A B^T` (`A` `[m, k]`, `B` `[n, k]`) with the rows of `A` and `C` split over the cores,
/// each part a single-threaded sgemm on its own thread (a member of `team`, or Dispatch's).
///
/// The forward pass runs with OpenBLAS limited to one thread (`withSingleThreadedBLAS`) and
/// does its own splitting: OpenBLAS's idle workers spin-wait and `sched_yield`, stealing the
/// cores from the row-wise passes and the attention tasks that run between the GEMMs.
func parallelMultiplyTransposedB(
    rows m: Int, columns n: Int, inner k: Int,
    _ a: UnsafePointer<Float>, leadingA: Int,
    _ b: UnsafePointer<Float>, leadingB: Int,
    into c: UnsafeMutablePointer<Float>, leadingC: Int, team: WorkerTeam? = nil
) {
    let parts = m * n * k >= 4_000_000 ? min(Parallel.coreCount, max(1, max(m, n) / 16)) : 1
    // Split the rows of A and C while each part keeps enough of them: measured on the ViT's
    // shapes (1370 or 2056 rows; 768 to 3072 columns), row parts ran 0–12% faster than column
    // parts, also where B is the larger operand and each row part packs all of it.
    let splitColumns = m < 64 * parts && n > m
    Parallel.forEachChunk(count: parts, minimumChunk: 1, on: team) { range in
        for part in range {
            if splitColumns {
                let start = part * n / parts
                let end = (part + 1) * n / parts
                multiplyTransposedB(rows: m, columns: end - start, inner: k, a, leadingA: leadingA,
                                    b + start * leadingB, leadingB: leadingB, into: c + start, leadingC: leadingC)
            } else {
                let start = part * m / parts
                let end = (part + 1) * m / parts
                multiplyTransposedB(rows: end - start, columns: n, inner: k, a + start * leadingA, leadingA: leadingA,
                                    b, leadingB: leadingB, into: c + start * leadingC, leadingC: leadingC)
            }
        }
    }
}

/// Runs `body` with OpenBLAS limited to one thread (see `BLASBackend.withSingleThreadedCalls`).
func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
    try BLASBackend.withSingleThreadedCalls(body)
}


