import Cluster
import Foundation
import Testing
import TestSupport

/// The marker script runs under bash here, with the variables Slurm sets for an array task.
@Suite struct ExitMarkerTests {
    func runTask(body: String, markers: URL, job: Int = 41, index: Int? = 2) async throws -> CommandOutput {
        let scriptFile = markers.deletingLastPathComponent().appendingPathComponent("task-\(UUID().uuidString).sh")
        try ExitMarkers.script(body: body, directory: markers.path).write(to: scriptFile, atomically: true, encoding: .utf8)
        var environment = ["SLURM_JOB_ID=\(job + (index ?? 0) + 100)"]
        if let index { environment += ["SLURM_ARRAY_JOB_ID=\(job)", "SLURM_ARRAY_TASK_ID=\(index)"] }
        return try await ProcessCommandRunner().run(CommandInvocation("env", environment + ["/bin/bash", scriptFile.path]))
    }

    @Test func aTaskRecordsItsExitStatusEvenWhenTheBodyExits() async throws {
        let root = try makeTemporaryDirectory("xrbench-markers")
        defer { try? FileManager.default.removeItem(at: root) }
        let markers = root.appendingPathComponent("markers")
        try FileManager.default.createDirectory(at: markers, withIntermediateDirectories: true)

        let failing = try await runTask(body: "echo working\nexit 3", markers: markers)
        #expect(failing.status == 3)
        #expect(failing.standardOutput == "working\n")
        let passing = try await runTask(body: "true", markers: markers, job: 50, index: nil)
        #expect(passing.status == 0)

        let read = try ExitMarkers.read(directory: markers)
        #expect(read[TaskID(job: 41, arrayIndex: 2)]?.exitStatus == 3)
        #expect(read[TaskID(job: 41, arrayIndex: 2)]?.host?.isEmpty == false)
        // A plain job is named by its own id.
        #expect(read[TaskID(job: 150)]?.exitStatus == 0)
        #expect(read.count == 2)
    }

    @Test func aTaskThatCannotWriteItsMarkerFailsWithAMessage() async throws {
        let root = try makeTemporaryDirectory("xrbench-markers")
        defer { try? FileManager.default.removeItem(at: root) }
        let output = try await runTask(body: "true", markers: root.appendingPathComponent("not-shared"))
        #expect(output.status == Int32(ExitMarkers.markerWriteFailureStatus))
        #expect(output.standardError.contains("filesystem that this node shares"))
    }

    @Test func readingSkipsPartialAndForeignFiles() throws {
        let markers = try makeTemporaryDirectory("xrbench-markers")
        defer { try? FileManager.default.removeItem(at: markers) }
        let files = ["7_1.exit": "exit_status=0\nhost=n1\n", "7_2.exit.tmp.99": "exit_status=1\n",
                     "7_3.exit": "exit_sta", "notes.txt": "exit_status=0\n", "x.exit": "exit_status=0\n"]
        for (name, text) in files {
            try text.write(to: markers.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        #expect(try ExitMarkers.read(directory: markers) == [
            TaskID(job: 7, arrayIndex: 1): ExitMarkers.Marker(task: TaskID(job: 7, arrayIndex: 1), exitStatus: 0, host: "n1"),
        ])
    }

    @Test func squeueWinsWhileItKnowsATaskAndMarkersFillInAfter() throws {
        let statuses = try SqueueQuery.parse(try CapturedOutput("marker/status-final").output.standardOutput)
        let jobs = try CapturedOutput.jobs("marker")
        let timeout = TaskID(job: jobs["timeout"]!)
        let forgotten = TaskID(job: 9999, arrayIndex: 4)
        let markers = [
            // A task killed at its time limit wrote no marker; a stale or odd one must not hide TIMEOUT.
            timeout: ExitMarkers.Marker(task: timeout, exitStatus: 0, host: "vm"),
            forgotten: ExitMarkers.Marker(task: forgotten, exitStatus: 5, host: "vm"),
        ]
        let merged = ExitMarkers.merge(squeue: statuses, markers: markers)
        #expect(merged.first { $0.task == timeout }?.state == JobState.timeout)
        let filled = try #require(merged.first { $0.task == forgotten })
        #expect(filled.state == JobState.failed)
        #expect(filled.exitCode == ExitCode(status: 5, signal: 0))
        #expect(merged.count == statuses.count + 1)
    }
}
