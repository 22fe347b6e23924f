import Dispatch

extension Parallel {
    /// Calls `body(task)` once for every task in `0..<count`, the tasks dealt round-robin to the
    /// members of `team` (task `t` on member `t % size`), or with `team` nil to `coreCount`
    /// Dispatch workers the same way.
    ///
    /// The dense ops cut their work into tasks whose number and shapes depend on the problem only,
    /// never on the thread count, so that every GEMM call has the same shape (and OpenBLAS the
    /// same rounding) on any number of threads. Tasks must write disjoint memory.
    public static func forEachTask(count: Int, on team: WorkerTeam?, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        let workers = min(team?.size ?? coreCount, count)
        if workers == 1 {
            for task in 0..<count { body(task) }
            return
        }
        if let team {
            team.run { member in
                var task = member
                while task < count {
                    body(task)
                    task += workers
                }
            }
            return
        }
        withoutActuallyEscaping(body) { body in
            // Safe: concurrentPerform returns only after every call finished, and tasks write
            // disjoint memory (the caller's promise, as for forEachChunk).
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var task = worker
                while task < count {
                    shared.value(task)
                    task += workers
                }
            }
        }
    }
}
