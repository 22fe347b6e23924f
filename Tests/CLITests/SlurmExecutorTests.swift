import Foundation
import Testing
import TestSupport

/// Whether a Slurm controller answers here (`scontrol ping` says UP); CI starts the one-node
/// test cluster (.ci/slurm/start.sh) before `make test`.
func slurmControllerAnswers() -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["scontrol", "ping"]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return process.terminationStatus == 0 && text.contains("is UP")
}

/// `xrbench run --executor slurm` against the real cluster: the same results as the local
/// executor, a killed driver re-attaching without submitting anything twice, a failing stage
/// isolated, a timed-out stage retried with more time, Ctrl-C cancelling every job, and
/// `--detach` collected by `xrbench runs --sync`. About three minutes, most of it the one-minute
/// time limit (Slurm's smallest) of the timeout test.
@Suite(.serialized, .enabled("no Slurm controller answers `scontrol ping` here; start the test cluster with `make slurm-up`",
                             { slurmControllerAnswers() }))
struct SlurmExecutorTests {
    static let spec = """
        experiment: slurm-executor
        backbones:
          pixels: {kind: pixels, size: 8}
          vit-tiny-random: {kind: vit-tiny-random, seed: 0, resolution: 56}
        datasets:
          phantom: {kind: phantom, count: 80, seed: 3, size: 96}
        heads:
          quick: {kind: mlp, hidden: [16], max_epochs: 8, early_stop_patience: 3}
        tasks:
          - name: retrieval-view
            kind: retrieval
            k: [5, 10]
            relevance: view
            matrix: {backbone: [pixels, vit-tiny-random], dataset: [phantom]}
          - name: anatomy
            kind: classification
            labels: [anatomy]
            target: multiclass
            metric: [mcc, accuracy]
            matrix: {backbone: [pixels, vit-tiny-random], dataset: [phantom], head: [quick], fraction: [0.5, 1.0], seed: [0, 1]}
          - name: fairness-sex
            kind: fairness
            labels: [marker]
            bootstrap: {replicates: 20, seed: 1}
            matrix: {backbone: [pixels], dataset: [phantom], head: [quick], train: [male, all], test: [male, female]}
        """

    /// Polls every second (growing to three), fills each embedding's two shards in two tasks and
    /// runs at most two tasks of an array at once (`%2`).
    static let profile = "poll_interval: 1\nmax_poll_interval: 3\nshard_tasks: 4\narray_throttle: 2\n"
    static let flags = ["--executor", "slurm", "--profile", "slurm.yaml", "--shard-images", "40", "--quiet"]

    /// Every recorded number in a canonical order (as KillAndResumeTests compares them).
    static let everything = """
        SELECT 'result', experiment, task, backbone, head, features, fraction, seed, train_subgroup, test_subgroup,
               label, metric, value, note FROM result
        UNION ALL SELECT 'test', experiment, task, backbone, group1, group2, NULL, NULL, train_subgroup, test_subgroup,
               label, method, statistic, p_value FROM statistical_test
        UNION ALL SELECT 'replicates', experiment, task, backbone, head, features, fraction, seed, train_subgroup,
               test_subgroup, label, metric, sum(value), count(*) FROM bootstrap_replicate
               GROUP BY experiment, task, backbone, head, features, fraction, seed, train_subgroup, test_subgroup, label, metric
        ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
        """

    /// The local executor's results for the spec, computed once for the suite.
    static let reference: Result<String, any Error> = Result {
        let folder = try project()
        let run = try CLI.run(["run", "spec.yaml", "--shard-images", "40", "--quiet"], in: folder)
        guard run.status == 0 else { throw CLITestError("the local reference run failed: \(run.errorOutput)") }
        return try results(in: folder)
    }

    static func project(spec: String = spec, profile: String = profile) throws -> URL {
        let folder = try makeTemporaryDirectory("xrbench-slurm-executor")
        try Data(spec.utf8).write(to: folder.appendingPathComponent("spec.yaml"))
        try Data(profile.utf8).write(to: folder.appendingPathComponent("slurm.yaml"))
        return folder
    }

    static func results(in folder: URL) throws -> String {
        let query = try CLI.run(["query", everything, "--format", "csv"], in: folder)
        guard query.status == 0 else { throw CLITestError("query failed: \(query.errorOutput)") }
        return query.output
    }

    /// The journal's folder (one per spec) and its events.
    static func journal(in folder: URL) throws -> (name: String, events: [[String: Any]]) {
        let runs = folder.appendingPathComponent(".xrbench/cache/slurm")
        guard let name = try FileManager.default.contentsOfDirectory(atPath: runs.path).first else {
            throw CLITestError("no journal under \(runs.path)")
        }
        let text = (try? String(contentsOf: runs.appendingPathComponent(name).appendingPathComponent("journal.jsonl"), encoding: .utf8)) ?? ""
        let events = text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        return (name, events)
    }

    /// How many submitted batches ran each item (`stage` or `stage part i/n`).
    static func submissionsPerItem(_ events: [[String: Any]]) -> [String: Int] {
        var batches: [Int: [String: Any]] = [:]
        for event in events where event["event"] as? String == "batch" { batches[event["batch"] as! Int] = event }
        var counts: [String: Int] = [:]
        for event in events where event["event"] as? String == "submitted" {
            for task in batches[event["batch"] as! Int]?["tasks"] as? [[String: Any]] ?? [] {
                for item in task["items"] as? [[String: Any]] ?? [] {
                    let part = (item["part"] as? [String: Int]).map { " part \($0["index"]!)/\($0["count"]!)" } ?? ""
                    counts[(item["stage"] as! String) + part, default: 0] += 1
                }
            }
        }
        return counts
    }

    /// Jobs of `name` that are still pending or running.
    static func liveJobs(named name: String) -> [String] {
        jobs(named: name, states: "PENDING,RUNNING,CONFIGURING")
    }

    /// Jobs (array tasks) of `name` in `states`, as squeue lists them.
    static func jobs(named name: String, states: String) -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["squeue", "-h", "--array", "--name=\(name)", "--states=\(states)", "-o", "%i"]
        let output = Pipe()
        process.standardOutput = output
        guard (try? process.run()) != nil else { return [] }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.split(whereSeparator: \.isNewline).map(String.init)
    }

    /// Waits until `condition` holds (checked every 0.2 s), up to `seconds`.
    static func wait(upTo seconds: Double, for condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return try condition()
    }

    @Test(.timeLimit(.minutes(4)))
    func resultsAreBitIdenticalToTheLocalExecutors() throws {
        let expected = try Self.reference.get()
        let folder = try Self.project()
        let run = try CLI.run(["run", "spec.yaml"] + Self.flags, in: folder)
        #expect(run.status == 0, "\(run.output)\n\(run.errorOutput)")
        #expect(try Self.results(in: folder) == expected)
        // Packed: far fewer arrays (sbatch calls) than stages; the embeddings' shards in parts.
        // How many arrays depends on when stages become ready (one array per kind and wave):
        // 11 to 13 arrays for these 38 stages were seen on 2 cores, idle and loaded; a
        // submission per stage would be 38.
        let note = try #require(run.output.split(separator: "\n").first { $0.contains("sbatch calls") }, "\(run.output)")
        let numbers = note.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(numbers.count >= 4 && numbers[2] * 2 <= numbers[0], "\(note)")
        let (_, events) = try Self.journal(in: folder)
        #expect(Self.submissionsPerItem(events).keys.contains { $0.contains(" part 1/2") }, "no embedding was filled in parts")
        #expect(Self.submissionsPerItem(events).values.allSatisfy { $0 == 1 })
    }

    @Test(.timeLimit(.minutes(4)))
    func aKilledDriverReattachesAndSubmitsNothingTwice() throws {
        let expected = try Self.reference.get()
        // squeue and exit markers here (sacct in the other tests), so CI runs both status paths.
        let folder = try Self.project(profile: Self.profile + "accounting: squeue\n")
        let driver = try CLI.start(["run", "spec.yaml"] + Self.flags, in: folder)
        // Kill it as soon as the embeddings are submitted (their tasks run for seconds).
        let submitted = Self.wait(upTo: 60) {
            let events = (try? Self.journal(in: folder).events) ?? []
            let embedBatches = Set(events.filter { $0["event"] as? String == "batch" && $0["kind"] as? String == "embed" }
                .compactMap { $0["batch"] as? Int })
            return events.contains { $0["event"] as? String == "submitted" && embedBatches.contains($0["batch"] as? Int ?? -1) }
        }
        kill(driver.processIdentifier, SIGKILL)
        driver.waitUntilExit()
        #expect(submitted, "the driver submitted no embedding within a minute")
        let name = try Self.journal(in: folder).name
        let orphaned = Self.liveJobs(named: name)

        let resumed = try CLI.run(["run", "spec.yaml"] + Self.flags, in: folder)
        #expect(resumed.status == 0, "\(resumed.output)\n\(resumed.errorOutput)")
        if !orphaned.isEmpty { #expect(resumed.output.contains("re-attached to"), "\(resumed.output)") }
        #expect(resumed.output.contains("squeue") && !resumed.output.contains("sacct"), "\(resumed.output)")
        let events = try Self.journal(in: folder).events
        #expect(events.filter { $0["event"] as? String == "driver" }.count == 2)
        let counts = Self.submissionsPerItem(events)
        #expect(!counts.isEmpty && counts.values.allSatisfy { $0 == 1 }, "submitted twice: \(counts.filter { $0.value > 1 })")
        #expect(try Self.results(in: folder) == expected)
    }

    @Test(.timeLimit(.minutes(5)))
    func aFailingStageIsIsolatedAndATimedOutTaskIsRetriedWithMoreTime() throws {
        // `broken` has an image that is not an image: its embedding fails on the node. Every
        // split task sleeps past a one-minute limit, so it times out and is retried with two.
        let spec = """
            experiment: slurm-failures
            backbones:
              pixels: {kind: pixels, size: 8}
            datasets:
              phantom: {kind: phantom, count: 60, seed: 3, size: 64}
              broken: {kind: csv, manifest: data/broken/manifest.csv, root: data/broken, label_columns: [anatomy]}
            heads:
              quick: {kind: mlp, hidden: [16], max_epochs: 5, early_stop_patience: 3}
            tasks:
              - name: anatomy
                kind: classification
                labels: [anatomy]
                target: multiclass
                metric: [accuracy]
                matrix: {backbone: [pixels], dataset: [phantom, broken], head: [quick], fraction: [1.0], seed: [0]}
            """
        let profile = Self.profile + """
            kinds:
              split:
                time: "1"
                setup: 'if [ "$(squeue -h -j $SLURM_JOB_ID -o %l)" = "1:00" ]; then echo "slow under a one-minute limit"; sleep 150; fi'

            """
        let folder = try Self.project(spec: spec, profile: profile)
        let phantom = try CLI.run(["phantom", "--out", "data/broken", "--count", "40", "--seed", "5", "--size", "64"], in: folder)
        #expect(phantom.status == 0)
        let images = folder.appendingPathComponent("data/broken/images")
        let first = try #require(try FileManager.default.contentsOfDirectory(atPath: images.path).sorted().first)
        try Data("not a png".utf8).write(to: images.appendingPathComponent(first))

        let run = try CLI.run(["run", "spec.yaml"] + Self.flags, in: folder)
        #expect(run.status == 1, "\(run.output)\n\(run.errorOutput)")
        #expect(run.output.contains("1 failed, 2 blocked"), "\(run.output)")

        let rows = try CLI.run(["query", "SELECT kind, json_extract(parameters, '$.dataset') AS d, status, error_message FROM stage_execution "
                                + "WHERE kind IN ('embed', 'probe', 'metric') ORDER BY kind, status", "--format", "json"], in: folder)
        let stages = try #require(try JSONSerialization.jsonObject(with: Data(rows.output.utf8)) as? [[String: Any]], "\(rows.output)")
        let failed = try #require(stages.first { $0["status"] as? String == "failed" })
        #expect(failed["kind"] as? String == "embed")
        let message = failed["error_message"] as? String ?? ""
        #expect(message.contains("not a PNG or JPEG image") && message.contains("[Slurm job ") && message.contains("; log: "), "\(message)")
        let logPath = String(message[message.range(of: "; log: ")!.upperBound...].dropLast())
        #expect(FileManager.default.fileExists(atPath: logPath), "\(logPath)")
        #expect(stages.filter { $0["status"] as? String == "blocked" }.compactMap { $0["kind"] as? String }.sorted() == ["metric", "probe"])
        #expect(stages.filter { $0["status"] as? String == "succeeded" }.compactMap { $0["kind"] as? String }.sorted()
                == ["embed", "metric", "probe"])

        // The split tasks timed out under one minute and ran again under two.
        let (_, events) = try Self.journal(in: folder)
        let splitLimits = events.filter { $0["event"] as? String == "batch" && $0["kind"] as? String == "split" }
            .compactMap { ($0["resources"] as? [String: Any])?["timeLimitSeconds"] as? Int }
        #expect(splitLimits.contains(60) && splitLimits.contains(120), "\(splitLimits)")
        #expect(events.contains { $0["event"] as? String == "ended" && $0["state"] as? String == "TIMEOUT" })
        #expect(run.output.contains("retries"), "\(run.output)")
    }

    @Test(.timeLimit(.minutes(3)))
    func aPreemptedTaskIsSubmittedAgain() throws {
        // The test cluster's `urgent` partition preempts (cancels) `debug` jobs. While the
        // embedding's task runs (its setup sleeps), a job needing both CPUs is sent there.
        let spec = """
            experiment: slurm-preemption
            backbones:
              pixels: {kind: pixels, size: 8}
            datasets:
              phantom: {kind: phantom, count: 20, seed: 3, size: 64}
            tasks:
              - name: view
                kind: retrieval
                k: [5]
                relevance: view
                matrix: {backbone: [pixels], dataset: [phantom]}
            """
        let profile = Self.profile + """
            partition: debug
            kinds:
              embed: {setup: "sleep 6"}

            """
        let folder = try Self.project(spec: spec, profile: profile)
        let driver = try CLI.start(["run", "spec.yaml"] + Self.flags, in: folder)
        var name = ""
        let embedding = Self.wait(upTo: 60) {
            guard let journal = try? Self.journal(in: folder) else { return false }
            name = journal.name
            return journal.events.contains { $0["event"] as? String == "batch" && $0["kind"] as? String == "embed" }
                && Self.jobs(named: name, states: "RUNNING").count == 1
        }
        #expect(embedding, "the embedding's task did not start within a minute")
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let urgent = Process()
        urgent.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        urgent.arguments = ["sbatch", "--partition=urgent", "--job-name=xrbench-test-preemptor", "--cpus-per-task=\(cpus)",
                            "--mem=64M", "--output=/dev/null", "--wrap=sleep 2"]
        urgent.standardOutput = FileHandle.nullDevice
        try urgent.run()
        urgent.waitUntilExit()
        #expect(urgent.terminationStatus == 0)
        driver.waitUntilExit()
        #expect(driver.terminationStatus == 0)
        let events = try Self.journal(in: folder).events
        #expect(events.contains { $0["event"] as? String == "ended" && $0["state"] as? String == "PREEMPTED" }, "\(events)")
        let requeued = events.filter { $0["event"] as? String == "batch" }.flatMap { $0["tasks"] as? [[String: Any]] ?? [] }
            .flatMap { $0["causes"] as? [String] ?? [] }.filter { $0 == "requeue" }
        #expect(requeued.count == 1)
        let rows = try CLI.run(["query", "SELECT count(*) AS n FROM result", "--format", "csv"], in: folder)
        #expect(rows.output != "n\n0\n", "\(rows.output)")
    }

    @Test(.timeLimit(.minutes(3)))
    func ctrlCCancelsEveryJobOfTheRun() throws {
        let folder = try Self.project()
        let driver = try CLI.start(["run", "spec.yaml"] + Self.flags, in: folder)
        var name = ""
        let running = Self.wait(upTo: 60) {
            guard let journal = try? Self.journal(in: folder) else { return false }
            name = journal.name
            return journal.events.contains { $0["event"] as? String == "submitted" } && !Self.liveJobs(named: name).isEmpty
        }
        #expect(running, "no job of the run was pending or running within a minute")
        kill(driver.processIdentifier, SIGINT)
        driver.waitUntilExit()
        #expect(driver.terminationStatus == 130)
        #expect(Self.wait(upTo: 15) { Self.liveJobs(named: name).isEmpty }, "still queued: \(Self.liveJobs(named: name))")
        #expect(try Self.journal(in: folder).events.contains { $0["event"] as? String == "cancelled" })
    }

    @Test(.timeLimit(.minutes(4)))
    func aDetachedRunIsCollectedByRunsSync() throws {
        let expected = try Self.reference.get()
        let folder = try Self.project()
        let detached = try CLI.run(["run", "spec.yaml", "--detach"] + Self.flags, in: folder)
        #expect(detached.status == 0, "\(detached.output)\n\(detached.errorOutput)")
        #expect(detached.output.contains("detached") && detached.output.contains("left running"), "\(detached.output)")
        let sync = try CLI.run(["runs", "--sync"], in: folder)
        #expect(sync.status == 0, "\(sync.output)\n\(sync.errorOutput)")
        #expect(sync.output.contains("re-attached to"), "\(sync.output)")
        #expect(try Self.results(in: folder) == expected)
        let events = try Self.journal(in: folder).events
        #expect(Self.submissionsPerItem(events).values.allSatisfy { $0 == 1 })
        #expect(events.last?["event"] as? String == "closed")
    }
}
