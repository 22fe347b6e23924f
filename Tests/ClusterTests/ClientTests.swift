import Cluster
import Foundation
import Testing

/// `SlurmClient` over captured real outputs: which command it runs, and what it makes of the answer.
@Suite struct ClientTests {
    @Test func submitSendsTheScriptOnStandardInputAndReadsTheJobID() async throws {
        let replay = ReplayRunner(["sbatch": CommandOutput(status: 0, standardOutput: "42\n", standardError: "")])
        let client = SlurmClient(runner: replay)
        let script = "#!/bin/bash\necho hi\n"
        let id = try await client.submit(BatchJobRequest(name: "run-1", script: script, arrayIndices: ArrayIndices(0...3),
                                                         maxConcurrentTasks: 2))
        #expect(id == 42)
        let invocation = try #require(replay.invocations.first)
        #expect(invocation.executable == "sbatch")
        #expect(invocation.arguments == ["--parsable", "--job-name=run-1", "--array=0-3%2"])
        #expect(invocation.standardInput == script)
    }

    @Test func aMultiClusterJobIDIsRead() async throws {
        let replay = ReplayRunner(["sbatch": CommandOutput(status: 0, standardOutput: "42;xrbench\n", standardError: "")])
        #expect(try await SlurmClient(runner: replay).submit(BatchJobRequest(name: "r", script: "#!/bin/sh\n")) == 42)
    }

    @Test func aRefusedSubmissionThrowsTheReason() async throws {
        let capture = try CapturedOutput("marker/sbatch-invalid-partition")
        let client = SlurmClient(runner: ReplayRunner(["sbatch": capture.output]))
        await #expect {
            _ = try await client.submit(BatchJobRequest(name: "r", script: "#!/bin/sh\n", partition: "nosuchpartition"))
        } throws: { error in
            guard case SlurmError.submissionRefused(.invalidPartition, _, _) = error else { return false }
            return true
        }
    }

    @Test func oneStatusQueryPerPollOnEitherPath() async throws {
        let sacct = try CapturedOutput("accounting/status-final")
        let squeue = try CapturedOutput("marker/status-final")
        let replay = ReplayRunner(["sacct": sacct.output, "squeue": squeue.output])
        let client = SlurmClient(runner: replay)
        let since = Date(timeIntervalSince1970: 1_796_538_000)
        let accounted = try await client.status(jobName: "run-1", since: since, source: .accounting)
        let accountedExpected = try SacctQuery.parse(sacct.output.standardOutput)
        #expect(accounted == accountedExpected)
        let markers = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: markers, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: markers) }
        let queued = try await client.status(jobName: "run-1", since: since, source: .queueAndMarkers(directory: markers))
        let queuedExpected = try SqueueQuery.parse(squeue.output.standardOutput)
        #expect(queued.count == queuedExpected.count)
        #expect(replay.invocations.map(\.executable) == ["sacct", "squeue"])
        #expect(replay.invocations[0].arguments.contains("--name=run-1"))
        #expect(replay.invocations[1].arguments.contains("--name=run-1"))
    }

    @Test func aMissingMarkerDirectoryIsAnError() async throws {
        let squeue = try CapturedOutput("marker/status-final")
        let client = SlurmClient(runner: ReplayRunner(["squeue": squeue.output]))
        await #expect {
            _ = try await client.status(jobName: "r", since: Date(),
                                        source: .queueAndMarkers(directory: URL(fileURLWithPath: "/nonexistent/markers")))
        } throws: { error in
            guard case SlurmError.markerDirectoryUnreadable(let path, _) = error else { return false }
            return path == "/nonexistent/markers"
        }
    }

    @Test func cancelByNameIsLimitedToTheCurrentUser() async throws {
        let replay = ReplayRunner(["scancel": CommandOutput(status: 0, standardOutput: "", standardError: "")])
        let client = SlurmClient(runner: replay)
        try await client.cancel(jobName: "run-1")
        try await client.cancel(jobs: [7, 8])
        try await client.cancel(jobs: [])
        #expect(replay.invocations.map(\.arguments) == [["--name=run-1", "--user=\(NSUserName())"], ["7", "8"]])
    }

    @Test func theControllerBeingDownIsReportedAsSuch() async throws {
        let down = try CapturedOutput("marker/scontrol-show-config-down")
        let ping = try CapturedOutput("marker/scontrol-ping-down")
        await #expect {
            _ = try await SlurmClient(runner: ReplayRunner(["scontrol": down.output])).configuration()
        } throws: { error in
            guard case SlurmError.controllerUnreachable = error else { return false }
            return true
        }
        #expect(try await SlurmClient(runner: ReplayRunner(["scontrol": ping.output])).controllerAnswers() == false)
    }
}
