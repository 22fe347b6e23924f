import Foundation
import Pipeline
import Testing

/// Runs stages by sleeping, failing for chosen labels, and tracking concurrency.
final class RecordingExecutor: StageExecutor, @unchecked Sendable {
    let failing: Set<String>
    let sleep: TimeInterval
    private let lock = NSLock()
    private(set) var started: [String] = []
    private(set) var currentThreads = 0
    private(set) var peakThreads = 0
    private(set) var peakStages = 0
    private var currentStages = 0

    init(failing: Set<String> = [], sleep: TimeInterval = 0.05) {
        self.failing = failing
        self.sleep = sleep
    }

    func execute(_ stage: Stage, threads: Int, cancellation: CancellationFlag) throws {
        lock.lock()
        started.append(stage.label)
        currentThreads += threads
        currentStages += 1
        peakThreads = max(peakThreads, currentThreads)
        peakStages = max(peakStages, currentStages)
        lock.unlock()
        defer {
            lock.lock()
            currentThreads -= threads
            currentStages -= 1
            lock.unlock()
        }
        Thread.sleep(forTimeInterval: sleep)
        try cancellation.check()
        if failing.contains(stage.label) { throw CacheError(path: stage.label, problem: "injected failure") }
    }
}

func stage(_ label: String, inputs: [String] = [], threads: ThreadNeed = .count(1)) -> Stage {
    Stage(key: StageKey(label), kind: StageKind("test"), inputs: Dictionary(uniqueKeysWithValues: inputs.map { ($0, StageKey($0)) }),
          threads: threads, label: label)
}

@Suite struct SchedulerTests {
    @Test func failureSkipsOnlyWhatDependsOnIt() {
        // a → b → c ; a → d ; e independent ; f ← (d, e)
        let stages = [stage("a"), stage("b", inputs: ["a"]), stage("c", inputs: ["b"]), stage("d", inputs: ["a"]),
                      stage("e"), stage("f", inputs: ["d", "e"])]
        let executor = RecordingExecutor(failing: ["b"], sleep: 0.01)
        let report = Scheduler(jobs: 2).run(stages, executor: executor)
        #expect(report.failed == [StageKey("b")])
        #expect(report.skipped == [StageKey("c")])
        #expect(report.succeeded == [StageKey("a"), StageKey("d"), StageKey("e"), StageKey("f")])
        #expect(report.outcomes[StageKey("c")] == .skipped(blockedBy: StageKey("b")))
        #expect(!executor.started.contains("c"))
    }

    @Test func threadBudgetIsNeverExceededAndSmallStagesRunSideBySide() {
        var stages: [Stage] = [stage("embed1", threads: .all), stage("embed2", threads: .all)]
        for index in 0..<6 { stages.append(stage("probe\(index)", inputs: [index < 3 ? "embed1" : "embed2"])) }
        stages.append(stage("wide", threads: .count(3)))
        let executor = RecordingExecutor(sleep: 0.05)
        let report = Scheduler(jobs: 2).run(stages, executor: executor)
        #expect(report.succeeded.count == stages.count)
        #expect(executor.peakThreads == 2)
        #expect(report.peakThreads == 2)
        #expect(executor.peakStages == 2)   // two one-thread probes at once
        // Whole-machine stages start first (longest path to a sink).
        #expect(Array(executor.started.prefix(2)) == ["embed1", "embed2"])
    }

    @Test func oneThreadBudgetRunsOneStageAtATime() {
        let stages = (0..<5).map { stage("s\($0)") }
        let executor = RecordingExecutor(sleep: 0.01)
        let report = Scheduler(jobs: 1).run(stages, executor: executor)
        #expect(report.succeeded.count == 5)
        #expect(executor.peakStages == 1)
    }

    @Test func cancellationStopsLaunchingAndMarksTheRest() {
        let stages = [stage("a"), stage("b", inputs: ["a"]), stage("c", inputs: ["b"])]
        let flag = CancellationFlag()
        final class CancellingExecutor: StageExecutor, @unchecked Sendable {
            let flag: CancellationFlag
            init(flag: CancellationFlag) { self.flag = flag }
            func execute(_ stage: Stage, threads: Int, cancellation: CancellationFlag) throws {
                if stage.label == "a" { flag.cancel() }
            }
        }
        let report = Scheduler(jobs: 2).run(stages, executor: CancellingExecutor(flag: flag), cancellation: flag)
        #expect(report.succeeded == [StageKey("a")])
        #expect(report.cancelled == [StageKey("b"), StageKey("c")])
    }

    @Test func progressLineShowsCountsRunningAndETA() {
        let line = StderrProgress.line(ProgressSnapshot(finished: 3, total: 10, failed: 1, running: ["embed x", "probe y"],
                                                        estimatedSecondsLeft: 125))
        #expect(line == "[3/10] 1 failed running: embed x, probe y  ETA 2m05s")
    }
}

@Suite struct InterruptTests {
    @Test func sigintSetsTheCancellationFlag() async throws {
        let flag = CancellationFlag()
        let handler = InterruptHandler(flag: flag)
        kill(getpid(), SIGINT)
        for _ in 0..<200 where !flag.isCancelled { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(flag.isCancelled)
        withExtendedLifetime(handler) {}
    }
}
