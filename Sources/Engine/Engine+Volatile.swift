import Foundation
import Pipeline
import Results

/// A volatile stage after it ran: where its artifact is addressed and what it produced.
struct ResolvedVolatileStage: Sendable {
    /// The stage, keyed by the digest of what it produced.
    var stage: Stage
    /// Whether its artifact was new (computed) or already in the cache (the same content before).
    var outcome: ExecutionOutcome
    /// Wall-clock seconds it took.
    var seconds: Double
}

extension Engine {
    /// Runs every volatile stage of `graph` (the manifests of datasets read from outside the
    /// cache), commits each artifact under the digest of its content, and returns the graph
    /// keyed by what they produced: a stage that reads a volatile stage is keyed by that
    /// stage's content key, or by the digest of the facet it reads (`inputFacets`), and learns
    /// where the dataset is now (the `manifest.root` hint). Stages downstream are re-keyed in
    /// topological order; a stage none of whose inputs changed keeps its key.
    ///
    /// This is Shake's early cutoff for source-reading stages: moving a dataset, or editing a
    /// column no stage reads, runs the manifest again and nothing else.
    /// - Throws: the volatile stage's error (a label file that does not parse: nothing can run
    ///   on that dataset), `CancellationError`, cache errors.
    static func resolveVolatileStages(_ graph: StageGraph, cache: ArtifactCache, configuration: EngineConfiguration)
        throws -> (graph: StageGraph, resolved: [ResolvedVolatileStage]) {
        guard graph.stages.contains(where: \.isVolatile) else { return (graph, []) }
        var newKeys: [StageKey: StageKey] = [:]
        var facetsOf: [StageKey: [String: String]] = [:]
        var rootOf: [StageKey: String] = [:]
        var resolved: [ResolvedVolatileStage] = []
        var stages: [Stage] = []
        for stage in graph.stages {
            var updated = stage
            if stage.isVolatile {
                let began = Date()
                let (key, facets, root, outcome) = try runVolatile(stage, cache: cache, configuration: configuration)
                updated.key = key
                newKeys[stage.key] = key
                facetsOf[key] = facets
                rootOf[key] = root
                resolved.append(ResolvedVolatileStage(stage: updated, outcome: outcome, seconds: Date().timeIntervalSince(began)))
            } else {
                updated.inputs = stage.inputs.mapValues { newKeys[$0] ?? $0 }
                for (role, input) in updated.inputs {
                    guard let facets = facetsOf[input] else { continue }
                    if let facet = updated.inputFacets[role], let digest = facets[facet] { updated.inputFacetDigests[role] = digest }
                    if let root = rootOf[input], role == "manifest" { updated.hints[ManifestArtifact.rootHint] = .string(root) }
                }
                updated.key = updated.computedKey
                if updated.key != stage.key { newKeys[stage.key] = updated.key }
            }
            stages.append(updated)
        }
        return (try StageGraph(stages), resolved)
    }

    /// Runs one volatile stage into a temporary folder and commits it under its content key.
    /// - Returns: the content key, the facet digests, where the data is now, and whether the
    ///   content was new.
    private static func runVolatile(_ stage: Stage, cache: ArtifactCache, configuration: EngineConfiguration)
        throws -> (StageKey, [String: String], String, ExecutionOutcome) {
        guard let runner = configuration.registry.runners.runner(for: stage.kind) else {
            throw EngineError.noRunner(kind: stage.kind.rawValue, stage: stage.label)
        }
        let pending = try cache.beginWrite(stage.key, kind: stage.kind)
        do {
            let context = StageContext(stage: stage, outputDirectory: pending.directory, inputs: [:],
                                       threads: stage.threads.granted(budget: configuration.jobs),
                                       cancellation: configuration.cancellation, logger: configuration.logger,
                                       registry: configuration.registry, cacheDirectory: cache.root)
            let outputs = try runner.run(context)
            try configuration.cancellation.check()
            try StageOutputsFile.write(outputs, to: pending.directory)
            let facets = try ManifestArtifact.facets(in: pending.directory)
            let root = try ManifestArtifact.read(from: pending.directory).manifest.root.path
            guard let content = facets[ManifestFacet.content] else {
                throw RunnerError.artifact(path: pending.directory.path, problem: "the volatile stage wrote no content facet")
            }
            let key = StageKey(sha256Hex(Data("\(stage.kind.rawValue)/\(stage.codeVersion)/\(content)".utf8)))
            let wasPresent = if case .present = cache.lookup(key, kind: stage.kind) { true } else { false }
            if wasPresent {
                cache.abandon(pending)
            } else {
                try cache.commit(PendingArtifact(key: key, kind: stage.kind, directory: pending.directory))
            }
            return (key, facets, root, wasPresent ? .committedElsewhere : .computed)
        } catch {
            cache.abandon(pending)
            throw error
        }
    }
}
