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

    public func makeBackbone(_ options: ComponentOptions) throws -> any Backbone {
        let size = try options.integer("size") ?? 16
        guard (2...512).contains(size) else {
            throw RunnerError.badOption(stage: options.stage, option: "size", value: String(size), reason: "must be from 2 to 512 pixels")
        }
        return PixelBackbone(size: size)
    }
}

struct PixelBackbone: Backbone {
    let size: Int

    var description: String { "pixels" }

    func embed(_ manifest: Manifest, context: StageContext) throws -> EmbeddingArtifact {
        let preprocessing = Preprocessing(replicateGreyToThreeChannels: false, size: size, mean: nil, std: nil)
        let dimension = size * size
        var cls = [Float](repeating: 0, count: manifest.samples.count * dimension)
        var mean = cls
        let batch = 256
        for start in stride(from: 0, to: manifest.samples.count, by: batch) {
            try context.checkCancellation()
            let samples = manifest.samples[start..<min(start + batch, manifest.samples.count)]
            let images = try preprocessImages(manifest.readableImageURLs(of: Array(samples)), with: preprocessing, threads: context.threads)
            for (offset, image) in images.enumerated() {
                let grey = greyPlane(image)
                let row = (start + offset) * dimension
                cls.replaceSubrange(row..<(row + dimension), with: grey)
                mean.replaceSubrange(row..<(row + dimension), with: boxFiltered(grey))
            }
        }
        return EmbeddingArtifact(
            info: .init(ids: manifest.samples.map(\.id), dimension: dimension, backbone: "pixels", hasMean: true,
                        note: "grey intensities at \(size)x\(size); mean = the same after a 3x3 mean filter"),
            cls: cls, mean: mean)
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
