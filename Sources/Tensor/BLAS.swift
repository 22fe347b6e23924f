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

    /// Sets the number of threads OpenBLAS uses per call; only `BLASBackend`'s thread-count
    /// policy calls it, under its lock.
    fileprivate static func setThreadCount(_ count: Int) {
        if threadCount != count { openblas_set_num_threads(Int32(count)) }
    }
}

/// The BLAS library behind `matmul` and the ViT's and probes' GEMMs: what it runs, on which
/// kernels, and with how many threads.
///
/// OpenBLAS (built with DYNAMIC_ARCH, as distributions ship it) picks its kernels by CPU model
/// when it loads, and its kernel families round differently. A release that predates the CPU
/// does not recognise it and falls back to SSE3 "Prescott" kernels: OpenBLAS 0.3.21 (Debian 12)
/// on an Intel family 6 model 207 Xeon measures 16 GFLOP/s for a 2048³ sgemm, against 54 with
/// `OPENBLAS_CORETYPE=Haswell` and 157 with `OPENBLAS_CORETYPE=SkylakeX`. On an AMD EPYC Zen 5
/// (family 26) it picks `Cooperlake`, whose sgemm results differ in the last bits from
/// `SkylakeX`'s, enough to move 4 of the 50 cells of the demo's tables (the 4 an AMD Zen 4
/// machine reported; scripts/determinism.sh). xrbench therefore pins the kernels by instruction
/// set (`pinnedCoreType`), so that machines with the same vector units compute the same bits. The variable must be set before the library loads,
/// i.e. in the environment of the process.
public enum BLASBackend {
    /// OpenBLAS's build description, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`.
    public static var configuration: String {
        openblas_get_config().map { String(cString: $0) }?.trimmingCharacters(in: .whitespaces) ?? "unknown"
    }

    /// The kernel family OpenBLAS chose, e.g. `Haswell`, `SkylakeX`, `Prescott`.
    public static var coreName: String {
        openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// Threads OpenBLAS uses per call right now (process-wide).
    ///
    /// `BLASBackend` is the only writer of this count, under one lock and one policy: it is 1
    /// while any `withSingleThreadedCalls` body runs, and `defaultThreadCount` otherwise.
    public static var threadCount: Int { BLAS.threadCount }

    /// The thread count OpenBLAS uses outside `withSingleThreadedCalls`: what OpenBLAS chose
    /// when it loaded (one per core, or `OPENBLAS_NUM_THREADS`) until a caller sets it.
    ///
    /// The engine sets it to 1 while it runs stages side by side (one OpenBLAS pool per GEMM on
    /// top of the scheduler's threads oversubscribes the cores). Setting it while a
    /// single-threaded body runs takes effect when the last such body ends: the count is never
    /// raised under a caller that splits its GEMMs over the cores itself, and never restored to
    /// a stale value after someone lowered the default (with two owners, a probe ending could
    /// hand a retrieval's GEMMs back to OpenBLAS's pool).
    public static var defaultThreadCount: Int {
        get { threadCountPolicy.defaultCount }
        set { threadCountPolicy.defaultCount = newValue }
    }

    /// Runs `body` with OpenBLAS at one thread per call, for code that splits its GEMMs over the
    /// cores itself (the ViT forward, a probe's training step) and calls BLAS from several threads.
    /// Bodies may run concurrently: the first to start lowers the count, the last to end sets it
    /// to `defaultThreadCount` (its value then, not when the first started).
    public static func withSingleThreadedCalls<R>(_ body: () throws -> R) rethrows -> R {
        try threadCountPolicy.withSingleThreadedCalls(body)
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

    /// The OpenBLAS kernels xrbench runs on this CPU: `SkylakeX` where it has AVX-512 (F, BW,
    /// VL, DQ), `Haswell` where it has AVX2 and FMA; `nil` (OpenBLAS's own choice) otherwise or
    /// when the CPU's features are unknown (non-Linux).
    ///
    /// Chosen by instruction set rather than CPU model so that an Intel and an AMD machine with
    /// the same vector units run the same kernels: measured, the demo's tables on an AMD EPYC
    /// Zen 5 with `SkylakeX` equal those made on an Intel Xeon with `SkylakeX`, and differ in 4
    /// cells with the `Cooperlake` kernels OpenBLAS 0.3.21 picks there by itself. On that Zen 5,
    /// `SkylakeX` ran a 2048³ sgemm at 162 GFLOP/s per core, `Cooperlake` at 149.
    public static var pinnedCoreType: String? {
        guard let cpuInfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuInfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// The `OPENBLAS_CORETYPE` to restart with: `pinnedCoreType` when OpenBLAS chose other
    /// kernels; `nil` when it chose those, when there is no pinned type, or when the variable is
    /// already set (the user's choice, or a restart that already happened).
    public static var recommendedCoreType: String? {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let pinned = pinnedCoreType, pinned.lowercased() != coreName.lowercased() else { return nil }
        return pinned
    }

    /// Restarts the running program with `OPENBLAS_CORETYPE=recommendedCoreType` when OpenBLAS
    /// chose other kernels than the pinned ones; otherwise returns at once.
    ///
    /// Call it first thing in `main`, before any other threads exist: on success it does not
    /// return (the process image is replaced, arguments kept); if the restart fails it returns
    /// and the program continues with OpenBLAS's choice. Setting the variable prevents loops.
    public static func restartWithRecommendedCoreTypeIfNeeded() {
        #if os(Linux)
        guard let coreType = recommendedCoreType else { return }
        setenv("OPENBLAS_CORETYPE", coreType, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")  // exec failed: leave the environment as it was
        #endif
    }
}

/// The policy behind `BLASBackend.threadCount`: 1 while any single-threaded body runs,
/// `defaultCount` otherwise. Every change goes through one lock and is applied by `apply`
/// (OpenBLAS's setter; a recorder in tests).
///
/// An `NSLock` rather than `Mutex`: probes running side by side contend for this lock, and on
/// Linux `Mutex` parks contended threads on a futex inside the Synchronization library, which
/// ThreadSanitizer does not see, so `make test-tsan` reported every contended section as a race
/// (38 reports in one run). ThreadSanitizer intercepts the pthread mutex behind `NSLock`.
final class ThreadCountPolicy: @unchecked Sendable {
    private let lock = NSLock()
    private var defaultCountValue: Int
    private var singleThreadedBodies = 0
    private let apply: @Sendable (Int) -> Void

    /// A policy starting from `defaultCount`, which `apply` is assumed to be in effect.
    init(defaultCount: Int, apply: @escaping @Sendable (Int) -> Void) {
        defaultCountValue = defaultCount
        self.apply = apply
    }

    /// The count outside single-threaded bodies; set while one runs, it applies when the last ends.
    var defaultCount: Int {
        get { lock.withLock { defaultCountValue } }
        set {
            precondition(newValue >= 1, "OpenBLAS needs at least one thread, got \(newValue)")
            lock.withLock {
                defaultCountValue = newValue
                if singleThreadedBodies == 0 { apply(newValue) }
            }
        }
    }

    /// Runs `body` with the count at 1.
    func withSingleThreadedCalls<R>(_ body: () throws -> R) rethrows -> R {
        lock.withLock {
            if singleThreadedBodies == 0 { apply(1) }
            singleThreadedBodies += 1
        }
        defer {
            lock.withLock {
                singleThreadedBodies -= 1
                if singleThreadedBodies == 0 { apply(defaultCountValue) }
            }
        }
        return try body()
    }
}

/// OpenBLAS's own choice, read on first use, before anyone has changed it.
private let threadCountPolicy = ThreadCountPolicy(defaultCount: BLAS.threadCount, apply: BLAS.setThreadCount)
