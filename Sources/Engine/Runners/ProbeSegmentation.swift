import Evaluation
import Foundation

/// What a `probe` artifact keeps of a segmenting head's masks on the test samples: per test
/// sample and mask class Dice, IoU and positivity (in `probe.json`), and the hard predicted masks
/// bit-packed in `predicted-masks.bin` (`[test, classes, maskSize, maskSize]` row-major, eight
/// pixels a byte, first pixel in the lowest bit), so the scores can be checked from the files.
struct ProbeSegmentation: Codable, Equatable {
    static let masksFile = "predicted-masks.bin"

    /// The mask classes segmented, in plane order.
    var classes: [String]
    /// The side of the masks the scores are computed at (the head's `mask_size`; ground truth
    /// padded to a square and resampled as torch's nearest, as in training).
    var maskSize: Int
    /// Per test sample (the artifact's `testIndices` order): per class, nil for a sample
    /// without masks.
    var dice: [[Double]?]
    var iou: [[Double]?]
    var positive: [[Bool]?]

    init(classes: [String], predictions: PatchHeadMaskPredictions) {
        self.classes = classes
        maskSize = predictions.size
        dice = predictions.scores.map { $0?.dice }
        iou = predictions.scores.map { $0?.iou }
        positive = predictions.scores.map { $0?.isPositive }
    }

    /// Writes the predicted masks bit-packed into `directory`.
    static func writeMasks(_ predicted: [UInt8], to directory: URL) throws {
        var bytes = [UInt8](repeating: 0, count: (predicted.count + 7) / 8)
        for (index, bit) in predicted.enumerated() where bit != 0 { bytes[index >> 3] |= UInt8(1) << UInt8(index & 7) }
        try Data(bytes).write(to: directory.appendingPathComponent(masksFile), options: .atomic)
    }

    /// The predicted masks of the artifact in `directory`, one 0/1 byte per pixel.
    /// - Throws: `RunnerError.artifact` when the file is missing or has the wrong size.
    func predictedMasks(in directory: URL) throws -> [UInt8] {
        let url = directory.appendingPathComponent(Self.masksFile)
        let pixels = dice.count * classes.count * maskSize * maskSize
        guard let data = try? Data(contentsOf: url), data.count == (pixels + 7) / 8 else {
            throw RunnerError.artifact(path: url.path, problem: "is missing or does not hold \(pixels) mask pixels")
        }
        let bytes = [UInt8](data)
        return (0..<pixels).map { (bytes[$0 >> 3] >> UInt8($0 & 7)) & 1 }
    }

    /// Every per-sample list has one entry per test sample and, where present, one value per class.
    func validate(testCount: Int, stage: String) throws {
        var fits = dice.count == testCount && iou.count == testCount && positive.count == testCount
        for index in 0..<min(dice.count, iou.count, positive.count) where fits {
            let counts: [Int?] = [dice[index]?.count, iou[index]?.count, positive[index]?.count]
            fits = counts.allSatisfy { $0 == counts[0] } && (counts[0] == nil || counts[0] == classes.count)
        }
        guard fits, !classes.isEmpty else {
            throw RunnerError.artifact(path: "probe of \(stage)",
                                       problem: "its mask scores do not have one entry per test sample (\(testCount)) and class (\(classes.count))")
        }
    }

    /// A segmentation metric over the test samples at `positions` that have masks, with the
    /// `segmentation-metric` stage's conventions (`SegmentationScores`): per class the mean over
    /// images (DicePos: over the images whose ground truth has the class), then the mean over
    /// classes (DicePos: over the classes some image has).
    /// - Returns: the value (nil when not computable, with the reason) and the images behind it.
    func score(_ metric: SegmentationMetricName, positions: [Int]) -> (value: Double?, count: Int, reason: String?) {
        let scored = positions.filter { dice[$0] != nil }
        guard !scored.isEmpty else { return (nil, 0, "no test sample of the subgroup has masks") }
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        switch metric {
        case .dice, .iou:
            let values = metric == .dice ? dice : iou
            let perClass = classes.indices.map { c in mean(scored.map { values[$0]![c] })! }
            return (mean(perClass), scored.count, nil)
        case .dicePositive:
            let perClass = classes.indices.compactMap { c in mean(scored.filter { positive[$0]![c] }.map { dice[$0]![c] }) }
            let positives = scored.filter { positive[$0]!.contains(true) }.count
            guard let value = mean(perClass) else {
                return (nil, 0, "no test sample of the subgroup has a pixel of \(classes.joined(separator: ", "))")
            }
            return (value, positives, nil)
        }
    }
}
