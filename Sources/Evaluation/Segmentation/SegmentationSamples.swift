import Tensor

/// Where a segmentation trainer reads its samples: patch tokens of one or more backbone layers and
/// a mask per class, copied out one sample at a time (so a store can keep float16 tokens on disk
/// and convert a batch at a time).
public protocol SegmentationSamples: Sendable {
    /// Number of samples.
    var count: Int { get }
    /// The token grid (the same for every layer and sample).
    var grid: TokenGrid { get }
    /// Token layers per sample, in the order the decoder takes them (UPerNet: finest block first).
    var layerCount: Int { get }
    /// Mask planes per sample (one per class) and their size.
    var classes: Int { get }
    var maskHeight: Int { get }
    var maskWidth: Int { get }

    /// Copies sample `sample`'s tokens of layer `layer`, `[h, w, D]`, into `target`.
    func copyTokens(layer: Int, sample: Int, into target: UnsafeMutablePointer<Float>)
    /// Copies sample `sample`'s masks, `[C, H, W]` of 0/1, into `target`.
    func copyMasks(sample: Int, into target: UnsafeMutablePointer<UInt8>)
}

/// Segmentation samples held in memory as plain arrays.
public struct SegmentationArrays: SegmentationSamples {
    public let count: Int
    public let grid: TokenGrid
    public let classes: Int, maskHeight: Int, maskWidth: Int
    /// Per layer, `[N, h, w, D]` float32.
    public let layers: [[Float]]
    /// `[N, C, H, W]`, each 0 or 1.
    public let masks: [UInt8]
    public var layerCount: Int { layers.count }

    /// Checks the sizes, that tokens are finite and masks binary.
    /// - Throws: `SegmentationError` naming the first problem.
    public init(layers: [[Float]], grid: TokenGrid, masks: [UInt8], classes: Int, maskHeight: Int, maskWidth: Int) throws {
        guard !layers.isEmpty else { throw SegmentationError.inconsistent(what: "token layers", reason: "none given") }
        guard classes > 0, maskHeight > 0, maskWidth > 0 else {
            throw SegmentationError.invalidParameter(name: "mask shape", value: "\(classes) × \(maskHeight) × \(maskWidth)",
                                                     reason: "needs at least one class and one pixel")
        }
        let tokensPerSample = grid.height * grid.width * grid.channels
        guard tokensPerSample > 0, layers[0].count % tokensPerSample == 0 else {
            throw SegmentationError.shapeMismatch(what: "token layer 0", expected: [-1, grid.height, grid.width, grid.channels],
                                                  actualCount: layers[0].count)
        }
        let count = layers[0].count / tokensPerSample
        for (index, layer) in layers.enumerated() {
            guard layer.count == count * tokensPerSample else {
                throw SegmentationError.shapeMismatch(what: "token layer \(index)", expected: [count, grid.height, grid.width, grid.channels],
                                                      actualCount: layer.count)
            }
            if let bad = layer.firstIndex(where: { !$0.isFinite }) {
                throw SegmentationError.nonFiniteToken(what: "token layer \(index)", index: bad)
            }
        }
        guard masks.count == count * classes * maskHeight * maskWidth else {
            throw SegmentationError.shapeMismatch(what: "masks", expected: [count, classes, maskHeight, maskWidth], actualCount: masks.count)
        }
        if let bad = masks.firstIndex(where: { $0 > 1 }) {
            throw SegmentationError.nonBinaryMask(what: "masks", index: bad, value: Double(masks[bad]))
        }
        self.count = count
        self.grid = grid
        self.classes = classes
        self.maskHeight = maskHeight
        self.maskWidth = maskWidth
        self.layers = layers
        self.masks = masks
    }

    /// The same from float masks (`[N, C, H, W]`, each exactly 0 or 1).
    /// - Throws: `SegmentationError` naming the first problem.
    public init(layers: [[Float]], grid: TokenGrid, masks: [Float], classes: Int, maskHeight: Int, maskWidth: Int) throws {
        if let bad = masks.firstIndex(where: { $0 != 0 && $0 != 1 }) {
            throw SegmentationError.nonBinaryMask(what: "masks", index: bad, value: Double(masks[bad]))
        }
        let binary: [UInt8] = masks.map { $0 == 1 ? 1 : 0 }
        try self.init(layers: layers, grid: grid, masks: binary, classes: classes, maskHeight: maskHeight, maskWidth: maskWidth)
    }

    public func copyTokens(layer: Int, sample: Int, into target: UnsafeMutablePointer<Float>) {
        let size = grid.height * grid.width * grid.channels
        layers[layer].withUnsafeBufferPointer { target.update(from: $0.baseAddress! + sample * size, count: size) }
    }

    public func copyMasks(sample: Int, into target: UnsafeMutablePointer<UInt8>) {
        let size = classes * maskHeight * maskWidth
        masks.withUnsafeBufferPointer { target.update(from: $0.baseAddress! + sample * size, count: size) }
    }
}
