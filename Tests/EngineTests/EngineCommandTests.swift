import Engine
import Foundation
import Pipeline
import Results
import Testing

@Suite struct EngineCommandTests {
    @Test func planShowsStatesCountsAndDot() throws {
        var project = try TestProject()
        project.configuration.registry = countingRegistry(project.counter, without: [.retrieval])
        let url = try project.spec(demoSpec())
        let before = try Engine.plan(specURL: url, configuration: project.configuration)
        #expect(before.count(.toRun) == 23 && before.count(.blocked) == 2 && before.count(.cached) == 0)
        #expect(before.counts[.probe]?[.toRun] == 8)
        #expect(before.text().contains("no runner for kind retrieval"))
        let dot = before.dot()
        #expect(dot.hasPrefix("digraph \"engine-test\" {"))
        #expect(dot.components(separatedBy: " -> ").count - 1 == 2 + 4 + 16 + 16 + 4)

        let report = try Engine.run(specURL: url, configuration: project.configuration)
        #expect(report.failures.count == 2)
        #expect(report.failures.allSatisfy { $0.message.contains("no runner is registered for stage kind \"retrieval\"") })
        let after = try Engine.plan(specURL: url, configuration: project.configuration)
        #expect(after.count(.cached) == 23 && after.count(.blocked) == 2)
    }

    @Test func aStageRunsOnItsOwnByKeyWhenItsInputsAreCached() throws {
        let project = try TestProject()
        let url = try project.spec(demoSpec())
        let plan = try Engine.plan(specURL: url, configuration: project.configuration)
        let manifest = try #require(plan.stages.first { $0.stage.kind == .manifest }).stage
        let embed = try #require(plan.stages.first { $0.stage.kind == .embed }).stage
        let probe = try #require(plan.stages.first { $0.stage.kind == .probe }).stage

        #expect(throws: EngineError.self) { try Engine.runStage(key: embed.key.short, configuration: project.configuration) }
        let first = try Engine.runStage(key: manifest.key.short, configuration: project.configuration)
        #expect(!first.wasCached && first.stage == manifest)
        let again = try Engine.runStage(key: manifest.key.rawValue, configuration: project.configuration)
        #expect(again.wasCached)
        _ = try Engine.runStage(key: embed.key.short, configuration: project.configuration)
        #expect(throws: EngineError.self) { try Engine.runStage(key: probe.key.short, configuration: project.configuration) }
        #expect(project.counter.take() == [.manifest: 1, .embed: 1])

        // The full run then reuses what the single-stage runs committed.
        let report = try Engine.run(specURL: url, configuration: project.configuration)
        #expect(report.cached == 2 && report.executed == 23)
    }

    @Test func garbageCollectionKeepsReferencedArtifactsOnly() throws {
        let project = try TestProject()
        _ = try project.run(demoSpec())
        let cache = try ArtifactCache(root: project.configuration.cacheDirectory)
        let orphan = StageKey(String(repeating: "0", count: 64))
        let pending = try cache.beginWrite(orphan, kind: .probe)
        try "stale".write(to: pending.directory.appendingPathComponent("weights"), atomically: false, encoding: .utf8)
        try cache.commit(pending)
        #expect(cache.entries().count == 26)

        let dry = try Engine.collectGarbage(configuration: project.configuration, dryRun: true)
        #expect(dry.removed.map(\.key) == [orphan] && cache.entries().count == 26)
        let collected = try Engine.collectGarbage(configuration: project.configuration)
        #expect(collected.removed.map(\.key) == [orphan] && collected.kept == 25)
        #expect(cache.lookup(orphan, kind: .probe) == .missing)
        let rerun = try project.run(demoSpec())
        #expect(rerun.executed == 0)
    }

    @Test func specErrorsStopTheRunBeforeAnyWork() throws {
        let project = try TestProject()
        #expect(throws: SpecError.self) { try project.run(demoSpec().replacingOccurrences(of: "fraction: [0.5, 1]", with: "fraction: [0.5, 2]")) }
        #expect(project.counter.take().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: project.configuration.databasePath.path))
    }
}
