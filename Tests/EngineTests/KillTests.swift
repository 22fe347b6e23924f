import Engine
import Foundation
import Pipeline
import Results
import Testing

/// Runs in other processes: `kill -9` at several moments (the resumed run must end with the
/// results of an uninterrupted run, with no duplicate rows and no leftover temporaries), and two
/// processes on one database at once.
///
/// The other process is this test binary re-launched to run only `killTestChild`, which runs
/// the engine on the folder named by `XRBENCH_KILL_TEST_FOLDER` with slow runners. The same
/// tests against the `xrbench` executable need only a different launch line.
@Suite struct KillTests {
    static let folderVariable = "XRBENCH_KILL_TEST_FOLDER"
    static let resultsQuery = "SELECT task, backbone, dataset, head, fraction, seed, metric, value FROM result ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"

    /// The child process's work; skipped unless launched by `killedRunsResume`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment[folderVariable] != nil))
    func killTestChild() throws {
        let folder = URL(fileURLWithPath: ProcessInfo.processInfo.environment[Self.folderVariable]!)
        var project = try TestProject(folder: folder)
        project.configuration.registry = countingRegistry(project.counter, delay: 0.03)
        _ = try project.run(demoSpec())
    }

    @Test(.disabled(if: ProcessInfo.processInfo.environment[folderVariable] != nil))
    func killedRunsResumeToTheResultsOfAnUninterruptedRun() throws {
        let reference = try TestProject()
        _ = try reference.run(demoSpec())
        let expected = try ResultStore.openReadOnly(path: reference.configuration.databasePath).query(Self.resultsQuery)

        var partialKills = 0
        for delay in [0.0, 0.1, 0.2, 0.35, 0.5] {
            let project = try TestProject()
            // Two kills in a row at the same moment, then a resume in this process.
            for _ in 0..<2 { try runChild(in: project.folder, killAfter: delay, database: project.configuration.databasePath) }
            let cache = try ArtifactCache(root: project.configuration.cacheDirectory)
            let committed = cache.entries().count
            if committed > 0 && committed < 25 { partialKills += 1 }

            let resumed = try project.run(demoSpec())
            #expect(resumed.status == .succeeded, "kill after \(delay) s")
            #expect(resumed.executed == 25 - committed, "kill after \(delay) s")
            let actual = try ResultStore.openReadOnly(path: project.configuration.databasePath).query(Self.resultsQuery)
            #expect(actual == expected, "kill after \(delay) s")
            #expect(try project.count("SELECT count(*) FROM (SELECT stage_key FROM result GROUP BY stage_key HAVING count(*) > 1)") == 0)
            #expect(try FileManager.default.contentsOfDirectory(atPath: cache.root.appendingPathComponent("tmp").path).isEmpty)
            #expect(try project.run(demoSpec()).executed == 0)
        }
        #expect(partialKills >= 2, "the kills should land in the middle of runs")
    }

    /// Two processes running the same spec at once on one cache and database both finish; each
    /// stage is computed by exactly one of them and every row is recorded once.
    @Test(.disabled(if: ProcessInfo.processInfo.environment[folderVariable] != nil))
    func twoProcessesOnOneDatabaseBothFinishWithoutDuplicates() throws {
        let project = try TestProject()
        let children = try (0..<2).map { _ in try launchChild(in: project.folder) }
        for child in children { child.waitUntilExit() }
        #expect(children.map(\.terminationStatus) == [0, 0])
        #expect(try project.count("SELECT count(*) FROM run WHERE status = 'succeeded'") == 2)
        #expect(try project.count("SELECT count(*) FROM stage_execution WHERE status = 'succeeded'") == 25)
        #expect(try project.count("SELECT count(*) FROM result") == 10)
        #expect(try project.count("SELECT count(*) FROM prediction") == 8)
    }

    private func launchChild(in folder: URL) throws -> Process {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["--testing-library", "swift-testing", "--filter", "killTestChild"]
        child.environment = ProcessInfo.processInfo.environment.merging([Self.folderVariable: folder.path]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        return child
    }

    /// Launches the child on `folder`, waits until its run is recorded, then `delay` seconds more,
    /// and kills it with SIGKILL (it may have finished already).
    private func runChild(in folder: URL, killAfter delay: Double, database: URL) throws {
        let child = try launchChild(in: folder)
        let deadline = Date().addingTimeInterval(30)
        while child.isRunning, Date() < deadline, !FileManager.default.fileExists(atPath: database.path) {
            Thread.sleep(forTimeInterval: 0.005)
        }
        Thread.sleep(forTimeInterval: delay)
        if child.isRunning { kill(child.processIdentifier, SIGKILL) }
        child.waitUntilExit()
    }
}
