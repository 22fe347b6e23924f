import Foundation

/// Runs `body` over `0..<count` split into contiguous chunks, one per core.
///
/// Chunks are chosen only for speed; callers keep results independent of chunking (each index
/// writes its own slot, random streams derive from the index), and `body` must only write
/// memory no other chunk touches.
func parallelForEachChunk(count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let workers = max(1, min(System.coreCount, count / max(minimumChunk, 1)))
    if workers == 1 { body(0..<count); return }
    let chunk = (count + workers - 1) / workers
    withoutActuallyEscaping(body) { body in
        // The chunks write disjoint memory (see above), which the compiler cannot verify.
        let shared = UncheckedSendable(value: body)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let start = worker * chunk
            let end = min(count, start + chunk)
            if start < end { shared.value(start..<end) }
        }
    }
}

/// Carries a value into concurrent work whose safety the caller guarantees.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}

/// Host facts used to size parallel work.
enum System {
    /// Active processor count.
    static let coreCount: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
}
