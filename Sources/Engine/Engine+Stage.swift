import Foundation
import Pipeline
import Results

/// What `Engine.runStage` did.
public struct StageRunReport: Sendable {
    /// The stage.
    public var stage: Stage
    /// Whether it was already in the cache (then nothing was computed).
    public var wasCached: Bool
    /// Wall-clock seconds.
    public var seconds: Double
}

/// What `Engine.collectGarbage` removed.
public struct GarbageReport: Sendable {
    /// Artifacts removed, as (kind, key).
    public var removed: [(kind: StageKind, key: StageKey)]
    /// Artifacts kept.
    public var kept: Int
    /// Temporary folders of dead processes removed.
    public var temporaries: Int
}

extension Engine {
    /// Computes one planned stage by key (or unique key prefix) in this process and commits its
    /// artifact: the unit a cluster job runs as `xrbench stage run KEY`. Inputs must already be
    /// in the cache. It does not open the results database: the driver that submitted the stage
    /// records its rows from the artifact's `outputs.json`.
    /// - Throws: `CacheError` (unknown key), `EngineError.inputNotCached`, the runner's error.
    public static func runStage(key text: String, configuration: EngineConfiguration) throws -> StageRunReport {
        let began = Date()
        let cache = try ArtifactCache(root: configuration.cacheDirectory)
        let key = text.count == 64 ? StageKey(text) : try cache.resolveKey(prefix: text)
        let stage = try cache.descriptor(key)
        for (role, input) in stage.inputs.sorted(by: { $0.key < $1.key }) {
            let kind = try cache.descriptor(input).kind
            guard case .present = cache.lookup(input, kind: kind, thorough: true) else {
                throw EngineError.inputNotCached(stage: stage.label, role: role, key: input.rawValue)
            }
        }
        let computation = StageComputation(cache: cache, registry: configuration.registry, logger: configuration.logger)
        let wasCached: Bool
        if case .present = cache.lookup(key, kind: stage.kind, thorough: configuration.verifyArtifacts) {
            wasCached = true
        } else {
            let outcome = try computation.compute(stage, threads: stage.threads.granted(budget: configuration.jobs),
                                                  cancellation: configuration.cancellation)
            wasCached = outcome == .committedElsewhere
        }
        return StageRunReport(stage: stage, wasCached: wasCached, seconds: Date().timeIntervalSince(began))
    }

    /// Removes every artifact that neither the results store nor the given specs refer to.
    ///
    /// The store refers to every stage any run executed, took from the cache, or recorded rows
    /// for; `keeping` specs add their compiled stages (useful when several databases share one cache).
    /// - Parameters:
    ///   - keeping: specs whose stages are kept even if this database never saw them.
    ///   - dryRun: report without removing.
    /// - Throws: store, spec or cache errors.
    public static func collectGarbage(configuration: EngineConfiguration, keeping specs: [URL] = [], dryRun: Bool = false) throws -> GarbageReport {
        let cache = try ArtifactCache(root: configuration.cacheDirectory)
        var referenced = Set<StageKey>()
        if FileManager.default.fileExists(atPath: configuration.databasePath.path) {
            referenced = Set(try ResultStore(path: configuration.databasePath).referencedStageKeys().map(StageKey.init))
        }
        for spec in specs {
            referenced.formUnion(try compile(specURL: spec, configuration: configuration).graph.stages.map(\.key))
        }
        let temporaries = dryRun ? 0 : cache.removeStaleTemporaries()
        var removed: [(StageKind, StageKey)] = []
        var kept = 0
        for entry in cache.entries() {
            if referenced.contains(entry.key) {
                kept += 1
            } else {
                removed.append(entry)
                if !dryRun { cache.remove(entry.key, kind: entry.kind) }
            }
        }
        if !dryRun { cache.removeDescriptors(Set(removed.map(\.1))) }
        return GarbageReport(removed: removed, kept: kept, temporaries: temporaries)
    }
}
