import Engine
import Foundation
import Pipeline
import Results
import Testing

/// What `kill -9` can leave behind, at each point of a stage's life, recreated by hand; the
/// next run must end with exactly the results of an uninterrupted run. (The end-to-end version
/// kills a real `xrbench run` process; see the engine's report.)
@Suite struct CrashRecoveryTests {
    static let resultsQuery = "SELECT task, backbone, dataset, head, fraction, seed, metric, value FROM result ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"

    @Test func leftoversOfAKilledRunAreCleanedAndTheResumedResultsEqualAnUninterruptedRun() throws {
        let reference = try TestProject()
        _ = try reference.run(demoSpec())
        let expected = try ResultStore.openReadOnly(path: reference.configuration.databasePath).query(Self.resultsQuery)

        var project = try TestProject()
        // Killed mid-run: part of the stages done.
        project.configuration.registry = countingRegistry(project.counter, interruptAt: "probe findings tiny")
        _ = try project.run(demoSpec())
        project.configuration.registry = countingRegistry(project.counter)
        project.configuration.cancellation = CancellationFlag()
        let cache = try ArtifactCache(root: project.configuration.cacheDirectory)
        let committed = cache.entries()
        #expect(committed.count > 0 && committed.count < 25)

        // Killed inside a runner: a temporary folder of a process that no longer exists.
        let orphan = cache.root.appendingPathComponent("tmp/\(String(repeating: "e", count: 64)).4194301.77")
        try FileManager.default.createDirectory(at: orphan, withIntermediateDirectories: true)
        try "half".write(to: orphan.appendingPathComponent("artifact.txt"), atomically: false, encoding: .utf8)
        // Killed while discarding a corrupt entry: a trash folder of a dead process.
        try FileManager.default.createDirectory(at: cache.root.appendingPathComponent("tmp/trash.4194302.5"), withIntermediateDirectories: true)
        // Killed between commit and record: rows of committed stages missing from the store.
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: project.configuration.databasePath.path + suffix)
        }
        // A folder at an artifact address without its completeness manifest (never trusted).
        let embed = try #require(committed.first { $0.kind == .embed })
        try FileManager.default.removeItem(at: cache.directory(for: embed.key, kind: .embed).appendingPathComponent(ArtifactManifest.fileName))
        _ = project.counter.take()

        let resumed = try project.run(demoSpec())
        #expect(resumed.status == .succeeded)
        #expect(resumed.rerecorded == committed.count - 1)
        #expect(resumed.executed == 25 - committed.count + 1)
        #expect(project.counter.take()[.embed] == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.root.appendingPathComponent("tmp").path).isEmpty)
        let actual = try ResultStore.openReadOnly(path: project.configuration.databasePath).query(Self.resultsQuery)
        #expect(actual == expected)
    }
}
