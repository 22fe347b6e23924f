import Tensor

/// Where a patch head reads its samples: each sample's `[h, w, D]` patch tokens and, for the heads
/// that segment, its masks; copied out one sample at a time so a store can keep float16 tokens on
/// disk. Targets travel separately (as `ProbeData.targets`).
public protocol PatchTokenSamples: Sendable {
    /// Number of samples.
    var count: Int { get }
    /// The token grid (the same for every sample).
    var grid: TokenGrid { get }
    /// Mask planes per sample (0 when the samples carry no masks).
    var maskClasses: Int { get }

    /// Copies sample `sample`'s tokens, `[h, w, D]` row-major, into `target`.
    /// - Throws: whatever reading the store throws.
    func copyTokens(sample: Int, into target: UnsafeMutablePointer<Float>) throws
    /// Whether sample `sample` has masks (samples without contribute only to the classification loss).
    func hasMasks(sample: Int) -> Bool
    /// Copies sample `sample`'s masks, `[maskClasses, size, size]` of 0/1, into `target`.
    /// - Throws: whatever reading the masks throws.
    func copyMasks(sample: Int, size: Int, into target: UnsafeMutablePointer<Float>) throws
}

/// Patch-token samples held in memory.
public struct PatchTokenArrays: PatchTokenSamples {
    public let count: Int
    public let grid: TokenGrid
    public let maskClasses: Int
    /// `[N, h, w, D]`.
    public let tokens: [Float]
    /// Per sample `[maskClasses, maskSize, maskSize]` of 0/1, or nil for a sample without masks.
    public let masks: [[Float]?]
    /// The side of the stored masks (masks are read at this size only).
    public let maskSize: Int

    /// Checks sizes and that tokens are finite.
    /// - Throws: `SegmentationError` naming the first problem.
    public init(tokens: [Float], grid: TokenGrid, masks: [[Float]?] = [], maskClasses: Int = 0, maskSize: Int = 0) throws {
        let perSample = grid.height * grid.width * grid.channels
        guard perSample > 0, tokens.count % perSample == 0 else {
            throw SegmentationError.shapeMismatch(what: "patch tokens", expected: [-1, grid.height, grid.width, grid.channels],
                                                  actualCount: tokens.count)
        }
        if let bad = tokens.firstIndex(where: { !$0.isFinite }) { throw SegmentationError.nonFiniteToken(what: "patch tokens", index: bad) }
        count = tokens.count / perSample
        guard masks.isEmpty || masks.count == count else {
            throw SegmentationError.shapeMismatch(what: "masks", expected: [count], actualCount: masks.count)
        }
        for (index, planes) in masks.enumerated() {
            guard let planes else { continue }
            guard planes.count == maskClasses * maskSize * maskSize else {
                throw SegmentationError.shapeMismatch(what: "masks of sample \(index)", expected: [maskClasses, maskSize, maskSize],
                                                      actualCount: planes.count)
            }
        }
        self.tokens = tokens
        self.grid = grid
        self.masks = masks.isEmpty ? Array(repeating: nil, count: count) : masks
        self.maskClasses = maskClasses
        self.maskSize = maskSize
    }

    public func copyTokens(sample: Int, into target: UnsafeMutablePointer<Float>) throws {
        let perSample = grid.height * grid.width * grid.channels
        tokens.withUnsafeBufferPointer { target.update(from: $0.baseAddress! + sample * perSample, count: perSample) }
    }

    public func hasMasks(sample: Int) -> Bool { masks[sample] != nil }

    public func copyMasks(sample: Int, size: Int, into target: UnsafeMutablePointer<Float>) throws {
        guard let planes = masks[sample] else { preconditionFailure("sample \(sample) has no masks") }
        guard size == maskSize else {
            throw SegmentationError.invalidParameter(name: "mask_size", value: "\(size)", reason: "these samples hold masks of \(maskSize) px")
        }
        planes.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: planes.count) }
    }
}
