import Random
import Datasets
import Evaluation
import Foundation
import Imaging
import Models
import Synchronization
import Tensor

/// Training samples for `augment: paper`: each time the trainer reads a sample (its first
/// layer), the image is decoded, augmented with a fresh draw of `SegmentationAugmentation`
/// (together with its masks) and run through the backbone; the other layers and the masks of that
/// read come from the same pass. Draws are seeded by (seed, sample, visit), so training is as
/// deterministic as with stored tokens.
///
/// One forward pass per image per iteration: slow on a CPU (the paper trained on GPUs).
final class AugmentedSegmentationSamples: SegmentationSamples {
    let count: Int
    let grid: TokenGrid
    let classes: Int
    let maskHeight: Int
    let maskWidth: Int
    var layerCount: Int { stored.layerCount }
    private let stored: StoredSegmentationSamples
    private let manifest: Manifest
    private let model: VisionTransformer
    private let preprocessing: Preprocessing
    private let augmentation = SegmentationAugmentation()
    private let seed: UInt64
    private let stage: String

    private struct State {
        var visits: [Int: Int] = [:]
        var sample = -1
        var layers: [[Float]] = []
        var masks: [UInt8] = []
    }
    private let state = Mutex(State())

    /// Wraps the stored training samples (for their masks, rows and shapes) with the backbone the
    /// stage's parameters name.
    /// - Throws: `RunnerError` when the backbone is missing from the parameters or is not a ViT over pixels.
    init(stored: StoredSegmentationSamples, manifest: Manifest, parameters: SegmentationTrainParameters, context: StageContext) throws {
        guard let embed = parameters.backbone, let family = context.registry.backbones[embed.backbone] else {
            throw RunnerError.badOption(stage: context.stage.label, option: "augment", value: "paper",
                                        reason: "the stage names no backbone to run (\(parameters.backbone?.backbone ?? "none"))")
        }
        guard let backbone = try family.makeBackbone(ComponentOptions(stage: context.stage.label, values: embed.options)) as? any TransformerBackbone else {
            throw RunnerError.badOption(stage: context.stage.label, option: "augment", value: "paper",
                                        reason: "the \(embed.backbone) backbone does not run on images here; use augment: none")
        }
        // Every training image is decoded on each of its draws; one that no longer decodes (moved or
        // changed since it was embedded) is an error now, naming it, rather than in the middle of training.
        for row in stored.rows {
            let url = manifest.imageURL(of: manifest.samples[row])
            do {
                _ = try decodeImage(at: url)
            } catch {
                throw RunnerError.badOption(stage: context.stage.label, option: "augment", value: "paper",
                                            reason: "training image \(url.path) does not decode (\(error)); augmentation reads the images themselves")
            }
        }
        self.stored = stored
        self.manifest = manifest
        self.model = backbone.model
        self.preprocessing = backbone.preprocessing
        self.seed = UInt64(parameters.seed)
        self.stage = context.stage.label
        count = stored.count
        grid = stored.grid
        classes = stored.classes
        maskHeight = stored.maskHeight
        maskWidth = stored.maskWidth
    }

    func copyTokens(layer: Int, sample: Int, into target: UnsafeMutablePointer<Float>) {
        state.withLock { state in
            if layer == 0 || state.sample != sample {
                let visit = state.visits[sample, default: 0]
                state.visits[sample] = visit + 1
                let (layers, masks) = augmentedPass(sample: sample, visit: visit)
                state.sample = sample
                state.layers = layers
                state.masks = masks
            }
            state.layers[layer].withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: $0.count) }
        }
    }

    func copyMasks(sample: Int, into target: UnsafeMutablePointer<UInt8>) {
        state.withLock { state in
            precondition(state.sample == sample, "masks are read after the tokens of the same sample")
            state.masks.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: $0.count) }
        }
    }

    /// Decodes, augments and embeds one image; its tokens per decoder layer and its masks.
    private func augmentedPass(sample: Int, visit: Int) -> ([[Float]], [UInt8]) {
        var generator = SeededGenerator(seed: seed, stream: UInt64(sample) &* 0x1_0000_0001 &+ UInt64(visit) &+ 0xA06)
        let size = preprocessing.size ?? model.configuration.imageSize
        let draw = augmentation.draw(size: size, using: &generator)
        let plane = maskHeight * maskWidth
        var masks = [UInt8](repeating: 0, count: classes * plane)
        masks.withUnsafeMutableBufferPointer { stored.copyMasks(sample: sample, into: $0.baseAddress!) }
        var unit = preprocessing
        unit.mean = nil
        unit.std = nil
        unit.replicateGreyToThreeChannels = false
        // Every training image decoded when the samples were built; one changed on disk since,
        // mid-training, stops the process rather than train on a blank image.
        let url = manifest.imageURL(of: manifest.samples[stored.rows[sample]])
        guard let decoded = try? decodeImage(at: url) else { preconditionFailure("\(stage): \(url.path) no longer decodes") }
        let image = unit.apply(to: decoded)
        let augmented = SegmentationAugmentation.apply(draw, image: image.values, channels: image.channels, size: size,
                                                       masks: masks.map(Float.init), classes: classes, maskSize: maskHeight)
        // Grey to three channels, then the backbone's normalisation.
        var pixels = [Float](repeating: 0, count: 3 * size * size)
        let mean = preprocessing.mean ?? [0, 0, 0], std = preprocessing.std ?? [1, 1, 1]
        for channel in 0..<3 {
            let source = image.channels == 1 ? 0 : channel
            for pixel in 0..<(size * size) {
                pixels[channel * size * size + pixel] = (augmented.image[source * size * size + pixel] - mean[channel]) / std[channel]
            }
        }
        let blocks = stored.layers.compactMap { $0 }
        guard let output = try? model.forward(Tensor(shape: [1, 3, size, size], scalars: pixels), intermediateBlocks: blocks) else {
            preconditionFailure("\(stage): the backbone that embedded \(url.path) failed on its augmented copy")
        }
        let first = 1 + output.registerCount
        let layers = stored.layers.map { layer -> [Float] in
            guard let block = layer else { return output.patchTokens.scalars }
            let tokens = output.intermediates[block]!   // [1, T, D]
            return tokens.sliced(axis: 1, range: first..<tokens.shape[1]).scalars
        }
        return (layers, augmented.masks.map { $0 > 0.5 ? 1 : 0 })
    }
}
