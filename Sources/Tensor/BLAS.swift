import CBLAS

// The only file in this module that imports CBLAS: everything else calls these wrappers.

/// Thin Swift wrappers over OpenBLAS.
///
/// Threading: OpenBLAS runs its own thread pool inside each call (the pthread build). Callers
/// therefore issue GEMMs from one thread, one after another, and never from inside
/// `Parallel.forEachChunk`: two levels of threads on a 2-core machine oversubscribe the cores
/// and make every GEMM slower.
enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C`, all row-major.
    ///
    /// - Parameters:
    ///   - m, n, k: `op(A)` is `m × k`, `op(B)` is `k × n`, `C` is `m × n`.
    ///   - a, b, c: first elements; leading dimensions are the row lengths as stored.
    static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, leadingA: Int,
        b: UnsafePointer<Float>, leadingB: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, leadingC: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "negative GEMM size \(m)×\(n)×\(k)")
        guard m > 0, n > 0 else { return }
        precondition(m <= Int(Int32.max) && n <= Int(Int32.max) && k <= Int(Int32.max)
                     && leadingA <= Int(Int32.max) && leadingB <= Int(Int32.max)
                     && leadingC <= Int(Int32.max), "GEMM dimension exceeds 32-bit BLAS limits")
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k),
                    alpha, a, blasint(max(leadingA, 1)), b, blasint(max(leadingB, 1)),
                    beta, c, blasint(max(leadingC, 1)))
    }

    /// Number of threads OpenBLAS uses per call.
    static var threadCount: Int { Int(openblas_get_num_threads()) }
}
