import Datasets
import Foundation
import Pipeline
import Results

/// `embed`: runs a backbone over every sample of a manifest and stores CLS and mean-pooled
/// patch tokens in manifest order (see `EmbeddingArtifact`). The backbone comes from its family
/// in the registry (`dinov2`, `vit-tiny-random`, `pixels`, `precomputed`, ...).
///
/// Embedding is the expensive stage: it asks for every thread of the budget.
public struct EmbedRunner: StageRunner {
    /// `embed`.
    public var kind: StageKind { .embed }
    /// Version 3: attention runs on register-tiled 16-lane kernels where the build enables them
    /// (AVX-512), and the softmax exp on 16 lanes, which moves embeddings in the last bits;
    /// cached embeddings of earlier versions are not reused. (Version 2: GEMMs split by rows,
    /// attention outputs normalised instead of probabilities.)
    public var codeVersion: Int { 3 }
    /// All cores.
    public var threadNeed: ThreadNeed { .all }

    /// Creates the runner.
    public init() {}

    /// Embeds every sample and writes the artifact.
    /// - Throws: `RunnerError` (unknown family, bad options, precomputed files that do not fit),
    ///   `ImageError` naming an unreadable image, `ModelLoadingError` naming a bad model folder.
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(EmbedParameters.self)
        let manifest = try ManifestArtifact.read(from: context.input("manifest").directory)
        guard let family = context.registry.backbones[parameters.backbone] else {
            throw RunnerError.unknownKind(what: "backbone family", kind: parameters.backbone,
                                          known: context.registry.backbones.keys.sorted())
        }
        let backbone = try family.makeBackbone(ComponentOptions(stage: context.stage.label, values: parameters.options))
        let artifact = try backbone.embed(manifest, context: context)
        try artifact.write(to: context.outputDirectory)
        return StageOutputs()
    }
}
