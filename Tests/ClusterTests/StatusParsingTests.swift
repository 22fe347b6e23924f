import Cluster
import Foundation
import Testing

/// `squeue` and `sacct` outputs captured from the test cluster: one batch under one job name that
/// ended in every state this machine can produce (see scripts/fixtures/slurm_outputs.sh).
@Suite struct StatusParsingTests {
    /// Checks the finished batch, whichever query reported it.
    func expectFinishedBatch(_ statuses: [TaskStatus], jobs: [String: Int], cancelledBy: Int?,
                             sourceLocation: SourceLocation = #_sourceLocation) throws {
        var byTask: [TaskID: TaskStatus] = [:]
        for status in statuses { byTask[status.task] = status }
        func status(_ role: String, index: Int? = nil) throws -> TaskStatus {
            let id = try #require(jobs[role], "no \(role) job in the fixture", sourceLocation: sourceLocation)
            return try #require(byTask[TaskID(job: id, arrayIndex: index)], "\(role) \(index.map(String.init) ?? "") missing",
                                sourceLocation: sourceLocation)
        }
        for index in [0, 1, 3] {
            let task = try status("array", index: index)
            #expect(task.state == .completed, sourceLocation: sourceLocation)
            #expect(task.exitCode == ExitCode(status: 0, signal: 0), sourceLocation: sourceLocation)
            #expect(task.nodeList != nil, sourceLocation: sourceLocation)
        }
        let failed = try status("array", index: 2)
        #expect(failed.state == .failed, sourceLocation: sourceLocation)
        #expect(failed.exitCode == ExitCode(status: 3, signal: 0), sourceLocation: sourceLocation)
        // The cgroup OOM kill: Slurm reports signal 125.
        let outOfMemory = try status("out_of_memory")
        #expect(outOfMemory.state == .outOfMemory, sourceLocation: sourceLocation)
        #expect(outOfMemory.exitCode?.signal == 125, sourceLocation: sourceLocation)
        #expect(try status("timeout").state == .timeout, sourceLocation: sourceLocation)
        #expect(try status("cancelled").state == .cancelled(byUser: cancelledBy), sourceLocation: sourceLocation)
        #expect(try status("preempted").state == .preempted, sourceLocation: sourceLocation)
        #expect(try status("node_fail").state == .nodeFail, sourceLocation: sourceLocation)
        #expect(try status("preemptor").state == .completed, sourceLocation: sourceLocation)
        for status in statuses where status.state.isFinished && status.state != .cancelled(byUser: cancelledBy) {
            #expect(status.nodeList != nil, "\(status.task) ran somewhere", sourceLocation: sourceLocation)
        }
    }

    @Test func squeueReportsEveryFinishedState() throws {
        let capture = try CapturedOutput("marker/status-final")
        let statuses = try SqueueQuery.parse(capture.output.standardOutput)
        let jobs = try CapturedOutput.jobs("marker")
        try expectFinishedBatch(statuses, jobs: jobs, cancelledBy: nil)
        // The held job is still pending, and waiting will not start it, but it is not stuck on a limit.
        let held = try #require(statuses.first { $0.task == TaskID(job: jobs["held"]!) })
        #expect(held.state == .pending)
        #expect(held.reason == "JobHeldUser")
        #expect(!held.isStuck)
        // squeue's raw wait statuses: 768 is exit 3, 15 is SIGTERM (the time limit's kill).
        #expect(statuses.first { $0.task == TaskID(job: jobs["timeout"]!) }?.exitCode == ExitCode(status: 0, signal: 15))
    }

    @Test func squeueListsEachPendingArrayTaskOnItsOwnLine() throws {
        let capture = try CapturedOutput("marker/status-running")
        #expect(capture.command.contains("--array"))
        let statuses = try SqueueQuery.parse(capture.output.standardOutput)
        let array = try #require(CapturedOutput.jobs("marker")["array"])
        let tasks = statuses.filter { $0.task.job == array }.map(\.task.arrayIndex)
        #expect(tasks.sorted { ($0 ?? -1) < ($1 ?? -1) } == [0, 1, 2, 3])
        #expect(statuses.allSatisfy { !$0.state.isFinished })
        #expect(statuses.filter { $0.state == .pending }.allSatisfy { $0.exitCode == nil })
    }

    @Test func requestsOverAPartitionLimitAreStuckNotPending() throws {
        // EnforcePartLimits=NO: sbatch accepted these, and they can never start.
        let jobs = try CapturedOutput("marker/status-stuck")
        let statuses = try SqueueQuery.parse(jobs.output.standardOutput)
        let overTime = try #require(Int(try CapturedOutput("marker/sbatch-time-over-partition-limit").output.standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let tooManyCPUs = try #require(Int(try CapturedOutput("marker/sbatch-too-many-cpus").output.standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        let overTimeStatus = try #require(statuses.first { $0.task.job == overTime })
        #expect(overTimeStatus.reason == "PartitionTimeLimit")
        #expect(overTimeStatus.isStuck)
        let cpuStatus = try #require(statuses.first { $0.task.job == tooManyCPUs })
        #expect(cpuStatus.isStuck, "\(cpuStatus)")
    }

    @Test func sacctReportsEveryFinishedState() throws {
        let capture = try CapturedOutput("accounting/status-final")
        #expect(capture.command.hasPrefix("sacct"))
        let statuses = try SacctQuery.parse(capture.output.standardOutput)
        try expectFinishedBatch(statuses, jobs: try CapturedOutput.jobs("accounting"), cancelledBy: 0)
    }

    @Test func sacctListsPendingJobsLateOrNever() throws {
        // Two seconds after submission the accounting database had not heard of most of the batch,
        // and a held job never reached it, while squeue listed it all along: an executor must
        // treat a task sacct does not list as not known yet, not as lost.
        let running = try CapturedOutput("accounting/status-running")
        #expect(running.output.status == 0)
        let submitted = try SqueueQuery.parse(try CapturedOutput("marker/status-running").output.standardOutput).count
        #expect(try SacctQuery.parse(running.output.standardOutput).count < submitted)
        let held = try #require(CapturedOutput.jobs("accounting")["held"])
        let final = try SacctQuery.parse(try CapturedOutput("accounting/status-final").output.standardOutput)
        #expect(!final.contains { $0.task.job == held })
        let queued = try SqueueQuery.parse(try CapturedOutput("marker/status-final").output.standardOutput)
        let queuedHeld = try #require(CapturedOutput.jobs("marker")["held"])
        #expect(queued.contains { $0.task.job == queuedHeld && $0.state == .pending })
    }

    @Test func sacctArgumentsFilterByNameWithAStartTime() {
        let since = Date(timeIntervalSince1970: 1_796_538_839)
        let arguments = SacctQuery.arguments(jobName: "run-7", since: since, timeZone: TimeZone(identifier: "UTC")!)
        #expect(arguments == ["--name=run-7", "--allocations", "--parsable2", "--noheader",
                              "--starttime=2026-12-06T06:33:59",
                              "--format=JobID,JobIDRaw,State,ExitCode,Reason,NodeList,Elapsed"])
    }

    @Test func anArrayCancelledBeforeItStartedIsOneLineForAllItsTasks() throws {
        let statuses = try SqueueQuery.parse(try CapturedOutput("marker/status-cancelled").output.standardOutput)
        let array = try #require(CapturedOutput.jobs("marker")["held_array"])
        #expect(statuses.filter { $0.task.job == array }.map(\.task) == [TaskID(job: array)])
        let snapshot = StatusSnapshot(statuses)
        for index in 0...2 {
            let task = try #require(snapshot[TaskID(job: array, arrayIndex: index)], "task \(index)")
            #expect(task.state == .cancelled(byUser: nil))
            #expect(task.task == TaskID(job: array, arrayIndex: index))
        }
        // A plain job has no array line to fall back on.
        #expect(snapshot[TaskID(job: 999_999)] == nil)
        // sacct had not heard of the held array three seconds after the cancel (the integration
        // test saw it later as one `CANCELLED by 0` line); it never lists its tasks one by one.
        let accounted = try SacctQuery.parse(try CapturedOutput("accounting/status-cancelled").output.standardOutput)
        let accountedArray = try #require(CapturedOutput.jobs("accounting")["held_array"])
        #expect(!accounted.contains { $0.task.job == accountedArray && $0.task.arrayIndex != nil })
    }

    @Test func jobIDsInEverySlurmForm() {
        #expect(TaskID.parseAll("12") == [TaskID(job: 12)])
        #expect(TaskID.parseAll("12_3") == [TaskID(job: 12, arrayIndex: 3)])
        // A pending array part not yet split into tasks (squeue without --array, and sacct).
        #expect(TaskID.parseAll("19_[1-5%1]") == (1...5).map { TaskID(job: 19, arrayIndex: $0) })
        #expect(TaskID.parseAll("19_[1,3,7-8]") == [1, 3, 7, 8].map { TaskID(job: 19, arrayIndex: $0) })
        #expect(TaskID.parseAll("12+1") == [TaskID(job: 12)])
        #expect(TaskID.parseAll("12.batch") == nil)
        #expect(TaskID.parseAll("x_1") == nil)
        #expect(TaskID.parseAll("12_[3-1]") == nil)
    }

    @Test func statesAndExitCodes() {
        #expect(JobState(slurmName: "CANCELLED by 0") == .cancelled(byUser: 0))
        #expect(JobState(slurmName: "CANCELLED") == .cancelled(byUser: nil))
        #expect(JobState(slurmName: "BOOT_FAIL") == .bootFail)
        #expect(JobState(slurmName: "REQUEUE_HOLD") == .requeued)
        #expect(JobState(slurmName: "SOMETHING_NEW") == .other("SOMETHING_NEW"))
        #expect(!JobState.other("SOMETHING_NEW").isFinished)
        #expect(JobState.cancelled(byUser: 0).description == "CANCELLED by 0")
        #expect(ExitCode(sacct: "3:0") == ExitCode(status: 3, signal: 0))
        #expect(ExitCode(sacct: "0:125") == ExitCode(status: 0, signal: 125))
        #expect(ExitCode(waitStatus: "768") == ExitCode(status: 3, signal: 0))
        #expect(ExitCode(waitStatus: "253") == ExitCode(status: 0, signal: 125))
        #expect(ExitCode(sacct: "3") == nil)
    }

    @Test func malformedLinesAreNamed() {
        #expect {
            try SacctQuery.parse("1_0|6|COMPLETED\n")
        } throws: { error in
            guard case SlurmError.unparsableOutput(_, let line, _) = error else { return false }
            return line == "1_0|6|COMPLETED"
        }
        #expect(throws: SlurmError.self) { try SqueueQuery.parse("garbage\n") }
    }
}
