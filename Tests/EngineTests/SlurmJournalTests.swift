import Cluster
@testable import Engine
import Foundation
import Pipeline
import Testing
import TestSupport

/// The Slurm driver's journal (what a restarted driver learns from it) and the batch script
/// (run here with bash, as a node would run it).
@Suite struct SlurmJournalTests {
    let resources = TaskResources(timeLimitSeconds: 600, memoryMegabytes: nil, cpus: 1, extraArguments: [], stagesPerTask: 4)

    func item(_ name: String, part: EmbeddingShardPart? = nil) -> WorkItem {
        WorkItem(stage: StageKey(String(repeating: name, count: 64)), part: part)
    }

    func batch(_ number: Int, _ tasks: [[WorkItem]], cause: SubmissionCause = .first) -> JournalEvent {
        var event = JournalEvent(.batch)
        event.batch = number
        event.kind = "probe"
        event.resources = resources
        event.tasks = tasks.map { JournalEvent.BatchTask(items: $0, causes: $0.map { _ in cause }) }
        return event
    }

    func submitted(_ batch: Int, job: Int) -> JournalEvent {
        var event = JournalEvent(.submitted)
        event.batch = batch
        event.job = job
        return event
    }

    @Test func aReplayKnowsLiveTasksAttemptsAndUnconfirmedBatches() {
        var ended = JournalEvent(.ended)
        ended.job = 40
        ended.index = 0
        ended.state = "TIMEOUT"
        var longer = resources
        longer.timeLimitSeconds = 1200
        ended.items = [JournalEvent.ItemResult(item: item("a"), result: "retry", message: "TIMEOUT", next: longer)]
        var cancelled = JournalEvent(.cancelled)
        cancelled.cancelledTasks = ["41_1"]
        let events = [JournalEvent(.driver), batch(0, [[item("a")], [item("b"), item("c")]]), submitted(0, job: 40),
                      batch(1, [[item("d")], [item("e")]]), submitted(1, job: 41), ended, cancelled,
                      batch(2, [[item("a")]], cause: .retry), submitted(2, job: 42),
                      batch(3, [[item("f")]])]
        let replay = JournalReplay(events)
        #expect(replay.submissions == 3 && replay.nextBatch == 4)
        #expect(replay.liveTasks == [TaskID(job: 40, arrayIndex: 1), TaskID(job: 41, arrayIndex: 0), TaskID(job: 42, arrayIndex: 0)])
        #expect(replay.items[item("a")]?.attempts == 2 && replay.items[item("a")]?.task == TaskID(job: 42, arrayIndex: 0))
        #expect(replay.items[item("a")]?.result == nil)
        #expect(replay.items[item("e")]?.result == "cancelled")
        #expect(replay.unconfirmed.keys.sorted() == [3])
        #expect(!replay.isClosed && !replay.isDetached)
        #expect(JournalReplay(events + [JournalEvent(.closed)]).isClosed)
    }

    @Test func theJournalSurvivesItsWriterAndRefusesASecondLiveDriver() throws {
        let cache = try makeTemporaryDirectory("xrbench-journal")
        defer { try? FileManager.default.removeItem(at: cache) }
        let folder = SlurmJournal.directory(cache: cache, spec: URL(fileURLWithPath: "/specs/a.yaml"))
        #expect(folder == SlurmJournal.directory(cache: cache, spec: URL(fileURLWithPath: "/specs/./a.yaml")))
        #expect(folder != SlurmJournal.directory(cache: cache, spec: URL(fileURLWithPath: "/specs/b.yaml")))
        do {
            let journal = try SlurmJournal(directory: folder)
            try journal.append(batch(0, [[item("a")]]))
            try journal.append(submitted(0, job: 7))
            #expect(throws: SlurmExecutorError.self) { try SlurmJournal(directory: folder) }
        }
        // A torn last line (a driver killed mid-write) is skipped.
        let handle = try FileHandle(forWritingTo: folder.appendingPathComponent("journal.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"event\":\"sub".utf8))
        try handle.close()
        let reopened = try SlurmJournal(directory: folder)
        let replay = JournalReplay(reopened.events())
        #expect(replay.liveTasks == [TaskID(job: 7, arrayIndex: 0)])
        try reopened.reset()
        #expect(reopened.events().isEmpty)
    }

    @Test func eachTaskRunsItsOwnLineAndSaysWhenItCannotSeeTheCache() throws {
        let root = try makeTemporaryDirectory("xrbench-task-script")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("cache/slurm/xrb-test")
        for folder in ["batches", "markers", "errors", "logs"] {
            try FileManager.default.createDirectory(at: run.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        // A stand-in binary that prints its arguments, where a node would find xrbench.
        let binary = root.appendingPathComponent("xrbench")
        try Data("#!/bin/sh\necho \"$@\"\n".utf8).write(to: binary)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary.path)
        let lines = [TaskScript.line([item("a"), item("b")]), TaskScript.line([item("c", part: EmbeddingShardPart(index: 2, count: 8))])]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: run.appendingPathComponent("batches/5.tasks"))
        let script = TaskScript(binary: binary.path, cache: root.appendingPathComponent("cache"), runFolder: run, shardImages: 64)
        let text = script.script(batch: 5, setup: "export XRBENCH_SETUP=done", markers: run.appendingPathComponent("markers"))

        func runTask(_ index: Int) throws -> (status: Int32, output: String, error: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", text]
            process.environment = ["PATH": "/usr/bin:/bin", "SLURM_ARRAY_JOB_ID": "70", "SLURM_ARRAY_TASK_ID": "\(index)",
                                   "SLURM_JOB_ID": "\(71 + index)", "SLURM_CPUS_PER_TASK": "4"]
            let output = Pipe(), error = Pipe()
            process.standardOutput = output
            process.standardError = error
            try process.run()
            let out = output.fileHandleForReading.readDataToEndOfFile(), err = error.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
        }

        // Without the driver's `shared` file the node does not see the cache: a clear message, status 96.
        let unshared = try runTask(0)
        #expect(unshared.status == 96, "\(unshared)")
        #expect(unshared.error.contains("cannot see the cache folder") && unshared.error.contains("--cache on a shared path"))

        try Data("xrbench run 1\n".utf8).write(to: run.appendingPathComponent("shared"))
        let first = try runTask(0), second = try runTask(1)
        #expect(first.status == 0 && second.status == 0, "\(first) \(second)")
        let cachePath = root.appendingPathComponent("cache").path
        #expect(first.output.contains("stage run --cache \(cachePath) --jobs 4 --shard-images 64 --keep-going --errors \(run.path)/errors/70_0 "
                                      + item("a").stage.rawValue + " " + item("b").stage.rawValue))
        #expect(second.output.contains("--errors \(run.path)/errors/70_1 --shard-part 2/8 " + item("c").stage.rawValue))
        // Each wrote its exit marker, which the driver reads.
        let markers = try ExitMarkers.read(directory: run.appendingPathComponent("markers"))
        #expect(markers[TaskID(job: 70, arrayIndex: 0)]?.exitStatus == 0 && markers[TaskID(job: 70, arrayIndex: 1)]?.exitStatus == 0)

        let request = script.request(name: "xrb-test", batch: 5, taskCount: 2, resources: resources, throttle: 50,
                                     markers: run.appendingPathComponent("markers"), logs: run.appendingPathComponent("logs"),
                                     afterSuccessOf: [TaskID(job: 60)])
        let arguments = try request.sbatchArguments()
        #expect(arguments.contains("--array=0-1%2") && arguments.contains("--time=0-00:10:00") && arguments.contains("--dependency=afterok:60"))
        #expect(arguments.contains("--output=\(run.path)/logs/%A_%a.log"))
    }

    @Test func packingSpreadsStagesEvenlyOverTasks() {
        func entries(_ count: Int) -> [SlurmDriver.Queued] {
            (0..<count).map { SlurmDriver.Queued(item: item(String(UnicodeScalar(97 + $0 % 26)!)), kind: "probe", resources: resources, cause: .first) }
        }
        #expect(SlurmDriver.pack(entries(10), perTask: 8).map(\.count) == [5, 5])
        #expect(SlurmDriver.pack(entries(3), perTask: 8).map(\.count) == [3])
        #expect(SlurmDriver.pack(entries(17), perTask: 4).map(\.count) == [4, 4, 3, 3, 3])
        #expect(SlurmDriver.pack(entries(0), perTask: 4).isEmpty)
    }
}
