import Datasets
import Foundation
import Imaging
import Models
import Tensor

/// The `dinov2` and `vit-tiny-random` backbones: one DINOv2 forward pass per batch gives the
/// CLS token and the mean of the patch tokens (registers excluded).
struct TransformerBackbone {
    /// The random architecture check: ViT-Ti/14 (width 192, 12 blocks, 3 heads, 5.5M parameters).
    static func tinyConfiguration(resolution: Int) -> ViTConfiguration {
        ViTConfiguration(hiddenSize: 192, layerCount: 12, headCount: 3, patchSize: 14, imageSize: resolution)
    }

    let model: VisionTransformer
    let preprocessing: Preprocessing
    let description: String

    init(kind: String, options: AdapterOptions) throws {
        switch kind {
        case "vit-tiny-random":
            let resolution = try options.integer("resolution") ?? 112
            try Self.check(resolution: resolution, patch: 14, options: options)
            let seed = try options.integer("seed") ?? 0
            model = VisionTransformer(randomlyInitialized: Self.tinyConfiguration(resolution: resolution), seed: UInt64(seed))
            preprocessing = Preprocessing(size: resolution)
            description = "ViT-Ti/14 with random weights (seed \(seed)) at \(resolution)x\(resolution): an untrained architecture check"
        default:
            let folder = try options.requiredDirectory("path")
            model = try VisionTransformer(contentsOf: folder)
            let resolution = try options.integer("resolution") ?? 518
            try Self.check(resolution: resolution, patch: model.configuration.patchSize, options: options)
            var preprocessing = Preprocessing(size: resolution)
            let mean = try options.numbers("mean"), std = try options.numbers("std")
            if mean != nil || std != nil {
                guard let mean, let std, mean.count == std.count, mean.count == 3 || mean.count == 1 else {
                    throw RunnerError.badOption(stage: options.stage, option: "mean/std", value: "\(mean ?? []) / \(std ?? [])",
                                                reason: "give both, with 3 values each (or 1 for every channel)")
                }
                preprocessing.mean = mean.count == 3 ? mean : Array(repeating: mean[0], count: 3)
                preprocessing.std = std.count == 3 ? std : Array(repeating: std[0], count: 3)
            } else if FileManager.default.fileExists(atPath: folder.appendingPathComponent(Preprocessing.preprocessorConfigFileName).path) {
                preprocessing = try preprocessing.loadingMeanStd(fromModelFolder: folder)
            }
            self.preprocessing = preprocessing
            description = "\(folder.lastPathComponent) (\(model.configuration.hiddenSize) wide, \(model.configuration.layerCount) blocks) at \(resolution)x\(resolution)"
        }
    }

    private static func check(resolution: Int, patch: Int, options: AdapterOptions) throws {
        guard resolution >= patch, resolution % patch == 0, resolution <= 2048 else {
            throw RunnerError.badOption(stage: options.stage, option: "resolution", value: String(resolution),
                                        reason: "must be a multiple of the patch size \(patch) up to 2048 (e.g. \(patch * 8), \(patch * 16), \(patch * 37))")
        }
    }

    func embed(_ manifest: Manifest, context: StageContext) throws -> EmbeddingArtifact {
        let width = model.configuration.hiddenSize
        let side = preprocessing.size ?? model.configuration.imageSize
        let tokens = (side / model.configuration.patchSize) * (side / model.configuration.patchSize) + 1
        // About 4,096 tokens per forward pass: large enough GEMMs, bounded activations.
        let batch = max(1, min(64, 4096 / tokens))
        let count = manifest.samples.count
        var cls = [Float](repeating: 0, count: count * width)
        var mean = cls
        let began = Date()
        for start in stride(from: 0, to: count, by: batch) {
            try context.checkCancellation()
            let samples = Array(manifest.samples[start..<min(start + batch, count)])
            let images = try preprocessImages(samples.map(manifest.imageURL(of:)), with: preprocessing, threads: context.threads)
            var pixels: [Float] = []
            pixels.reserveCapacity(images.count * 3 * side * side)
            for image in images { pixels.append(contentsOf: image.values) }
            let output = try model.forward(Tensor(shape: [images.count, 3, side, side], scalars: pixels))
            let rows = start * width..<(start + images.count) * width
            cls.replaceSubrange(rows, with: output.classTokens.scalars)
            mean.replaceSubrange(rows, with: output.meanPatchTokens.scalars)
            if start == 0 || (start / batch) % 20 == 0 {
                let done = start + images.count
                context.logger.debug("\(context.stage.label): \(done)/\(count) images, \(String(format: "%.1f", Double(done) / Date().timeIntervalSince(began))) img/s")
            }
        }
        return EmbeddingArtifact(
            info: .init(ids: manifest.samples.map(\.id), dimension: width, backbone: description, hasMean: true,
                        note: "final-LayerNorm CLS token; mean of the patch tokens (registers excluded)"),
            cls: cls, mean: mean)
    }
}
