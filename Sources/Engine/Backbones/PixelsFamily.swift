import Datasets
import Foundation
import Imaging
import Pipeline

/// `pixels`: a floor every model should beat.
///
/// Each image is padded to a square, scaled to [0, 1], averaged to one grey channel and resized
/// (antialiased bilinear) to `size`×`size`: the CLS features are those `size²` intensities.
/// Having no tokens to pool, its "mean" features are the same grid after a 3×3 mean filter
/// (edges clamped): a coarser pooling of the same width, so `cls+mean` works as for a ViT.
public struct PixelsFamily: BackboneFamily {
    public var name: String { "pixels" }
    public var summary: String { "grey intensities on a size×size grid: the floor every model should beat" }
    public var options: [SchemaField] {
        [SchemaField("size", .integer(NumberRange(lower: 2, upper: 512)))]
    }

    /// Creates the family.
    public init() {}

    public func embeddingShape(_ options: [String: ParameterValue]) -> EmbeddingShape? {
        let size = options["size"]?.integerValue ?? 16
        return EmbeddingShape(dimension: size * size, grid: nil)
    }

    public func makeBackbone(_ options: ComponentOptions) throws -> any Backbone {
        let size = try options.integer("size") ?? 16
        guard (2...512).contains(size) else {
            throw RunnerError.badOption(stage: options.stage, option: "size", value: String(size), reason: "must be from 2 to 512 pixels")
        }
        return PixelBackbone(size: size)
    }
}

struct PixelBackbone: ImageBackbone {
    let size: Int

    var description: String { "pixels \(size)x\(size)" }
    var dimension: Int { size * size }
    var patchGrid: (height: Int, width: Int)? { nil }

    func embed(images: [URL], outputs: EmbeddingOutputs, context: StageContext) throws -> EmbeddingBatch {
        guard outputs == .pooled else {
            throw RunnerError.badOption(stage: context.stage.label, option: "outputs", value: "patch tokens",
                                        reason: "the pixels backbone has no patch tokens or blocks; use a ViT backbone for dense heads")
        }
        let preprocessing = Preprocessing(replicateGreyToThreeChannels: false, size: size, mean: nil, std: nil)
        var result = EmbeddingBatch(rows: [], cls: [], mean: [])
        let batch = 256
        for start in stride(from: 0, to: images.count, by: batch) {
            try context.checkCancellation()
            let loaded = preprocessEach(Array(images[start..<min(start + batch, images.count)]), with: preprocessing, threads: context.threads)
            for (offset, image) in loaded.enumerated() {
                switch image {
                case .success(let image):
                    let grey = greyPlane(image)
                    result.rows.append(start + offset)
                    result.cls += grey
                    result.mean += boxFiltered(grey)
                case .failure(let error):
                    result.failures[start + offset] = "\(error)"
                }
            }
        }
        return result
    }

    /// The channel mean of a `[C, size, size]` image.
    private func greyPlane(_ image: PreprocessedImage) -> [Float] {
        let plane = size * size
        guard image.channels > 1 else { return image.values }
        var grey = [Float](repeating: 0, count: plane)
        for channel in 0..<image.channels {
            for index in 0..<plane { grey[index] += image.values[channel * plane + index] }
        }
        let scale = 1 / Float(image.channels)
        return grey.map { $0 * scale }
    }

    private func boxFiltered(_ grey: [Float]) -> [Float] {
        var output = [Float](repeating: 0, count: grey.count)
        for y in 0..<size {
            for x in 0..<size {
                var sum: Float = 0
                for dy in -1...1 {
                    for dx in -1...1 {
                        let sy = min(max(y + dy, 0), size - 1), sx = min(max(x + dx, 0), size - 1)
                        sum += grey[sy * size + sx]
                    }
                }
                output[y * size + x] = sum / 9
            }
        }
        return output
    }
}
