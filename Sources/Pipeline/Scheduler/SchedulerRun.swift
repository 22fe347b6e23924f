import Foundation

/// The mutable state of one scheduling pass, guarded by one condition variable.
final class SchedulerRun: @unchecked Sendable {
    private let stages: [Stage]
    private let jobs: Int
    private let observer: (any SchedulerObserver)?
    private let executor: any StageExecutor
    private let cancellation: CancellationFlag
    private let condition = NSCondition()

    private var pending: [Int]
    private var dependents: [[Int]]
    private var priority: [Int]
    private var ready: [Int] = []
    private var running: Set<Int> = []
    private var outcomes: [StageKey: StageOutcome] = [:]
    private var usedThreads = 0
    private var peakThreads = 0
    private var peakConcurrency = 0
    private var finishedCount = 0
    private var failedCount = 0
    private var secondsByKind: [StageKind: (total: Double, count: Int)] = [:]
    private let start = Date()

    init(stages: [Stage], jobs: Int, observer: (any SchedulerObserver)?, executor: any StageExecutor, cancellation: CancellationFlag) {
        self.stages = stages
        self.jobs = jobs
        self.observer = observer
        self.executor = executor
        self.cancellation = cancellation
        let position = Dictionary(uniqueKeysWithValues: stages.enumerated().map { ($1.key, $0) })
        pending = [Int](repeating: 0, count: stages.count)
        dependents = [[Int]](repeating: [], count: stages.count)
        for (offset, stage) in stages.enumerated() {
            for key in Set(stage.inputs.values) {
                guard let input = position[key] else { continue }
                dependents[input].append(offset)
                pending[offset] += 1
            }
        }
        // Longest path to a sink, by reverse topological order (inputs are scheduled before readers).
        priority = [Int](repeating: 0, count: stages.count)
        var order: [Int] = []
        var remaining = pending
        var queue = (0..<stages.count).filter { remaining[$0] == 0 }
        while let next = queue.popLast() {
            order.append(next)
            for dependent in dependents[next] {
                remaining[dependent] -= 1
                if remaining[dependent] == 0 { queue.append(dependent) }
            }
        }
        precondition(order.count == stages.count, "the scheduled stages form a cycle; build them through StageGraph")
        for node in order.reversed() {
            priority[node] = (dependents[node].map { priority[$0] }.max() ?? -1) + 1
        }
        ready = (0..<stages.count).filter { pending[$0] == 0 }
    }

    func execute() -> ScheduleReport {
        condition.lock()
        while true {
            if cancellation.isCancelled {
                for index in ready { outcomes[stages[index].key] = .cancelled }
                ready.removeAll()
            } else {
                launchReady()
            }
            if running.isEmpty { break }
            _ = condition.wait(until: Date().addingTimeInterval(0.5))
            if let observer, !running.isEmpty { observer.tick(snapshot()) }
        }
        for stage in stages where outcomes[stage.key] == nil { outcomes[stage.key] = .cancelled }
        let report = ScheduleReport(outcomes: outcomes, peakThreads: peakThreads, peakConcurrency: peakConcurrency,
                                    seconds: Date().timeIntervalSince(start))
        condition.unlock()
        return report
    }

    /// Starts ready stages in priority order while their threads fit. Called with the lock held.
    private func launchReady() {
        ready.sort { (priority[$0], -$0) > (priority[$1], -$1) }
        while let next = ready.first {
            let threads = stages[next].threads.granted(budget: jobs)
            guard usedThreads + threads <= jobs else { break }
            ready.removeFirst()
            usedThreads += threads
            running.insert(next)
            peakThreads = max(peakThreads, usedThreads)
            peakConcurrency = max(peakConcurrency, running.count)
            let stage = stages[next]
            observer?.stageStarted(stage, snapshot: snapshot())
            // Weak: Foundation releases a finished Thread, and its closure, in the thread's TSD
            // destructors. A strong capture made that the last release of this run whenever the
            // worker outlived `execute()`, so the executor, its result store and their SQLite and
            // dispatch objects were torn down inside TSD destruction, after libdispatch's own
            // per-thread state: heap corruption ("corrupted double-linked list", glibc's
            // "tcache_thread_shutdown(): unaligned tcache chunk detected", an AddressSanitizer SEGV
            // in _dispatch_queue_dispose). `work` holds the run for as long as it runs.
            let worker = Thread { [weak self] in self?.work(next, threads: threads) }
            worker.stackSize = 8 << 20
            worker.start()
        }
    }

    private func work(_ index: Int, threads: Int) {
        let stage = stages[index]
        let began = Date()
        var outcome: StageOutcome
        do {
            try executor.execute(stage, threads: threads, cancellation: cancellation)
            outcome = .succeeded(seconds: Date().timeIntervalSince(began))
        } catch is CancellationError {
            outcome = .cancelled
        } catch {
            outcome = .failed(message: "\(error)", seconds: Date().timeIntervalSince(began))
        }
        if case .failed = outcome, cancellation.isCancelled { outcome = .cancelled }
        condition.lock()
        running.remove(index)
        usedThreads -= threads
        outcomes[stage.key] = outcome
        finishedCount += 1
        switch outcome {
        case .succeeded(let seconds):
            secondsByKind[stage.kind, default: (0, 0)].total += seconds
            secondsByKind[stage.kind, default: (0, 0)].count += 1
            for dependent in dependents[index] {
                pending[dependent] -= 1
                if pending[dependent] == 0 { ready.append(dependent) }
            }
        case .failed:
            failedCount += 1
            skipDownstream(of: index, blockedBy: stage.key)
        case .skipped, .cancelled:
            break
        }
        let snapshot = snapshot()
        condition.signal()
        condition.unlock()
        observer?.stageFinished(stage, outcome: outcome, snapshot: snapshot)
    }

    /// Marks everything downstream of a failed stage as skipped. Called with the lock held.
    private func skipDownstream(of index: Int, blockedBy key: StageKey) {
        var stack = dependents[index]
        while let next = stack.popLast() {
            guard outcomes[stages[next].key] == nil else { continue }
            outcomes[stages[next].key] = .skipped(blockedBy: key)
            finishedCount += 1
            stack += dependents[next]
        }
    }

    /// Progress numbers; the estimate spreads the mean duration per kind over the thread budget.
    private func snapshot() -> ProgressSnapshot {
        var estimate: Double?
        let overall = secondsByKind.values.reduce((0.0, 0)) { ($0.0 + $1.total, $0.1 + $1.count) }
        if overall.1 > 0 {
            let fallback = overall.0 / Double(overall.1)
            var work = 0.0
            for stage in stages where outcomes[stage.key] == nil {
                let mean = secondsByKind[stage.kind].map { $0.total / Double($0.count) } ?? fallback
                work += mean * Double(stage.threads.granted(budget: jobs))
            }
            estimate = work / Double(jobs)
        }
        return ProgressSnapshot(finished: finishedCount, total: stages.count, failed: failedCount,
                                running: running.sorted().map { stages[$0].label }, estimatedSecondsLeft: estimate)
    }
}
