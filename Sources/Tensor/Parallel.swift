import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Splits element-wise and row-wise work over the cores.
///
/// Work is cut into at most one chunk per core, and only when each chunk holds at least
/// `minimumChunk` items, because starting a `DispatchQueue.concurrentPerform` round costs
/// microseconds that small tensors cannot repay.
///
/// Do not call `matmul`, `linear` or `multiHeadAttention` inside a chunk: OpenBLAS already
/// spreads each GEMM over every core, and GEMMs issued from several of our threads at once
/// oversubscribe the cores (each call then runs slower than it would alone).
public enum Parallel {
    /// Number of cores work is split over.
    public static let coreCount: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// Calls `body` on disjoint contiguous ranges that together cover `0..<count`.
    ///
    /// Ranges run concurrently when `count` is large enough; `body` must only write
    /// locations that belong to its own range. `body` is deliberately not `@Sendable`, so that it
    /// can capture buffer pointers: keeping concurrent calls disjoint is the caller's promise.
    /// - Parameters:
    ///   - count: number of items.
    ///   - minimumChunk: the smallest number of items worth giving a thread of its own.
    ///   - body: work for one range.
    public static func forEachChunk(
        count: Int, minimumChunk: Int, _ body: (Range<Int>) -> Void
    ) {
        forEachChunk(count: count, minimumChunk: minimumChunk, on: nil, body)
    }

    /// `forEachChunk(count:minimumChunk:_:)` on the members of `team` (at most one chunk per
    /// member) instead of a `DispatchQueue.concurrentPerform` round; with `team` nil, on
    /// Dispatch over `coreCount` chunks. The ranges are the same for the same chunk count.
    ///
    /// A team's helpers spin between calls, so a round costs ~4 µs instead of ~70: for code
    /// that runs many short parallel passes in a row (a ViT forward runs ~130).
    public static func forEachChunk(
        count: Int, minimumChunk: Int, on team: WorkerTeam?, _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let chunkCount = min(team?.size ?? coreCount, max(1, count / max(minimumChunk, 1)))
        if chunkCount == 1 {
            body(0..<count)
            return
        }
        let base = count / chunkCount
        let remainder = count % chunkCount
        @Sendable func range(_ chunk: Int) -> Range<Int> {
            let start = chunk * base + min(chunk, remainder)
            return start..<(start + base + (chunk < remainder ? 1 : 0))
        }
        if let team {
            team.run { member in
                if member < chunkCount { body(range(member)) }
            }
            return
        }
        withoutActuallyEscaping(body) { body in
            // Safe: concurrentPerform returns only after every call finished, and the callers
            // promise disjoint writes (see above).
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                shared.value(range(chunk))
            }
        }
    }
}

/// Carries a value across a concurrency boundary whose safety is argued at the use site.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
