import Cluster
import Foundation
import Logging
import Pipeline

/// The Slurm executor's driver: one thread that turns the stages the scheduler hands over into
/// job arrays, polls their status once per cycle, and settles each stage (committed, retried,
/// failed) for the scheduler thread waiting on it.
///
/// Scheduler threads call `execute` and block on a `Waiter`; they touch only `incoming` and the
/// stop flags, under `condition`. Everything else (the replayed journal, the queue of items to
/// submit, the work per stage, the status tracker) belongs to the driver thread alone, so the
/// Slurm commands run without a lock held.
final class SlurmDriver: @unchecked Sendable {
    /// A scheduler thread waiting for its stage.
    final class Waiter: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var result: Result<ExecutionOutcome, any Error>?

        func resolve(_ result: Result<ExecutionOutcome, any Error>) {
            self.result = result
            done.signal()
        }
    }

    /// A stage being computed: its embedding shard parts first, if any, then the whole stage.
    struct StageWork {
        var stage: Stage
        var waiter: Waiter
        var remaining: Set<WorkItem>
        var filling: Bool
    }

    /// An item waiting to be submitted.
    struct Queued {
        var item: WorkItem
        var kind: StageKind
        var resources: TaskResources
        var cause: SubmissionCause
    }

    /// What the driver did, for the run's summary and the bench.
    struct Statistics: Sendable {
        var sbatchCalls = 0
        var tasks = 0
        var stagesSubmitted = Set<StageKey>()
        var statusQueries: [String: Int] = [:]
        var polls = 0
        var scancelCalls = 0
        var retries = 0
        var requeues = 0
        var reattached = Set<TaskID>()
    }

    let client: SlurmClient
    let cluster: SlurmConfiguration
    let profile: SlurmProfile
    let journal: SlurmJournal
    let script: TaskScript
    let cache: ArtifactCache
    let stageKinds: [StageKey: StageKind]
    /// What each kind's runner declares (the scheduler's copies of the stages say one thread).
    let threadNeeds: [StageKind: ThreadNeed]
    let policy: FailurePolicy
    let cancellation: CancellationFlag
    let logger: Logger

    // Shared with scheduler threads, under `condition`.
    private let condition = NSCondition()
    private var incoming: [(Stage, Waiter)] = []
    private var stopRequested = false
    private var detaching = false
    private var threadStarted = false
    private let stopped = DispatchSemaphore(value: 0)
    private var finalNotes: [String] = []

    // The driver thread's own state (and the calling thread's before the thread starts).
    var replay: JournalReplay
    var works: [StageKey: StageWork] = [:]
    var queue: [Queued] = []
    var tracker: StatusTracker
    var statistics = Statistics()
    var since: Date
    var cancelledEverything = false
    var lastStates: [TaskID: JobState] = [:]
    var runID: Int64 = 0
    /// The stages `begin` was given (what `--detach` submits).
    var runStages: [Stage] = []
    /// Why sbatch last refused a batch.
    var lastRefusal: String?

    init(client: SlurmClient, cluster: SlurmConfiguration, profile: SlurmProfile, journal: SlurmJournal, script: TaskScript,
         cache: ArtifactCache, stageKinds: [StageKey: StageKind], threadNeeds: [StageKind: ThreadNeed],
         cancellation: CancellationFlag, logger: Logger) {
        self.client = client
        self.cluster = cluster
        self.profile = profile
        self.journal = journal
        self.script = script
        self.cache = cache
        self.stageKinds = stageKinds
        self.threadNeeds = threadNeeds
        self.cancellation = cancellation
        self.logger = logger
        policy = FailurePolicy(retries: profile.retries, requeues: profile.requeues, timeFactor: profile.timeFactor,
                               memoryFactor: profile.memoryFactor, defaultMemoryPerCPU: cluster.defaultMemoryPerCPUMegabytes)
        let accounting = profile.accounting == "sacct" || (profile.accounting == "auto" && cluster.accountingEnabled)
        tracker = StatusTracker(accountingAvailable: accounting, grace: profile.statusGrace)
        replay = JournalReplay(journal.events())
        since = Date(timeIntervalSince1970: (replay.firstEventTime ?? Date().timeIntervalSince1970) - 60)
    }

    // MARK: Scheduler threads

    /// Hands `stage` to the driver and waits until it is settled.
    func execute(_ stage: Stage) throws -> ExecutionOutcome {
        let waiter = Waiter()
        condition.lock()
        if stopRequested || cancelledEverything || cancellation.isCancelled {
            condition.unlock()
            throw CancellationError()
        }
        incoming.append((stage, waiter))
        if !threadStarted {
            threadStarted = true
            // Weak, as the scheduler's workers: Foundation releases a finished Thread's closure in
            // its TSD destructors, which must not be this driver's last release.
            let thread = Thread { [weak self] in self?.loop() }
            thread.name = "xrbench slurm driver"
            thread.start()
        }
        condition.signal()
        condition.unlock()
        waiter.done.wait()
        return try waiter.result!.get()
    }

    /// Stops the driver thread after it cancelled what is no longer needed (or, after
    /// `--detach`, left everything running), and returns the summary lines.
    func stop(detached: Bool) -> [String] {
        condition.lock()
        stopRequested = true
        detaching = detached
        let started = threadStarted
        condition.signal()
        condition.unlock()
        if started {
            stopped.wait()
        } else {
            finish()
        }
        return finalNotes
    }

    // MARK: The loop

    private func loop() {
        var backoff = PollBackoff(initial: Self.duration(profile.pollInterval), maximum: Self.duration(profile.maxPollInterval))
        var nextPoll = Date.distantFuture
        while true {
            condition.lock()
            while incoming.isEmpty && !stopRequested && (cancelledEverything || !cancellation.isCancelled) && Date() < nextPoll
                    && queue.isEmpty {
                _ = condition.wait(until: min(nextPoll, Date().addingTimeInterval(0.25)))
            }
            if stopRequested {
                condition.unlock()
                break
            }
            condition.unlock()
            if cancellation.isCancelled {
                if !cancelledEverything { cancelEverything() }
                drainIncoming()
                nextPoll = .distantFuture
                continue
            }
            // Stages become ready in bursts (every reader of a finished stage at once): gather
            // a burst into one submission.
            for request in gatherIncoming() { admit(request.0, waiter: request.1) }
            if !queue.isEmpty {
                if submitQueued() {
                    backoff = PollBackoff(initial: Self.duration(profile.pollInterval), maximum: Self.duration(profile.maxPollInterval))
                    nextPoll = min(nextPoll, Date().addingTimeInterval(profile.pollInterval))
                } else {
                    // sbatch did not answer: try again after a poll interval.
                    nextPoll = min(nextPoll, Date().addingTimeInterval(profile.pollInterval))
                    condition.lock()
                    _ = condition.wait(until: Date().addingTimeInterval(profile.pollInterval))
                    condition.unlock()
                }
            }
            let now = Date()
            if !replay.hasLiveTasks {
                nextPoll = .distantFuture
            } else if nextPoll == .distantFuture {
                nextPoll = now.addingTimeInterval(profile.pollInterval)
            } else if now >= nextPoll {
                let changed = poll()
                nextPoll = Date().addingTimeInterval(Self.seconds(backoff.next(sawChange: changed)))
            }
        }
        finish()
        stopped.signal()
    }

    /// Takes the waiting requests, after letting a burst of them arrive (up to 3 s).
    private func gatherIncoming() -> [(Stage, Waiter)] {
        var count = condition.withLock { incoming.count }
        guard count > 0 else { return [] }
        let started = Date()
        while Date().timeIntervalSince(started) < 3 {
            Thread.sleep(forTimeInterval: 0.2)
            let now = condition.withLock { incoming.count }
            if now == count { break }
            count = now
        }
        return condition.withLock {
            let taken = incoming
            incoming = []
            return taken
        }
    }

    /// Answers every waiting request with `CancellationError` (after Ctrl-C).
    private func drainIncoming() {
        let taken = condition.withLock {
            let taken = incoming
            incoming = []
            return taken
        }
        for (_, waiter) in taken { waiter.resolve(.failure(CancellationError())) }
    }

    /// After the last stage: cancels tasks nobody waits for any more (their stages failed, were
    /// blocked, or left the spec), or marks the journal detached; then closes it.
    private func finish() {
        if cancellation.isCancelled && !cancelledEverything && !detaching { cancelEverything() }
        if detaching {
            var event = JournalEvent(.detached)
            event.notes = notes()
            try? journal.append(event)
        } else {
            let stale = replay.liveTasks
            if !stale.isEmpty { cancel(stale, why: "no stage of this run waits for them") }
            var event = JournalEvent(.closed)
            event.notes = notes()
            try? journal.append(event)
        }
        finalNotes = notes()
    }

    /// Refuses further requests (after Ctrl-C cancelled everything).
    func markCancelled() {
        condition.withLock { cancelledEverything = true }
    }

    /// The summary lines.
    func notes() -> [String] {
        guard statistics.sbatchCalls > 0 || statistics.polls > 0 || !statistics.reattached.isEmpty else { return [] }
        let queries = statistics.statusQueries.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        var line = "slurm: \(statistics.stagesSubmitted.count) stages in \(statistics.tasks) tasks of \(statistics.sbatchCalls) "
            + "arrays (\(statistics.sbatchCalls) sbatch calls); \(statistics.statusQueries.values.reduce(0, +)) status queries"
            + (queries.isEmpty ? "" : " (\(queries))") + " in \(statistics.polls) polls"
        if statistics.retries > 0 { line += "; \(statistics.retries) retries" }
        if statistics.requeues > 0 { line += "; \(statistics.requeues) requeued" }
        if statistics.scancelCalls > 0 { line += "; \(statistics.scancelCalls) scancel calls" }
        var lines = [line]
        if !statistics.reattached.isEmpty {
            lines.append("slurm: re-attached to \(statistics.reattached.count) tasks an earlier driver submitted")
        }
        lines.append("slurm: journal, logs and exit markers in \(journal.directory.path)")
        return lines
    }

    // MARK: Helpers

    /// The kind of the stage with `key` (from the run, else its descriptor).
    func kind(of key: StageKey) -> StageKind {
        stageKinds[key] ?? works[key]?.stage.kind ?? (try? cache.descriptor(key).kind) ?? StageKind("unknown")
    }

    /// Appends to the journal; a journal that cannot be written stops nothing already running
    /// but is logged (the next driver may then resubmit what this one submitted).
    func record(_ event: JournalEvent) {
        do {
            try journal.append(event)
        } catch {
            logger.error("\(error)")
        }
    }

    static func duration(_ seconds: Double) -> Duration { .milliseconds(Int64((seconds * 1000).rounded())) }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
