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
        forEachTask(count: count, on: team) { task, _ in body(task) }
    }

    /// How many workers `forEachTask` deals `count` tasks to: at most one per team member (or core).
    static func workerCount(tasks count: Int, on team: WorkerTeam?) -> Int {
        max(1, min(team?.size ?? coreCount, count))
    }

    /// `forEachTask` whose body also receives its worker, in `0..<workerCount(tasks:on:)`, so
    /// that each worker can reuse a scratch buffer of its own. Which worker runs a task never
    /// changes what the task computes.
    static func forEachTask(count: Int, on team: WorkerTeam?, _ body: (_ task: Int, _ worker: Int) -> Void) {
        guard count > 0 else { return }
        let workers = workerCount(tasks: count, on: team)
        if workers == 1 {
            for task in 0..<count { body(task, 0) }
            return
        }
        if let team {
            team.run { member in
                var task = member
                while task < count {
                    body(task, member)
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
                    shared.value(task, worker)
                    task += workers
                }
            }
        }
    }
}
