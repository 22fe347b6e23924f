import Tensor

/// The segmentation branch's hard masks on a set of samples and their overlap with the samples'
/// masks (the multitask heads' DicePos, the paper's Table 6).
public struct PatchHeadMaskPredictions: Sendable {
    /// The side of every mask plane (the head's `maskSize`).
    public let size: Int
    /// Mask planes per sample.
    public let classes: Int
    /// `[samples, classes, size, size]` of 0/1: the upsampled logit above 0 (sigmoid above ½).
    public let predicted: [UInt8]
    /// Per sample with masks (`PatchTokenSamples.hasMasks`), Dice, IoU and positivity per class
    /// (`segmentationScores`'s conventions); nil for a sample without masks.
    public let scores: [PerSample?]

    /// One sample's overlap per class.
    public struct PerSample: Sendable, Equatable {
        public let dice: [Double]
        public let iou: [Double]
        public let isPositive: [Bool]
    }
}

extension PatchHeadTrainer {
    /// Runs the current weights (evaluation mode) on `samples`, thresholds the segmentation
    /// branch's logits upsampled bilinearly to `maskSize` (as in training) at 0, and scores each
    /// sample that has masks against them.
    /// - Returns: nil for a head without a segmentation branch.
    /// - Throws: what reading tokens or masks throws; `SegmentationError` when the samples carry a
    ///   different number of mask planes than the head was built for.
    /// - Complexity: one forward per batch plus O(samples · classes · maskSize²).
    public func maskPredictions(_ samples: any PatchTokenSamples) throws -> PatchHeadMaskPredictions? {
        guard let resize else { return nil }
        let classes = network.maskClasses, size = configuration.maskSize, high = size * size
        let low = samples.grid.height * samples.grid.width
        guard samples.maskClasses == classes || samples.maskClasses == 0 else {
            throw SegmentationError.inconsistent(what: "masks", reason: "the samples carry \(samples.maskClasses) mask planes, the head segments \(classes)")
        }
        var predicted = [UInt8](repeating: 0, count: samples.count * classes * high)
        var scores: [PatchHeadMaskPredictions.PerSample?] = Array(repeating: nil, count: samples.count)
        var upsampled = [Float](repeating: 0, count: classes * high)
        var truth = [Float](repeating: 0, count: classes * high)
        let names = (0..<classes).map { "\($0)" }
        for start in stride(from: 0, to: samples.count, by: configuration.batchSize) {
            let rows = Array(start..<min(start + configuration.batchSize, samples.count))
            try gather(rows, from: samples)
            let (_, segmentation) = network.forward(batch: rows.count, training: false)
            guard let segmentation else { preconditionFailure("a segmenting head's forward returns mask planes") }
            for (position, sample) in rows.enumerated() {
                upsampled.withUnsafeMutableBufferPointer { output in
                    resize.forwardPlanes(input: segmentation + position * classes * low, planes: classes, output: output.baseAddress!, team: team)
                }
                let offset = sample * classes * high
                for index in 0..<(classes * high) where upsampled[index] > 0 { predicted[offset + index] = 1 }
                guard samples.maskClasses > 0, samples.hasMasks(sample: sample) else { continue }
                try truth.withUnsafeMutableBufferPointer { try samples.copyMasks(sample: sample, size: size, into: $0.baseAddress!) }
                let overlap = try segmentationScores(predictions: Array(predicted[offset..<(offset + classes * high)]),
                                                     targets: truth.map { $0 != 0 ? 1 : 0 }, images: 1, classes: names,
                                                     pixelsPerPlane: high)
                scores[sample] = PatchHeadMaskPredictions.PerSample(dice: overlap.dice[0], iou: overlap.iou[0], isPositive: overlap.isPositive[0])
            }
        }
        return PatchHeadMaskPredictions(size: size, classes: classes, predicted: predicted, scores: scores)
    }
}
