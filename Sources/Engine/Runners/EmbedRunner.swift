import Datasets
import Foundation
import Pipeline
import Results

/// `embed`: the embeddings of every sample of a manifest, from a backbone family of the registry.
///
/// An image backbone's rows go to the embedding store (`EmbeddingStore`): the manifest's unique
/// images, in manifest order, are cut into shards of a bounded size; a shard whose images all
/// have rows in the store (from this dataset before, another dataset, a killed run) is skipped;
/// the others are computed and committed one by one as they finish. The artifact then names,
/// per sample, its shard and row. So a killed stage resumes at its first missing shard, a grown
/// dataset embeds only its new images, and an image in two datasets is embedded once. Several
/// processes may run one embed stage at once: each takes the next shard whose lock is free.
///
/// Every image that cannot be read is listed at once (the shards of the others are kept). A
/// `precomputed` backbone's rows come from its file and go into the artifact.
///
/// Embedding is the expensive stage: it asks for every thread of the budget.
public struct EmbedRunner: StageRunner {
    /// `embed`.
    public var kind: StageKind { .embed }
    /// Version 5: the ViT forwards one image at a time, so an image's row no longer depends on
    /// the images it shares a shard with (version 4: rows in the embedding store, keyed by image
    /// content; 3: attention on register-tiled 16-lane kernels; 2: GEMMs split by rows).
    public var codeVersion: Int { 5 }
    /// All cores.
    public var threadNeed: ThreadNeed { .all }
    /// Shards lock themselves, so processes share a stage's work instead of waiting for it.
    public var locksWholeStage: Bool { false }

    /// The most bytes of rows a shard holds (float32 CLS and mean, float16 tokens).
    public let shardBytes: Int
    /// The most images a shard holds.
    public let shardImages: Int

    /// Creates the runner.
    /// - Parameters:
    ///   - shardImages: the most images per shard (256 by default: a shard is committed, so
    ///     progress is kept, every 256 images).
    ///   - shardBytes: the most bytes of rows per shard (256 MiB), which bounds the memory a
    ///     shard's rows take before they are written.
    public init(shardImages: Int = 256, shardBytes: Int = 256 << 20) {
        precondition(shardImages >= 1 && shardBytes >= 1, "a shard holds at least one image")
        self.shardImages = shardImages
        self.shardBytes = shardBytes
    }

    /// Embeds what the store lacks and writes the artifact.
    /// - Throws: `RunnerError` (unknown family, bad options, precomputed files that do not fit),
    ///   `UnreadableImagesError` listing every image that cannot be read, `ModelLoadingError`.
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(EmbedParameters.self)
        let input = try context.manifestInput()
        let manifest = input.manifest
        let (family, backbone) = try makeBackbone(parameters, context: context)
        if let whole = backbone as? any ManifestBackbone {
            try whole.embeddings(for: manifest, context: context).write(to: context.outputDirectory)
            return StageOutputs()
        }
        let images = try imageBackbone(backbone, parameters: parameters, context: context)
        let space = embeddingSpace(parameters, family: family, backbone: images)
        let reference = try fillStore(images, space: space, outputs: parameters.outputs ?? .pooled, input: input, part: nil, context: context)!
        var info = EmbeddingArtifact.Info(ids: manifest.samples.map(\.id), dimension: images.dimension, backbone: images.description,
                                          hasMean: true, note: "CLS and mean-pooled features in the embedding store")
        info.store = reference
        try EmbeddingArtifact(info: info, cls: [], mean: nil).write(to: context.outputDirectory)
        return StageOutputs()
    }

    /// Computes the missing shards of one part of the stage (shards `part.index`,
    /// `part.index + part.count`, ...) and commits nothing else: several processes (array tasks)
    /// fill a stage's shards side by side, then one `run` finds them all and writes the artifact.
    /// A shard another process is computing is left to it.
    /// - Returns: how many images this call embedded.
    /// - Throws: as `run`; `UnreadableImagesError` for the part's images that cannot be read.
    public func fillShards(_ context: StageContext, part: EmbeddingShardPart) throws -> Int {
        let parameters = try context.parameters(EmbedParameters.self)
        let input = try context.manifestInput()
        let (family, backbone) = try makeBackbone(parameters, context: context)
        guard !(backbone is any ManifestBackbone) else { return 0 }
        let images = try imageBackbone(backbone, parameters: parameters, context: context)
        var embedded = 0
        _ = try fillStore(images, space: embeddingSpace(parameters, family: family, backbone: images),
                          outputs: parameters.outputs ?? .pooled, input: input, part: part, context: context, embedded: &embedded)
        return embedded
    }

    private func makeBackbone(_ parameters: EmbedParameters, context: StageContext) throws -> (any BackboneFamily, any Backbone) {
        guard let family = context.registry.backbones[parameters.backbone] else {
            throw RunnerError.unknownKind(what: "backbone family", kind: parameters.backbone,
                                          known: context.registry.backbones.keys.sorted())
        }
        return (family, try family.makeBackbone(ComponentOptions(stage: context.stage.label, values: parameters.options)))
    }

    private func imageBackbone(_ backbone: any Backbone, parameters: EmbedParameters, context: StageContext) throws -> any ImageBackbone {
        guard let images = backbone as? any ImageBackbone else {
            throw RunnerError.badOption(stage: context.stage.label, option: "kind", value: parameters.backbone,
                                        reason: "the family's backbone embeds neither images nor a manifest")
        }
        return images
    }

    private func embeddingSpace(_ parameters: EmbedParameters, family: any BackboneFamily, backbone: any ImageBackbone) -> EmbeddingSpace {
        let pathOptions = Set(family.options.compactMap { if case .path = $0.type { $0.name } else { nil } })
        return EmbeddingSpace(parameters: parameters, pathOptions: pathOptions, codeVersion: codeVersion, description: backbone.description)
    }

    private func fillStore(_ backbone: any ImageBackbone, space: EmbeddingSpace, outputs: EmbeddingOutputs,
                           input: ManifestArtifact, part: EmbeddingShardPart?, context: StageContext) throws -> EmbeddingArtifact.StoreReference? {
        var embedded = 0
        return try fillStore(backbone, space: space, outputs: outputs, input: input, part: part, context: context, embedded: &embedded)
    }

    /// Computes the shards the store lacks and returns where every sample's rows are; with a
    /// part, computes only that part's missing shards and returns nil.
    private func fillStore(_ backbone: any ImageBackbone, space: EmbeddingSpace, outputs: EmbeddingOutputs,
                           input: ManifestArtifact, part: EmbeddingShardPart?, context: StageContext,
                           embedded computed: inout Int) throws -> EmbeddingArtifact.StoreReference? {
        let manifest = input.manifest
        let store = EmbeddingStore(cache: try ArtifactCache(root: context.cacheDirectory))
        // Per distinct image content: the first sample that has it (its URL is made when its
        // shard is embedded, not for every sample up front), and what went wrong with it.
        var problems: [String: String] = [:]   // image digest → problem
        var order: [String] = []
        var firstSample: [String: Int] = [:]
        for (index, digest) in input.imageDigests.enumerated() {
            guard let digest, firstSample[digest] == nil else { continue }
            firstSample[digest] = index
            order.append(digest)
        }
        /// Every sample whose image is missing or has a problem, with it, in sample order.
        func unreadable() -> UnreadableImagesError {
            UnreadableImagesError(images: input.imageDigests.enumerated().compactMap { index, digest in
                guard let problem = digest == nil ? "does not exist or cannot be opened" : problems[digest!] else { return nil }
                return (manifest.imageURL(of: manifest.samples[index]).path, problem)
            })
        }
        let grid = backbone.patchGrid
        let tokenValues = grid.map { $0.height * $0.width * backbone.dimension } ?? 0
        let bytesPerImage = backbone.dimension * 8 + (outputs.patchTokens ? tokenValues * 2 : 0) + outputs.layers.count * tokenValues * 2
        let shardSize = max(1, min(shardImages, shardBytes / max(1, bytesPerImage)))
        let known = store.index(space: space.key, outputs: outputs)
        var deferred: [[String]] = []
        func fill(_ needed: [String], wait: Bool) throws -> Bool {
            let outcome = try store.fillShard(
                space: space.key, backbone: space.description, outputs: outputs, images: needed, dimension: backbone.dimension,
                grid: grid, wait: wait) {
                    computed += needed.count
                    return try backbone.embed(images: needed.map { manifest.imageURL(of: manifest.samples[firstSample[$0]!]) },
                                              outputs: outputs, context: context)
                }
            guard let outcome else { return false }
            for (position, problem) in outcome.failures { problems[needed[position]] = problem }
            return true
        }
        for (shard, start) in stride(from: 0, to: order.count, by: shardSize).enumerated() {
            if let part, shard % part.count != part.index { continue }
            let needed = order[start..<min(start + shardSize, order.count)].filter { known[$0] == nil }
            guard !needed.isEmpty else { continue }
            try context.checkCancellation()
            if try !fill(Array(needed), wait: false) { deferred.append(Array(needed)) }
        }
        if part != nil {
            // A part leaves shards another process is computing to it; unreadable images fail it.
            guard problems.isEmpty, !input.imageDigests.contains(nil) else { throw unreadable() }
            return nil
        }
        // Shards another process was computing: wait for them (or compute them, if it died).
        for needed in deferred {
            try context.checkCancellation()
            _ = try fill(needed, wait: true)
        }
        context.logger.debug("\(context.stage.label): \(computed) of \(order.count) images embedded, the rest from the store")
        let index = store.index(space: space.key, outputs: outputs)
        for digest in order where index[digest] == nil && problems[digest] == nil {
            problems[digest] = "could not be read (by another process embedding the same images)"
        }
        guard problems.isEmpty, !input.imageDigests.contains(nil) else { throw unreadable() }
        var shards: [String] = []
        var shardIndex: [String: Int] = [:]
        let rows = input.imageDigests.map { digest -> [Int] in
            let location = index[digest!]!
            if shardIndex[location.shard] == nil {
                shardIndex[location.shard] = shards.count
                shards.append(location.shard)
            }
            return [shardIndex[location.shard]!, location.row]
        }
        return EmbeddingArtifact.StoreReference(space: space.key, shards: shards, rows: rows, outputs: outputs,
                                                grid: grid.map { [$0.height, $0.width] })
    }
}
