import Cluster
import Foundation
import Testing
import TestSupport

/// Whether a Slurm controller answers on this machine: the commands exist and `scontrol ping`
/// says UP. CI starts the one-node test cluster (.ci/slurm/start.sh) before `make test`.
@Sendable func slurmClusterAnswers() async -> Bool {
    (try? await SlurmClient(runner: ProcessCommandRunner(timeout: .seconds(15))).controllerAnswers()) ?? false
}

/// Against the real cluster: real sbatch, squeue or sacct, scancel. Everything a test submits
/// carries a job name of its own, and the batch test needs about 70–100 s because Slurm's time
/// limits are whole minutes and the controller checks them every 30 s.
@Suite(.serialized, .enabled("no Slurm controller answers `scontrol ping` here; start the test cluster with `make slurm-up`",
                             { await slurmClusterAnswers() }))
struct SlurmIntegrationTests {
    let client = SlurmClient()

    /// A request whose script writes an exit marker, with its log beside the markers.
    func request(name: String, root: URL, body: String, arrayIndices: ArrayIndices? = nil, maxConcurrentTasks: Int? = nil,
                 timeLimit: Duration? = nil, memoryMegabytes: Int? = nil) -> BatchJobRequest {
        BatchJobRequest(name: name, script: ExitMarkers.script(body: body, directory: root.appendingPathComponent("markers").path),
                        arrayIndices: arrayIndices, maxConcurrentTasks: maxConcurrentTasks,
                        outputPath: root.appendingPathComponent("%x-%A_%a.out").path, workingDirectory: root.path,
                        timeLimit: timeLimit, memoryMegabytes: memoryMegabytes)
    }

    func makeRunDirectory() throws -> URL {
        // One node: its /tmp is the filesystem the "nodes" and the driver share.
        let root = try makeTemporaryDirectory("xrbench-slurm")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("markers"), withIntermediateDirectories: true)
        return root
    }

    /// Polls `source` with one query per cycle until every task in `expected` has finished.
    /// - Returns: the last answer and the number of queries.
    func pollUntilFinished(name: String, since: Date, source: StatusSource, expected: [TaskID],
                           backoff initial: PollBackoff, limit: Duration) async throws -> (StatusSnapshot, Int) {
        var backoff = initial
        var last = StatusSnapshot([])
        var queries = 0
        let deadline = ContinuousClock.now + limit
        while true {
            let statuses = try await client.status(jobName: name, since: since, source: source)
            queries += 1
            let current = StatusSnapshot(statuses)
            let changed = current != last
            last = current
            if expected.allSatisfy({ current[$0]?.state.isFinished == true }) { return (current, queries) }
            guard ContinuousClock.now < deadline else {
                Issue.record("not finished after \(limit): \(current.statuses.values.sorted { $0.task < $1.task })")
                return (current, queries)
            }
            try await Task.sleep(for: backoff.next(sawChange: changed))
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aBatchEndsCompletedFailedTimedOutCancelledAndOutOfMemory() async throws {
        let configuration = try await client.configuration()
        let name = "xrbench-test-\(UUID().uuidString.prefix(8))"
        let root = try makeRunDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let since = Date().addingTimeInterval(-60)
        let started = ContinuousClock.now

        let array = try await client.submit(request(
            name: name, root: root, body: "sleep 1\nif [ \"$SLURM_ARRAY_TASK_ID\" = 2 ]; then exit 3; fi",
            arrayIndices: ArrayIndices(0...3), maxConcurrentTasks: 2))
        // Slurm rounds a limit up to a whole minute.
        let timeout = try await client.submit(request(name: name, root: root, body: "sleep 300", timeLimit: .seconds(1)))
        let cancelled = try await client.submit(request(name: name, root: root, body: "sleep 300"))
        // Without cgroups Slurm kills over-memory jobs by polling and reports FAILED, not OUT_OF_MEMORY.
        let outOfMemory: Int? = configuration.memoryEnforcement == .cgroup
            ? try await client.submit(request(name: name, root: root, body: "perl -e '$x = \"x\" x (512 * 1024 * 1024); print length $x'",
                                              memoryMegabytes: 64))
            : nil
        try await client.cancel(jobs: [cancelled])

        let arrayTasks = (0...3).map { TaskID(job: array, arrayIndex: $0) }
        let expected = arrayTasks + [TaskID(job: timeout), TaskID(job: cancelled)] + (outOfMemory.map { [TaskID(job: $0)] } ?? [])
        let source: StatusSource = configuration.accountingEnabled
            ? .accounting : .queueAndMarkers(directory: root.appendingPathComponent("markers"))
        let (statuses, queries) = try await pollUntilFinished(
            name: name, since: since, source: source, expected: expected,
            backoff: PollBackoff(initial: .seconds(2), maximum: .seconds(8)), limit: .seconds(240))
        print("SlurmIntegrationTests: batch of \(expected.count) tasks finished in \(ContinuousClock.now - started)",
              "with \(queries) status queries (\(configuration.accountingEnabled ? "sacct" : "squeue + exit markers"))")

        for task in arrayTasks {
            let status = try #require(statuses[task])
            let failing = task.arrayIndex == 2
            #expect(status.state == (failing ? .failed : .completed), "\(status)")
            #expect(status.exitCode?.status == (failing ? 3 : 0), "\(status)")
        }
        #expect(statuses[TaskID(job: timeout)]?.state == .timeout)
        guard case .cancelled = statuses[TaskID(job: cancelled)]?.state else {
            Issue.record("cancelled job: \(String(describing: statuses[TaskID(job: cancelled)]))")
            return
        }
        if let outOfMemory {
            #expect(statuses[TaskID(job: outOfMemory)]?.state == .outOfMemory)
        }

        // Every array task wrote its marker; the killed jobs wrote none.
        let markers = try ExitMarkers.read(directory: root.appendingPathComponent("markers"))
        #expect(arrayTasks.map { markers[$0]?.exitStatus } == [0, 0, 3, 0])
        #expect(markers[TaskID(job: timeout)] == nil && markers[TaskID(job: cancelled)] == nil)

        // The other path agrees while squeue still knows the jobs (within MinJobAge). sacct can
        // report TIMEOUT while squeue still shows the job COMPLETING (its processes being killed),
        // so squeue is polled until it, too, has every task finished.
        if configuration.accountingEnabled {
            let (viaQueue, _) = try await pollUntilFinished(
                name: name, since: since, source: .queueAndMarkers(directory: root.appendingPathComponent("markers")),
                expected: expected, backoff: PollBackoff(initial: .seconds(1), maximum: .seconds(2)), limit: .seconds(60))
            for task in expected {
                let queued = try #require(viaQueue[task])
                let accounted = try #require(statuses[task])
                #expect(queued.state.description.hasPrefix("CANCELLED")
                        ? accounted.state.description.hasPrefix("CANCELLED") : queued.state == accounted.state,
                        "\(queued) vs \(accounted)")
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func oneJobRoundTrip() async throws {
        let configuration = try await client.configuration()
        let name = "xrbench-test-\(UUID().uuidString.prefix(8))"
        let root = try makeRunDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let source: StatusSource = configuration.accountingEnabled
            ? .accounting : .queueAndMarkers(directory: root.appendingPathComponent("markers"))
        let started = ContinuousClock.now
        var hello = request(name: name, root: root, body: "echo hello")
        hello.outputPath = root.appendingPathComponent("hello.out").path
        let job = try await client.submit(hello)
        let (statuses, queries) = try await pollUntilFinished(
            name: name, since: Date().addingTimeInterval(-60), source: source, expected: [TaskID(job: job)],
            backoff: PollBackoff(initial: .milliseconds(250), maximum: .milliseconds(250)), limit: .seconds(60))
        print("SlurmIntegrationTests: sbatch + poll round trip \(ContinuousClock.now - started) (\(queries) queries, 0.25 s apart)")
        #expect(statuses[TaskID(job: job)]?.state == .completed)
        let log = try String(contentsOf: root.appendingPathComponent("hello.out"), encoding: .utf8)
        #expect(log == "hello\n")
    }

    @Test(.timeLimit(.minutes(2)))
    func cancellingByNameEndsEveryJobOfTheRun() async throws {
        let name = "xrbench-test-\(UUID().uuidString.prefix(8))"
        let root = try makeRunDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let first = try await client.submit(request(name: name, root: root, body: "sleep 300"))
        // Held, so that the array is cancelled before it is split into tasks: Slurm then reports
        // it by its job id alone.
        var heldArray = request(name: name, root: root, body: "sleep 300", arrayIndices: ArrayIndices(0...2))
        heldArray.extraArguments = ["--hold"]
        let second = try await client.submit(heldArray)
        try await client.cancel(jobName: name)
        let expected = [TaskID(job: first)] + (0...2).map { TaskID(job: second, arrayIndex: $0) }
        let (statuses, _) = try await pollUntilFinished(
            name: name, since: Date().addingTimeInterval(-60), source: .queueAndMarkers(directory: root.appendingPathComponent("markers")),
            expected: expected, backoff: PollBackoff(initial: .milliseconds(500), maximum: .seconds(2)), limit: .seconds(60))
        for task in expected {
            #expect(statuses[task]?.state.description.hasPrefix("CANCELLED") == true, "\(String(describing: statuses[task]))")
        }
    }

    @Test func refusedSubmissionsSayWhy() async throws {
        let configuration = try await client.configuration()
        let root = try makeRunDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        var badPartition = request(name: "xrbench-test-refused", root: root, body: "true")
        badPartition.partition = "nosuchpartition"
        await #expect {
            _ = try await client.submit(badPartition)
        } throws: { error in
            guard case SlurmError.submissionRefused(.invalidPartition, _, _) = error else { return false }
            return true
        }
        // An index at MaxArraySize is one too many; the chunking helper keeps below it.
        let tooLarge = request(name: "xrbench-test-refused", root: root, body: "true",
                               arrayIndices: ArrayIndices([configuration.maxArraySize]))
        await #expect {
            _ = try await client.submit(tooLarge)
        } throws: { error in
            guard case SlurmError.submissionRefused(.invalidArray, _, _) = error else { return false }
            return true
        }
    }
}
