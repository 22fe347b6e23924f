import Cluster
@testable import Engine
import Foundation
import Testing

/// How the Slurm executor reads end states (FailurePolicy) and statuses (StatusTracker), on
/// hand-made statuses; `SlurmExecutorTests` (CLITests) run the same code against the real cluster.
@Suite struct SlurmPolicyTests {
    let policy = FailurePolicy(retries: 2, requeues: 1, timeFactor: 2, memoryFactor: 1.5, defaultMemoryPerCPU: 1024)
    let resources = TaskResources(timeLimitSeconds: 600, memoryMegabytes: nil, cpus: 2, extraArguments: [], stagesPerTask: 1)
    let task = TaskID(job: 12, arrayIndex: 3)

    func decide(_ state: JobState, exit: ExitCode? = nil, node: String? = "n7", committed: Bool = false, error: String? = nil,
                attempts: Int = 1, requeues: Int = 0, part: Bool = false) -> ItemDecision {
        policy.decide(ItemEvidence(committed: committed, stageError: error, attempts: attempts, requeues: requeues),
                      status: TaskStatus(task: task, state: state, exitCode: exit, nodeList: node), resources: resources,
                      isShardPart: part, where: "Slurm job 12_3 on n7", log: "/c/slurm/x/logs/12_3.log", logTail: "Killed")
    }

    @Test func eachEndStateHasItsOwnDecision() {
        #expect(decide(.completed, committed: true) == .succeeded)
        #expect(decide(.completed, part: true) == .succeeded)
        guard case .failed(let missing) = decide(.completed) else { Issue.record("completed without artifact"); return }
        #expect(missing.contains("file system that the nodes share"))

        // A stage that threw is not retried, whatever Slurm says; the message names job and log.
        #expect(decide(.failed, exit: ExitCode(status: 1, signal: 0), error: "probe: NaN in embeddings")
                == .failed("probe: NaN in embeddings [Slurm job 12_3 on n7; log: /c/slurm/x/logs/12_3.log]"))

        // TIMEOUT: twice the time, in whole minutes; OUT_OF_MEMORY: 1.5 times the memory it had.
        var longer = resources
        longer.timeLimitSeconds = 1200
        #expect(decide(.timeout) == .retry(longer, reason: "TIMEOUT after 10:00; now 20:00"))
        var bigger = resources
        bigger.memoryMegabytes = 3072
        #expect(decide(.outOfMemory) == .retry(bigger, reason: "OUT_OF_MEMORY with 2048 MiB; now 3072 MiB"))

        // NODE_FAIL and BOOT_FAIL leave the node out; a crash retries as it was.
        var elsewhere = resources
        elsewhere.excludedNodes = ["n7"]
        #expect(decide(.nodeFail) == .retry(elsewhere, reason: "NODE_FAIL on n7"))
        #expect(decide(.bootFail) == .retry(elsewhere, reason: "BOOT_FAIL on n7"))
        #expect(decide(.failed, exit: ExitCode(status: 0, signal: 9)) == .retry(resources, reason: "FAILED, killed by signal 9: Killed"))
        // A node that cannot see the cache is left out too.
        #expect(decide(.failed, exit: ExitCode(status: 96, signal: 0))
                == .retry(elsewhere, reason: "FAILED: the node could not see the cache or the xrbench binary: Killed"))

        // PREEMPTED is requeued without counting as a retry, up to `requeues`.
        #expect(decide(.preempted) == .requeue)
        guard case .failed(let preempted) = decide(.preempted, requeues: 1) else { Issue.record("preempted twice"); return }
        #expect(preempted.hasPrefix("PREEMPTED 2 times"))

        // Someone else's scancel and a passed deadline fail.
        guard case .failed(let cancelled) = decide(.cancelled(byUser: 1000)) else { Issue.record("cancelled"); return }
        #expect(cancelled.hasPrefix("CANCELLED by uid 1000 outside this run"))
        guard case .failed = decide(.deadline) else { Issue.record("deadline"); return }
    }

    @Test func retriesAreBoundedPerItem() {
        #expect(decide(.timeout, attempts: 2) != .failed(""))
        guard case .failed(let message) = decide(.timeout, attempts: 3) else { Issue.record("a fourth attempt"); return }
        #expect(message == "TIMEOUT: Killed, on attempt 3 of 3 [Slurm job 12_3 on n7; log: /c/slurm/x/logs/12_3.log]")
    }

    @Test func scaledTimesRoundUpToWholeMinutes() {
        #expect(FailurePolicy.scaledTime(60, by: 2) == 120)
        #expect(FailurePolicy.scaledTime(90, by: 1.5) == 180)
        #expect(FailurePolicy.scaledTime(3600, by: 1.25) == 4500)
    }

    // MARK: Status

    let markers = URL(fileURLWithPath: "/nonexistent/markers")
    let start = Date(timeIntervalSince1970: 1_000_000)

    func status(_ index: Int, _ state: JobState) -> TaskStatus {
        TaskStatus(task: TaskID(job: 5, arrayIndex: index), state: state, exitCode: state.isFinished ? ExitCode(status: 0, signal: 0) : nil)
    }

    @Test func oneQueryPerPollAndMarkersSettleTasksSacctHasNotListed() {
        var tracker = StatusTracker(accountingAvailable: true, grace: 600)
        let live = [TaskID(job: 5, arrayIndex: 0): start, TaskID(job: 5, arrayIndex: 1): start]
        var sources: [StatusSource] = []
        let marker = ExitMarkers.Marker(task: TaskID(job: 5, arrayIndex: 1), exitStatus: 3, host: "n2")
        let answer = tracker.poll(live: live, markers: [marker.task: marker], markerFolder: markers, now: start.addingTimeInterval(5)) {
            sources.append($0)
            return [status(0, .running)]
        }
        #expect(sources == [.accounting])
        #expect(answer.statuses[TaskID(job: 5, arrayIndex: 0)]?.state == .running)
        let settled = answer.statuses[TaskID(job: 5, arrayIndex: 1)]
        #expect(settled?.state == .failed && settled?.exitCode?.status == 3 && settled?.nodeList == "n2")
    }

    @Test func aTaskSacctMissesForAMinuteIsLookedForWithSqueue() {
        var tracker = StatusTracker(accountingAvailable: true, grace: 600)
        let pending = TaskID(job: 5, arrayIndex: 0)
        var sources: [StatusSource] = []
        for seconds in [2.0, 30, 65, 70] {
            _ = tracker.poll(live: [pending: start], markers: [:], markerFolder: markers, now: start.addingTimeInterval(seconds)) {
                sources.append($0)
                return $0 == .accounting ? [] : [status(0, .pending)]
            }
        }
        #expect(sources == [.accounting, .accounting, .accounting, .queueAndMarkers(directory: markers)])
    }

    @Test func anAccountingOutageIsWaitedOutOnSqueueUntilTheGracePeriodEnds() {
        var tracker = StatusTracker(accountingAvailable: true, grace: 3600)
        let running = TaskID(job: 5, arrayIndex: 0), forgotten = TaskID(job: 5, arrayIndex: 1)
        let live = [running: start, forgotten: start]
        var sources: [StatusSource] = []
        func poll(at seconds: Double) -> StatusTracker.Answer {
            tracker.poll(live: live, markers: [:], markerFolder: markers, now: start.addingTimeInterval(seconds)) { source in
                sources.append(source)
                if source == .accounting {
                    throw SlurmError.accountingUnreachable(command: "sacct", detail: "Problem talking to the database: Connection refused")
                }
                return [status(0, .running)]
            }
        }
        let first = poll(at: 100)
        #expect(first.statuses.isEmpty && first.abandoned.isEmpty)
        // squeue from now on (sacct again after five minutes); the task squeue forgot waits for accounting.
        let second = poll(at: 110)
        #expect(second.statuses[running]?.state == .running && second.statuses[forgotten] == nil && second.abandoned.isEmpty)
        _ = poll(at: 500)
        _ = poll(at: 510)
        #expect(sources == [.accounting, .queueAndMarkers(directory: markers), .accounting, .queueAndMarkers(directory: markers)])
        // Still nothing about it an hour after it was submitted: given up on, with why.
        let late = poll(at: 3700)
        #expect(late.abandoned[forgotten] != nil && late.abandoned[running] == nil)
        #expect(tracker.queries == ["sacct": 3, "squeue": 2])
    }

    @Test func withoutAccountingATaskSqueueForgotWithoutAMarkerEndedWithoutATrace() {
        var tracker = StatusTracker(accountingAvailable: false, grace: 3600)
        let task = TaskID(job: 5, arrayIndex: 0)
        let early = tracker.poll(live: [task: start], markers: [:], markerFolder: markers, now: start.addingTimeInterval(5)) { _ in [] }
        #expect(early.statuses.isEmpty)
        let late = tracker.poll(live: [task: start], markers: [:], markerFolder: markers, now: start.addingTimeInterval(400)) { _ in [] }
        #expect(late.statuses[task]?.state == .failed && late.statuses[task]?.reason?.contains("without a trace") == true)
    }
}
