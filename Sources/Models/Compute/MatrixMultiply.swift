import Foundation
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

/// Which OpenBLAS kernels this process runs, and which it should run.
///
/// OpenBLAS picks its kernels when the library loads, from the CPU model. Releases older than
/// the CPU (Debian bookworm's 0.3.21 on Sapphire/Emerald Rapids) do not recognise it and fall
/// back to the generic "Prescott" SSE3 kernels, 4-6x slower than the AVX2/AVX-512 ones. The
/// only remedy is the `OPENBLAS_CORETYPE` environment variable, read at load time, so an
/// executable that cares sets it and re-executes itself (see `relaunchWithBetterBLASKernelsIfNeeded`).
public enum BLASKernels {
    /// The kernel family OpenBLAS selected, e.g. "Haswell", "SkylakeX", "Prescott".
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The kernel family to force when OpenBLAS fell back to generic kernels on a CPU with
    /// AVX2 or AVX-512 (read from /proc/cpuinfo), else nil.
    public static var recommendedCoreType: String? {
        guard ["Prescott", "Core2", "Penryn", "Nehalem", "unknown"].contains(coreName),
              let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }
}

/// Re-executes the current program with `OPENBLAS_CORETYPE` set when OpenBLAS fell back to
/// generic kernels on a CPU that supports better ones (see `BLASKernels`); otherwise returns.
///
/// Call it first thing in an executable's `main`, before any work: the process image is
/// replaced, so the program starts again from the top with the same arguments. Does nothing
/// when `OPENBLAS_CORETYPE` is already set (also to the value it would choose), so it cannot loop.
public func relaunchWithBetterBLASKernelsIfNeeded() {
    guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
          let coreType = BLASKernels.recommendedCoreType else { return }
    setenv("OPENBLAS_CORETYPE", coreType, 1)
    var arguments = CommandLine.arguments.map { strdup($0) }
    arguments.append(nil)
    execv("/proc/self/exe", &arguments)
    // execv returns only on failure: carry on with the generic kernels.
    for argument in arguments { free(argument) }
}
