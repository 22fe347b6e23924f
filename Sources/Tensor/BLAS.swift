import CBLAS
import Foundation

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

/// The BLAS library behind `matmul` and `linear`: what it runs, and a remedy for a known trap.
///
/// OpenBLAS (built with DYNAMIC_ARCH, as distributions ship it) picks its kernels by CPU model
/// when it loads. A release that predates the CPU does not recognise it and falls back to SSE3
/// "Prescott" kernels: OpenBLAS 0.3.21 (Debian 12) on an Intel family 6 model 207 Xeon measures
/// 16 GFLOP/s for a 2048³ sgemm, against 54 with `OPENBLAS_CORETYPE=Haswell` and 157 with
/// `OPENBLAS_CORETYPE=SkylakeX`. The variable must be set before the library loads, i.e. in the
/// environment of the process.
public enum BLASBackend {
    /// OpenBLAS's build description, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`.
    public static var configuration: String {
        openblas_get_config().map { String(cString: $0) }?.trimmingCharacters(in: .whitespaces) ?? "unknown"
    }

    /// The kernel family OpenBLAS chose, e.g. `Haswell`, `SkylakeX`, `Prescott`.
    public static var coreName: String {
        openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// Threads OpenBLAS uses per call (process-wide). Callers that split work over the cores
    /// themselves (the ViT forward, stages run side by side) set it to 1 so that OpenBLAS's
    /// spinning pool does not compete with them.
    public static var threadCount: Int {
        get { BLAS.threadCount }
        set { if BLAS.threadCount != newValue { openblas_set_num_threads(Int32(newValue)) } }
    }

    /// Runs `body` with OpenBLAS limited to one thread per call, then restores the previous
    /// count once no other caller is inside either. For code that splits its GEMMs over the
    /// cores itself (the ViT forward, a probe's training step) and calls BLAS from several threads.
    /// OpenBLAS's thread count is process-wide, so concurrent users must agree: the first to
    /// enter saves and lowers it, the last to leave restores it.
    public static func withSingleThreadedCalls<R>(_ body: () throws -> R) rethrows -> R {
        singleThreadedUsers.enter()
        defer { singleThreadedUsers.leave() }
        return try body()
    }

    /// `C = alpha * op(A) * op(B) + beta * C` on caller-owned row-major buffers, for code that
    /// keeps its own buffers (the ViT forward) instead of `Tensor`s.
    ///
    /// - Parameters:
    ///   - m, n, k: `op(A)` is `m × k`, `op(B)` is `k × n`, `C` is `m × n`.
    ///   - a, b, c: first elements; leading dimensions are the row lengths as stored.
    @inline(__always)
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, leadingA: Int,
        b: UnsafePointer<Float>, leadingB: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, leadingC: Int
    ) {
        BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                   alpha: alpha, a: a, leadingA: leadingA, b: b, leadingB: leadingB,
                   beta: beta, c: c, leadingC: leadingC)
    }

    /// The `OPENBLAS_CORETYPE` that would use this CPU's vector units, when OpenBLAS chose
    /// kernels older than the CPU (see the type's documentation); `nil` when it did not, when
    /// the variable is already set, or when the CPU's features are unknown (non-Linux).
    ///
    /// An AVX-512 CPU that OpenBLAS runs with AVX2 kernels counts as such: 0.3.21 classifies AMD
    /// Zen 4 and 5 as "Zen" or "Haswell", whose sgemm ran at about half the speed of SkylakeX's
    /// on a Zen 5 EPYC (one thread, 2048³: 57–99 against 104–198 GFLOP/s).
    public static var recommendedCoreType: String? {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil else { return nil }
        guard let cpuInfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuInfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let core = coreName.lowercased()
        let avx512Kernels: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) {
            return avx512Kernels.contains(core) ? nil : "SkylakeX"
        }
        if ["avx2", "fma"].allSatisfy(flags.contains) {
            return avx512Kernels.union(["haswell", "zen"]).contains(core) ? nil : "Haswell"
        }
        return nil
    }

    /// Restarts the running program with `OPENBLAS_CORETYPE=recommendedCoreType` when OpenBLAS
    /// fell back to old kernels; otherwise returns at once.
    ///
    /// Call it first thing in `main`, before any other threads exist: on success it does not
    /// return (the process image is replaced, arguments kept); if the restart fails it returns
    /// and the program continues with the slower kernels. Setting the variable prevents loops.
    public static func restartWithRecommendedCoreTypeIfNeeded() {
        #if os(Linux)
        guard let coreType = recommendedCoreType else { return }
        setenv("OPENBLAS_CORETYPE", coreType, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")  // exec failed: leave the environment as it was
        #endif
    }
}

/// How many callers currently hold OpenBLAS at one thread, and the count to restore.
private final class SingleThreadedBLASUsers: @unchecked Sendable {
    private let lock = NSLock()
    private var active = 0
    private var savedThreadCount = 0

    func enter() {
        lock.lock()
        defer { lock.unlock() }
        if active == 0 {
            savedThreadCount = BLASBackend.threadCount
            BLASBackend.threadCount = 1
        }
        active += 1
    }

    func leave() {
        lock.lock()
        defer { lock.unlock() }
        active -= 1
        if active == 0 { BLASBackend.threadCount = savedThreadCount }
    }
}

private let singleThreadedUsers = SingleThreadedBLASUsers()
