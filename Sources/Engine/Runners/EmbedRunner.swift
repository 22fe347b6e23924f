import Datasets
import Foundation
import Pipeline
import Results

/// `embed`: runs a backbone over every sample of a manifest and stores CLS and mean-pooled
/// patch tokens in manifest order (see `EmbeddingArtifact`).
///
/// Backbone kinds:
/// - `dinov2`: a Hugging Face model folder (`config.json` + `model.safetensors`), images
///   preprocessed as the paper does at `resolution` (default 518), mean/std from the registry,
///   else the folder's `preprocessor_config.json`, else ImageNet's.
/// - `vit-tiny-random`: the same DINOv2 code path with seeded random weights (ViT-Ti/14 shape:
///   width 192, 12 blocks, 3 heads) at `resolution` (default 112): an architecture check, not a model.
/// - `pixels`: the floor: grey intensities resized to `size`×`size` (default 16) and flattened;
///   "mean" is the same grid after a 3×3 mean filter (a coarser pooling of the same width).
/// - `precomputed`: rows read from `.npy`/`.safetensors` and matched to the manifest by id.
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
    /// - Throws: `RunnerError` (bad options, precomputed files that do not fit), `ImageError`
    ///   naming an unreadable image, `ModelLoadingError` naming a bad model folder.
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(EmbedParameters.self)
        let manifest = try ManifestArtifact.read(from: context.input("manifest").directory)
        let options = AdapterOptions(stage: context.stage.label, values: parameters.options)
        let artifact: EmbeddingArtifact
        switch parameters.backbone {
        case "pixels":
            artifact = try PixelBackbone(options: options).embed(manifest, context: context)
        case "vit-tiny-random", "dinov2":
            artifact = try TransformerBackbone(kind: parameters.backbone, options: options).embed(manifest, context: context)
        case "precomputed":
            artifact = try PrecomputedEmbeddings(options: options).load(for: manifest)
        default:
            throw RunnerError.unknownKind(what: "backbone kind", kind: parameters.backbone,
                                          known: ["dinov2", "vit-tiny-random", "pixels", "precomputed"])
        }
        try artifact.write(to: context.outputDirectory)
        return StageOutputs()
    }
}
