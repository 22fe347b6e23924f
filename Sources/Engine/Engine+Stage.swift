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

    /// Computes one part of a planned embedding stage's missing shards in this process and
    /// commits them to the embedding store, without the stage's own artifact: what the array
    /// tasks of a sharded embedding run (`xrbench stage run KEY --shard-part INDEX/COUNT`) before
    /// one task assembles the stage.
    /// - Throws: as `runStage`; `EngineError.noRunner` when the stage is not an embedding of
    ///   this build's `embed` runner; `UnreadableImagesError` for the part's unreadable images.
    public static func fillEmbeddingShards(key text: String, part: EmbeddingShardPart,
                                           configuration: EngineConfiguration) throws -> StageRunReport {
        let began = Date()
        let cache = try ArtifactCache(root: configuration.cacheDirectory)
        let key = text.count == 64 ? StageKey(text) : try cache.resolveKey(prefix: text)
        let stage = try cache.descriptor(key)
        guard let runner = configuration.registry.runners.runner(for: stage.kind) as? EmbedRunner else {
            throw EngineError.noRunner(kind: "\(stage.kind.rawValue) with shard parts", stage: stage.label)
        }
        if case .present = cache.lookup(key, kind: stage.kind) {
            return StageRunReport(stage: stage, wasCached: true, seconds: Date().timeIntervalSince(began))
        }
        var inputs: [String: StageInput] = [:]
        for (role, input) in stage.inputs.sorted(by: { $0.key < $1.key }) {
            let kind = try cache.descriptor(input).kind
            guard case .present(let folder) = cache.lookup(input, kind: kind, thorough: true) else {
                throw EngineError.inputNotCached(stage: stage.label, role: role, key: input.rawValue)
            }
            inputs[role] = StageInput(key: input, kind: kind, directory: folder)
        }
        // The runner's context wants an output folder; a part writes only shards, so it is discarded.
        let scratch = try cache.beginWrite(key, kind: stage.kind)
        defer { cache.abandon(scratch) }
        let context = StageContext(stage: stage, outputDirectory: scratch.directory, inputs: inputs,
                                   threads: stage.threads.granted(budget: configuration.jobs), cancellation: configuration.cancellation,
                                   logger: configuration.logger, registry: configuration.registry, cacheDirectory: cache.root)
        _ = try runner.fillShards(context, part: part)
        return StageRunReport(stage: stage, wasCached: false, seconds: Date().timeIntervalSince(began))
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
            let (graph, _) = try resolveVolatileStages(try compile(specURL: spec, configuration: configuration).graph,
                                                       cache: cache, configuration: configuration)
            referenced.formUnion(graph.stages.map(\.key))
        }
        // Embedding shards are kept while a kept embedding names them.
        let entries = cache.entries()
        for entry in entries where entry.kind == .embed && referenced.contains(entry.key) {
            let info = try? EmbeddingArtifact.info(in: cache.directory(for: entry.key, kind: .embed))
            referenced.formUnion((info?.store?.shards ?? []).map(StageKey.init))
        }
        let temporaries = dryRun ? 0 : cache.removeStaleTemporaries()
        let store = EmbeddingStore(cache: cache)
        let shardSpaces = store.shards().mapValues(\.space)
        var removed: [(StageKind, StageKey)] = []
        var kept = 0
        for entry in entries {
            if entry.kind == EmbeddingStore.kind, !referenced.contains(entry.key) {
                removed.append(entry)
                if !dryRun { store.remove(entry.key.rawValue, space: shardSpaces[entry.key.rawValue] ?? "") }
                continue
            }
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

/// What the cache holds: bytes and artifacts per stage kind, and the embedding store per backbone.
public struct CacheUsage: Sendable {
    /// One line of the report.
    public struct Entry: Sendable {
        /// A stage kind, or `embeddings: <backbone>` for the store.
        public var name: String
        /// Artifacts (or shards).
        public var count: Int
        /// Bytes on disk.
        public var bytes: Int64
        /// Images with rows, for the store.
        public var images: Int?
    }

    /// The lines, largest first.
    public var entries: [Entry]
    /// Free bytes on the cache's file system.
    public var freeBytes: Int64?
}

extension Engine {
    /// What the cache holds, by kind, and the embedding store by backbone (`xrbench cache du`).
    public static func cacheUsage(configuration: EngineConfiguration) throws -> CacheUsage {
        let cache = try ArtifactCache(root: configuration.cacheDirectory)
        let store = EmbeddingStore(cache: cache)
        let records = store.shards()
        var byName: [String: CacheUsage.Entry] = [:]
        for entry in cache.entries() {
            let bytes = folderSize(cache.directory(for: entry.key, kind: entry.kind))
            var name = entry.kind.rawValue
            var images = 0
            if entry.kind == EmbeddingStore.kind, let record = records[entry.key.rawValue] {
                name = "embeddings: \(record.backbone)"
                images = record.images.count
            }
            var line = byName[name] ?? CacheUsage.Entry(name: name, count: 0, bytes: 0, images: entry.kind == EmbeddingStore.kind ? 0 : nil)
            line.count += 1
            line.bytes += bytes
            line.images = line.images.map { $0 + images }
            byName[name] = line
        }
        return CacheUsage(entries: byName.values.sorted { $0.bytes > $1.bytes }, freeBytes: freeBytes(at: cache.root))
    }

    /// Bytes of the regular files under `folder`.
    static func folderSize(_ folder: URL) -> Int64 {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.fileSizeKey]) else { return 0 }
        var total: Int64 = 0
        for case let url as URL in walker {
            total += Int64((try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0)
        }
        return total
    }

    /// Free bytes on the file system holding `folder`, when it can be told.
    static func freeBytes(at folder: URL) -> Int64? {
        guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: folder.path),
              let free = attributes[.systemFreeSize] as? NSNumber else { return nil }
        return free.int64Value
    }
}
