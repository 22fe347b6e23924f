import Foundation

/// Runs one stage; the scheduler calls it on a worker thread.
///
/// The local executor runs the stage's runner in this process; a cluster executor would submit
/// `xrbench stage run KEY` and wait for it.
public protocol StageExecutor: Sendable {
    /// Runs `stage` to completion (artifact committed, outputs recorded).
    /// - Parameters:
    ///   - threads: threads the stage may use (its need, clamped to the budget).
    ///   - cancellation: set when the run is interrupted; long stages poll it.
    /// - Throws: whatever made the stage fail; `CancellationError` when it stopped on request.
    func execute(_ stage: Stage, threads: Int, cancellation: CancellationFlag) throws
}

/// How one scheduled stage ended.
public enum StageOutcome: Sendable, Equatable {
    /// It ran and finished.
    case succeeded(seconds: Double)
    /// It ran and threw.
    case failed(message: String, seconds: Double)
    /// It did not run because a stage it depends on failed.
    case skipped(blockedBy: StageKey)
    /// It stopped, or never started, because the run was interrupted.
    case cancelled
}

/// What a scheduling pass did.
public struct ScheduleReport: Sendable {
    /// Outcome per scheduled stage.
    public var outcomes: [StageKey: StageOutcome]
    /// The most threads granted at one moment (never above the budget).
    public var peakThreads: Int
    /// The most stages running at one moment.
    public var peakConcurrency: Int
    /// Wall-clock seconds.
    public var seconds: Double

    /// Keys of stages that failed.
    public var failed: [StageKey] { outcomes.filter { if case .failed = $0.value { true } else { false } }.map(\.key).sorted() }
    /// Keys of stages skipped because of a failure.
    public var skipped: [StageKey] { outcomes.filter { if case .skipped = $0.value { true } else { false } }.map(\.key).sorted() }
    /// Keys of stages that succeeded.
    public var succeeded: [StageKey] { outcomes.filter { if case .succeeded = $0.value { true } else { false } }.map(\.key).sorted() }
    /// Keys of stages cancelled by an interrupt.
    public var cancelled: [StageKey] { outcomes.filter { $0.value == .cancelled }.map(\.key).sorted() }
}

/// A moment of a run, for progress displays.
public struct ProgressSnapshot: Sendable {
    /// Stages finished (successfully or not, including skipped ones).
    public var finished: Int
    /// Stages to run in total.
    public var total: Int
    /// Stages failed so far.
    public var failed: Int
    /// Labels of running stages.
    public var running: [String]
    /// Estimated seconds left, once something has finished.
    public var estimatedSecondsLeft: Double?

    /// Creates a snapshot.
    public init(finished: Int, total: Int, failed: Int, running: [String], estimatedSecondsLeft: Double?) {
        self.finished = finished
        self.total = total
        self.failed = failed
        self.running = running
        self.estimatedSecondsLeft = estimatedSecondsLeft
    }
}

/// Receives scheduling events (on scheduler threads; implementations must be thread-safe).
public protocol SchedulerObserver: Sendable {
    /// A stage started.
    func stageStarted(_ stage: Stage, snapshot: ProgressSnapshot)
    /// A stage ended.
    func stageFinished(_ stage: Stage, outcome: StageOutcome, snapshot: ProgressSnapshot)
    /// Called about twice a second while stages run.
    func tick(_ snapshot: ProgressSnapshot)
    /// Called by the driver once nothing runs any more, before it prints its summary.
    func finished()
}

extension SchedulerObserver {
    /// Nothing to end.
    public func finished() {}
}

/// Runs a set of stages in dependency order, in parallel under a thread budget.
///
/// Each stage declares its threads (`ThreadNeed`); a stage starts when its inputs are done and
/// its threads fit in what is free. Ready stages start in order of their longest path to a
/// sink (embeddings first), and a stage that does not fit holds back the ones behind it, so a
/// whole-machine stage is not starved by a stream of small ones. A failure marks everything
/// downstream as skipped and the rest carries on. Cancellation stops new starts; running
/// stages are asked to stop and waited for.
public struct Scheduler: Sendable {
    /// The thread budget (`--jobs`).
    public var jobs: Int
    /// Progress receiver.
    public var observer: (any SchedulerObserver)?

    /// Creates a scheduler.
    /// - Parameters:
    ///   - jobs: thread budget, at least 1 (default: active processor count).
    ///   - observer: progress receiver.
    public init(jobs: Int = ProcessInfo.processInfo.activeProcessorCount, observer: (any SchedulerObserver)? = nil) {
        precondition(jobs >= 1, "the thread budget must be at least 1")
        self.jobs = jobs
        self.observer = observer
    }

    /// Runs `stages`: inputs that are not among them count as already available.
    /// - Parameters:
    ///   - stages: the stages to run, in any order; keys must be unique.
    ///   - executor: runs one stage.
    ///   - cancellation: stops the run when set.
    public func run(_ stages: [Stage], executor: any StageExecutor, cancellation: CancellationFlag = CancellationFlag()) -> ScheduleReport {
        let run = SchedulerRun(stages: stages, jobs: jobs, observer: observer, executor: executor, cancellation: cancellation)
        return run.execute()
    }
}
