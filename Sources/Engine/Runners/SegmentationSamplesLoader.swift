import Datasets
import Evaluation
import Foundation
import Tensor

/// Stored patch tokens and masks of some samples of a manifest, read for segmentation decoders
/// (and any dense head): tokens stream from the memory-mapped embedding shards one sample at a
/// time (float16 → float32), masks are read once, resampled to the mask size and kept packed at
/// one bit per pixel (a 12,000-image, 518-px, one-class set takes 400 MB).
///
/// `loadSegmentationSamples(...)` builds one for a split's part; `batch(_:)` hands out plain
/// arrays for callers that do not go through `SegmentationTrainer`.
public struct StoredSegmentationSamples: SegmentationSamples {
    public let count: Int
    public let grid: TokenGrid
    public let classes: Int
    public let maskHeight: Int
    public let maskWidth: Int
    public var layerCount: Int { layers.count }
    /// Manifest rows of the samples, in sample order.
    public let rows: [Int]
    /// Their ids and patients.
    public let sampleIDs: [String]
    public let patientIDs: [String]
    /// Class names, in plane order.
    public let classNames: [String]
    /// Per decoder layer: nil for the final patch tokens, else the block number.
    public let layers: [Int?]
    private let tokens: EmbeddingTokens
    private let maskBits: [UInt8]

    fileprivate init(tokens: EmbeddingTokens, layers: [Int?], rows: [Int], sampleIDs: [String], patientIDs: [String],
                     classNames: [String], maskSize: Int, maskBits: [UInt8]) {
        self.tokens = tokens
        self.layers = layers
        self.rows = rows
        self.sampleIDs = sampleIDs
        self.patientIDs = patientIDs
        self.classNames = classNames
        self.maskBits = maskBits
        count = rows.count
        grid = TokenGrid(height: tokens.grid.height, width: tokens.grid.width, channels: tokens.dimension)
        classes = classNames.count
        maskHeight = maskSize
        maskWidth = maskSize
    }

    /// Sample `sample`'s tokens of decoder layer `layer`, `[h, w, D]`.
    /// - Throws: `RunnerError.artifact` when a shard no longer holds them.
    public func tokens(layer: Int, sample: Int) throws -> [Float] {
        if let block = layers[layer] { return try tokens.layer(block, rows[sample]) }
        return try tokens.patchTokens(rows[sample])
    }

    public func copyTokens(layer: Int, sample: Int, into target: UnsafeMutablePointer<Float>) {
        // The loader read every sample's tokens once and found them whole; the shards are
        // immutable cache artifacts, so a failure here means the cache was changed underneath.
        guard let values = try? tokens(layer: layer, sample: sample) else {
            preconditionFailure("stored tokens of sample \(sampleIDs[sample]) became unreadable while training")
        }
        values.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: values.count) }
    }

    public func copyMasks(sample: Int, into target: UnsafeMutablePointer<UInt8>) {
        let size = classes * maskHeight * maskWidth
        let base = sample * size
        for index in 0..<size {
            let bit = base + index
            target[index] = (maskBits[bit >> 3] >> UInt8(bit & 7)) & 1
        }
    }

    /// Samples `positions`' tokens per decoder layer (`[B, h, w, D]` each) and masks (`[B, C, H, W]`).
    /// - Throws: `RunnerError.artifact` when a shard no longer holds them.
    public func batch(_ positions: [Int]) throws -> (layers: [[Float]], masks: [UInt8]) {
        let maskSize = classes * maskHeight * maskWidth
        var masks = [UInt8](repeating: 0, count: positions.count * maskSize)
        masks.withUnsafeMutableBufferPointer { buffer in
            for (row, position) in positions.enumerated() { copyMasks(sample: position, into: buffer.baseAddress! + row * maskSize) }
        }
        let tokenLayers = try layers.indices.map { layer in try positions.flatMap { try tokens(layer: layer, sample: $0) } }
        return (tokenLayers, masks)
    }

    /// The same samples restricted to `positions` (in that order).
    public func subset(_ positions: [Int]) -> StoredSegmentationSamples {
        let size = classes * maskHeight * maskWidth
        var bits = [UInt8](repeating: 0, count: (positions.count * size + 7) / 8)
        var out = 0
        for position in positions {
            for index in 0..<size {
                let bit = position * size + index
                if (maskBits[bit >> 3] >> UInt8(bit & 7)) & 1 == 1 { bits[out >> 3] |= 1 << UInt8(out & 7) }
                out += 1
            }
        }
        return StoredSegmentationSamples(tokens: tokens, layers: layers, rows: positions.map { rows[$0] },
                                         sampleIDs: positions.map { sampleIDs[$0] }, patientIDs: positions.map { patientIDs[$0] },
                                         classNames: classNames, maskSize: maskHeight, maskBits: bits)
    }
}

/// Opens the stored tokens of `rows` (manifest rows) and reads their masks.
///
/// - Parameters:
///   - embedDirectory: a committed `embed` artifact whose store holds the layers asked for.
///   - manifest: the manifest the embedding and the rows belong to (with segmentation classes).
///   - rows: the samples, e.g. a split's training part.
///   - classes: the classes to read, in plane order; nil for every class of the manifest.
///   - maskSize: side of the square masks (zero-padded to a square first, as images are).
///   - layers: per decoder layer, nil for the final patch tokens or a block number.
///   - stage: the stage's label, for errors.
/// - Throws: `RunnerError` when the embedding lacks a layer or does not match the manifest, a
///   token is not finite, or a class is not the manifest's; `MaskError` naming the file, sample
///   and class of a mask that cannot be read.
/// - Complexity: reads every sample's tokens once (to check them) and its mask files once.
public func loadSegmentationSamples(embedDirectory: URL, cacheDirectory: URL, manifest: Manifest, rows: [Int],
                                    classes: [String]?, maskSize: Int, layers: [Int?], stage: String) throws -> StoredSegmentationSamples {
    let tokens = try EmbeddingTokens(embedDirectory: embedDirectory, cacheDirectory: cacheDirectory)
    guard tokens.ids.count == manifest.samples.count else {
        throw RunnerError.artifact(path: embedDirectory.path, problem: "the embedding holds \(tokens.ids.count) samples, the manifest \(manifest.samples.count)")
    }
    for layer in layers {
        if let block = layer, !tokens.outputs.layers.contains(block) {
            throw RunnerError.artifact(path: embedDirectory.path, problem: "the embedding stores no output of block \(block) (it has \(tokens.outputs.layers))")
        }
        if layer == nil, !tokens.outputs.patchTokens {
            throw RunnerError.artifact(path: embedDirectory.path, problem: "the embedding stores no final patch tokens")
        }
    }
    guard let segmentation = manifest.segmentation else {
        throw RunnerError.badOption(stage: stage, option: "dataset", value: manifest.dataset, reason: "its manifest has no segmentation masks")
    }
    let names = classes ?? segmentation.classes
    let planes = try names.map { name -> Int in
        guard let index = segmentation.classes.firstIndex(of: name) else {
            throw RunnerError.badOption(stage: stage, option: "classes", value: name,
                                        reason: "not a mask class of \(manifest.dataset) (it has \(segmentation.classes.joined(separator: ", ")))")
        }
        return index
    }
    let planeSize = maskSize * maskSize, sampleSize = names.count * planeSize
    var bits = [UInt8](repeating: 0, count: (rows.count * sampleSize + 7) / 8)
    for (position, row) in rows.enumerated() {
        let sample = manifest.samples[row]
        guard tokens.ids[row] == sample.id else {
            throw RunnerError.artifact(path: embedDirectory.path, problem: "row \(row) is sample \(tokens.ids[row]), the manifest's \(sample.id)")
        }
        let masks = try manifest.masks(of: sample, size: MaskSize(width: maskSize, height: maskSize), padToSquare: true)
        for (plane, source) in planes.enumerated() {
            let offset = position * sampleSize + plane * planeSize
            masks.planes.withUnsafeBufferPointer { values in
                for pixel in 0..<planeSize where values[source * planeSize + pixel] != 0 {
                    let bit = offset + pixel
                    bits[bit >> 3] |= 1 << UInt8(bit & 7)
                }
            }
        }
    }
    let samples = StoredSegmentationSamples(tokens: tokens, layers: layers, rows: rows, sampleIDs: rows.map { manifest.samples[$0].id },
                                            patientIDs: rows.map { manifest.samples[$0].patientID }, classNames: names,
                                            maskSize: maskSize, maskBits: bits)
    for position in 0..<samples.count {
        for layer in layers.indices {
            let values = try samples.tokens(layer: layer, sample: position)
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw RunnerError.artifact(path: embedDirectory.path,
                                           problem: "token \(bad) of sample \(samples.sampleIDs[position]) (layer \(layers[layer].map(String.init) ?? "patch")) is not finite")
            }
        }
    }
    return samples
}
