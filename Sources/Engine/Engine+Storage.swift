import Foundation
import Pipeline

/// What an embedding stage will add to the embedding store.
public struct StorageEstimate: Sendable, Hashable {
    /// Creates an estimate.
    public init(label: String, images: Int, newImages: Int, shape: EmbeddingShape, outputs: EmbeddingOutputs) {
        self.label = label
        self.images = images
        self.newImages = newImages
        self.shape = shape
        self.outputs = outputs
    }

    /// The stage's label (`embed dinov2-base × chexpert`).
    public var label: String
    /// Images of its dataset (distinct contents).
    public var images: Int
    /// Images the store has no rows of yet.
    public var newImages: Int
    /// The shape of one image's rows.
    public var shape: EmbeddingShape
    /// What is stored besides CLS and mean.
    public var outputs: EmbeddingOutputs
    /// Bytes the new images will take.
    public var bytes: Int64 { Int64(newImages) * Int64(shape.bytesPerImage(outputs)) }

    /// `embed tiny × images: 36 of 40 images × (CLS+mean 192×2×4 B + patch tokens 16×16×192×2 B) = 1.2 MB`.
    public var description: String {
        var parts = ["CLS+mean \(shape.dimension)×2×4 B"]
        let grid = shape.grid.map { $0.map(String.init).joined(separator: "×") } ?? ""
        if outputs.patchTokens { parts.append("patch tokens \(grid)×\(shape.dimension)×2 B") }
        if !outputs.layers.isEmpty { parts.append("\(outputs.layers.count) blocks \(grid)×\(shape.dimension)×2 B") }
        return "\(label): \(newImages) of \(images) images × (\(parts.joined(separator: " + "))) = "
            + ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file)
    }
}

extension Engine {
    /// What each embedding stage of `graph` that is not cached will add to the store: its
    /// dataset's images the store lacks, times the bytes one image's rows take.
    /// - Parameter toRun: the stages that will run (cached ones add nothing).
    static func storageEstimates(_ graph: StageGraph, toRun: Set<StageKey>, cache: ArtifactCache, registry: Registry) -> [StorageEstimate] {
        let store = EmbeddingStore(cache: cache)
        var estimates: [StorageEstimate] = []
        for stage in graph.stages where stage.kind == .embed && toRun.contains(stage.key) {
            guard let parameters = try? stage.parameters.decode(EmbedParameters.self),
                  let family = registry.backbones[parameters.backbone],
                  let shape = family.embeddingShape(parameters.options),
                  let manifestKey = stage.inputs["manifest"],
                  case .present(let manifestFolder) = cache.lookup(manifestKey, kind: .manifest),
                  let manifest = try? ManifestArtifact.read(from: manifestFolder) else { continue }
            let digests = Set(manifest.imageDigests.compactMap { $0 })
            let outputs = parameters.outputs ?? .pooled
            let pathOptions = Set(family.options.compactMap { if case .path = $0.type { $0.name } else { nil } })
            let codeVersion = registry.runners.runner(for: .embed)?.codeVersion ?? 1
            let space = EmbeddingSpace(parameters: parameters, pathOptions: pathOptions, codeVersion: codeVersion, description: "")
            let known = store.index(space: space.key, outputs: outputs)
            estimates.append(StorageEstimate(label: stage.label, images: digests.count,
                                             newImages: digests.filter { known[$0] == nil }.count, shape: shape, outputs: outputs))
        }
        return estimates
    }

    /// Refuses to start when the embeddings to compute would not fit on the cache's file system.
    /// - Throws: `EngineError.notEnoughSpace` naming what is needed and what is free.
    static func checkSpace(_ estimates: [StorageEstimate], cache: ArtifactCache) throws {
        if let problem = spaceProblem(estimates, freeBytes: freeBytes(at: cache.root), folder: cache.root.path) { throw problem }
    }

    /// The error when `estimates` need more than `freeBytes`, or nil.
    public static func spaceProblem(_ estimates: [StorageEstimate], freeBytes: Int64?, folder: String) -> EngineError? {
        let needed = estimates.reduce(Int64(0)) { $0 + $1.bytes }
        guard needed > 0, let free = freeBytes, needed > free else { return nil }
        return .notEnoughSpace(folder: folder, needed: needed, free: free, stages: estimates.filter { $0.bytes > 0 }.map(\.description))
    }
}
