// Overlap metrics of hard segmentation masks: Dice (DSC) and IoU per image and class, their means,
// and Dice on positive images only ("DicePos", the paper's Table 6).
//
// Conventions (MONAI's `DiceMetric`/`MeanIoU` definitions, checked against a NumPy reference):
// - Dice = 2|P ∩ G| / (|P| + |G|), IoU = |P ∩ G| / |P ∪ G| per image and class;
// - an image whose ground truth and prediction are both empty scores 1 (SIIM-ACR's convention,
//   MONAI's `ignore_empty=False`); an empty ground truth with a non-empty prediction scores 0;
// - DicePos averages only over images whose ground truth for the class is non-empty (MONAI's
//   `ignore_empty=True`), and is undefined for a class with no such image;
// - means over images are per class; the mean over classes averages those per-class means.

/// Per-image, per-class overlap scores of hard masks, with their means.
public struct SegmentationScores: Sendable, Equatable {
    /// Class names, in mask-plane order.
    public let classes: [String]
    /// `dice[image][class]`.
    public let dice: [[Double]]
    /// `iou[image][class]`.
    public let iou: [[Double]]
    /// Whether the ground truth of `[image][class]` has at least one pixel.
    public let isPositive: [[Bool]]

    /// Mean Dice over images, per class.
    public var meanDicePerClass: [Double] { classes.indices.map { c in mean(dice.map { $0[c] }) ?? .nan } }
    /// Mean IoU over images, per class.
    public var meanIoUPerClass: [Double] { classes.indices.map { c in mean(iou.map { $0[c] }) ?? .nan } }
    /// Mean Dice over the images whose ground truth has the class, per class; nil without such an image.
    public var dicePositivePerClass: [Double?] {
        classes.indices.map { c in mean(dice.indices.filter { isPositive[$0][c] }.map { dice[$0][c] }) }
    }
    /// The mean over classes of `meanDicePerClass`.
    public var meanDice: Double { mean(meanDicePerClass) ?? .nan }
    /// The mean over classes of `meanIoUPerClass`.
    public var meanIoU: Double { mean(meanIoUPerClass) ?? .nan }
    /// The mean over the classes that have positive images of `dicePositivePerClass`; nil if none has.
    public var meanDicePositive: Double? { mean(dicePositivePerClass.compactMap { $0 }) }

    private func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
}

/// Scores hard predicted masks against ground-truth masks.
///
/// - Parameters:
///   - predictions, targets: `[images, classes, height, width]` with values 0 or 1 (any non-zero
///     counts as 1).
///   - classes: the class names (one plane each).
///   - pixelsPerPlane: `height · width`.
/// - Throws: `SegmentationError.shapeMismatch` when a buffer does not hold
///   `images · classes · pixelsPerPlane` values.
/// - Complexity: O(images · classes · pixels).
public func segmentationScores(predictions: [UInt8], targets: [UInt8], images: Int, classes: [String],
                               pixelsPerPlane: Int) throws -> SegmentationScores {
    let shape = [images, classes.count, pixelsPerPlane]
    guard predictions.count == shape.reduce(1, *) else {
        throw SegmentationError.shapeMismatch(what: "predicted masks", expected: shape, actualCount: predictions.count)
    }
    guard targets.count == shape.reduce(1, *) else {
        throw SegmentationError.shapeMismatch(what: "ground-truth masks", expected: shape, actualCount: targets.count)
    }
    var dice = [[Double]](repeating: [Double](repeating: 0, count: classes.count), count: images)
    var iou = dice
    var isPositive = [[Bool]](repeating: [Bool](repeating: false, count: classes.count), count: images)
    predictions.withUnsafeBufferPointer { predicted in
        targets.withUnsafeBufferPointer { truth in
            for image in 0..<images {
                for c in classes.indices {
                    let start = (image * classes.count + c) * pixelsPerPlane
                    var intersection = 0, predictedCount = 0, truthCount = 0
                    for index in start..<(start + pixelsPerPlane) {
                        let p = predicted[index] != 0, g = truth[index] != 0
                        if p { predictedCount += 1 }
                        if g { truthCount += 1 }
                        if p && g { intersection += 1 }
                    }
                    let union = predictedCount + truthCount - intersection
                    dice[image][c] = predictedCount + truthCount == 0 ? 1 : 2 * Double(intersection) / Double(predictedCount + truthCount)
                    iou[image][c] = union == 0 ? 1 : Double(intersection) / Double(union)
                    isPositive[image][c] = truthCount > 0
                }
            }
        }
    }
    return SegmentationScores(classes: classes, dice: dice, iou: iou, isPositive: isPositive)
}
