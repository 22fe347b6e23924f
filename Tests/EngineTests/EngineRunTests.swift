import Engine
import Foundation
import Pipeline
import Results
import Testing

@Suite struct EngineRunTests {
    @Test func rerunningAFinishedSpecDoesNoWorkAndAddsNoRows() throws {
        let project = try TestProject()
        let first = try project.run(demoSpec())
        #expect(first.status == .succeeded)
        #expect(first.executed == 25 && first.cached == 0)
        #expect(project.counter.take() == [.manifest: 1, .embed: 2, .split: 4, .probe: 8, .metric: 8, .retrieval: 2])
        let rows = try project.count("SELECT count(*) FROM result")
        #expect(rows == 10)
        #expect(try project.count("SELECT count(*) FROM prediction") == 8)

        let second = try project.run(demoSpec())
        #expect(second.executed == 0 && second.cached == 25 && second.rerecorded == 0)
        #expect(project.counter.take().isEmpty)
        #expect(try project.count("SELECT count(*) FROM result") == rows)
        #expect(try project.count("SELECT count(*) FROM run") == 2)
        #expect(second.exitCode == 0)
    }

    @Test func changingOneParameterRerunsExactlyTheStagesDownstream() throws {
        let project = try TestProject()
        _ = try project.run(demoSpec(dropout: 0.2))
        _ = project.counter.take()
        let changed = try project.run(demoSpec(dropout: 0.3))
        #expect(project.counter.take() == [.probe: 8, .metric: 8])
        #expect(changed.executed == 16 && changed.cached == 9)
        // Old rows stay under their own stage keys; the new metrics added their own.
        #expect(try project.count("SELECT count(*) FROM result") == 18)
    }

    @Test func corruptArtifactIsRebuiltNotTrusted() throws {
        let project = try TestProject()
        _ = try project.run(demoSpec())
        _ = project.counter.take()
        let cache = try ArtifactCache(root: project.configuration.cacheDirectory)
        let embeds = cache.entries().filter { $0.kind == .embed }
        #expect(embeds.count == 2)
        let artifact = cache.directory(for: embeds[0].key, kind: .embed).appendingPathComponent("artifact.txt")
        let original = try String(contentsOf: artifact, encoding: .utf8)
        try String(repeating: "x", count: original.utf8.count).write(to: artifact, atomically: false, encoding: .utf8)
        let metric = cache.entries().first { $0.kind == .metric }!
        try Data().write(to: cache.directory(for: metric.key, kind: .metric).appendingPathComponent("artifact.txt"))

        let report = try project.run(demoSpec())
        #expect(project.counter.take() == [.embed: 1, .metric: 1])
        #expect(report.rebuilt == 2)
        #expect(try String(contentsOf: artifact, encoding: .utf8) == original)
        #expect(try project.count("SELECT count(*) FROM result") == 10)
    }

    @Test func cachedStagesMissingFromTheStoreAreRecordedFromTheirArtifacts() throws {
        let project = try TestProject()
        _ = try project.run(demoSpec())
        _ = project.counter.take()
        let before = try ResultStore.openReadOnly(path: project.configuration.databasePath)
            .query("SELECT task, backbone, fraction, seed, metric, value FROM result ORDER BY 1, 2, 3, 4, 5, 6")
        // As if the process died between committing artifacts and recording their rows.
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: project.configuration.databasePath.path + suffix)
        }
        let report = try project.run(demoSpec())
        #expect(project.counter.take().isEmpty)
        #expect(report.rerecorded == 25)
        let after = try ResultStore.openReadOnly(path: project.configuration.databasePath)
            .query("SELECT task, backbone, fraction, seed, metric, value FROM result ORDER BY 1, 2, 3, 4, 5, 6")
        #expect(after == before)
    }

    @Test func aFailingStageBlocksOnlyItsDownstreamAndTheRunExitsNonZero() throws {
        var project = try TestProject()
        project.configuration.registry = countingRegistry(project.counter, failing: "embed tiny")
        let failed = try project.run(demoSpec())
        #expect(failed.status == .failed && failed.exitCode == 1)
        #expect(failed.failures.count == 1 && failed.failures[0].label == "embed tiny × phantom")
        #expect(failed.blocked == 9)           // 4 probes + 4 metrics + 1 retrieval of `tiny`
        #expect(failed.executed == 15)
        #expect(failed.summary.contains("failed: embed tiny × phantom"))
        #expect(try project.count("SELECT count(*) FROM result WHERE backbone = 'pixels'") == 5)
        #expect(try project.count("SELECT count(*) FROM stage_execution WHERE status = 'blocked'") == 9)
        _ = project.counter.take()

        project.configuration.registry = countingRegistry(project.counter)
        let fixed = try project.run(demoSpec())
        #expect(fixed.status == .succeeded && fixed.executed == 10)
        #expect(project.counter.take() == [.embed: 1, .probe: 4, .metric: 4, .retrieval: 1])
    }

    @Test func interruptedRunDiscardsItsTemporariesAndResumes() throws {
        var project = try TestProject()
        project.configuration.registry = countingRegistry(project.counter, interruptAt: "probe findings tiny")
        let interrupted = try project.run(demoSpec())
        #expect(interrupted.status == .interrupted && interrupted.exitCode == 130)
        #expect(interrupted.interrupted > 0)
        let tmp = project.configuration.cacheDirectory.appendingPathComponent("tmp")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).isEmpty)
        let done = interrupted.executed
        _ = project.counter.take()

        project.configuration.registry = countingRegistry(project.counter)
        project.configuration.cancellation = CancellationFlag()
        let resumed = try project.run(demoSpec())
        #expect(resumed.status == .succeeded)
        #expect(resumed.executed == 25 - done)
        #expect(try project.count("SELECT count(*) FROM result") == 10)
    }
}
