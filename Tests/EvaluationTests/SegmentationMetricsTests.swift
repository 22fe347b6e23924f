import Foundation
import Testing
import TestSupport
@testable import Evaluation

/// Dice, IoU and DicePos against the NumPy reference of `scripts/fixtures/segmentation_metrics.py`.
@Suite struct SegmentationMetricsTests {
    struct Fixture: Decodable {
        var images: Int, classes: Int, height: Int, width: Int
        var predictions: [UInt8], targets: [UInt8]
        var dice: [[Double]], iou: [[Double]]
        var mean_dice_per_class: [Double], mean_iou_per_class: [Double], dice_positive_per_class: [Double?]
        var mean_dice: Double, mean_iou: Double, mean_dice_positive: Double
    }

    @Test func matchesNumPy() throws {
        let data = try Data(contentsOf: fixturesDirectory().appendingPathComponent("segmentation_metrics.json"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: data)
        let names = (0..<fixture.classes).map { "c\($0)" }
        let scores = try segmentationScores(predictions: fixture.predictions, targets: fixture.targets, images: fixture.images,
                                            classes: names, pixelsPerPlane: fixture.height * fixture.width)
        for image in 0..<fixture.images {
            expectClose(scores.dice[image], fixture.dice[image], tolerance: 1e-9, "Dice of image \(image)")
            expectClose(scores.iou[image], fixture.iou[image], tolerance: 1e-9, "IoU of image \(image)")
        }
        expectClose(scores.meanDicePerClass, fixture.mean_dice_per_class, tolerance: 1e-9, "mean Dice per class")
        expectClose(scores.meanIoUPerClass, fixture.mean_iou_per_class, tolerance: 1e-9, "mean IoU per class")
        #expect(scores.dicePositivePerClass.map { $0 == nil } == fixture.dice_positive_per_class.map { $0 == nil })
        expectClose(scores.dicePositivePerClass.compactMap { $0 }, fixture.dice_positive_per_class.compactMap { $0 },
                    tolerance: 1e-9, "DicePos per class")
        #expect(abs(scores.meanDice - fixture.mean_dice) <= 1e-9)
        #expect(abs(scores.meanIoU - fixture.mean_iou) <= 1e-9)
        #expect(abs(try #require(scores.meanDicePositive) - fixture.mean_dice_positive) <= 1e-9)
    }

    @Test func emptyMasksFollowTheSIIMConvention() throws {
        // One image, two classes of 4 pixels: class 0 empty in both; class 1 empty truth, one predicted pixel.
        let scores = try segmentationScores(predictions: [0, 0, 0, 0, 0, 1, 0, 0], targets: [0, 0, 0, 0, 0, 0, 0, 0],
                                            images: 1, classes: ["a", "b"], pixelsPerPlane: 4)
        #expect(scores.dice == [[1, 0]] && scores.iou == [[1, 0]])
        #expect(scores.dicePositivePerClass == [nil, nil] && scores.meanDicePositive == nil)
    }

    @Test func wrongSizesAreReported() {
        #expect(throws: SegmentationError.shapeMismatch(what: "predicted masks", expected: [2, 1, 4], actualCount: 7)) {
            try segmentationScores(predictions: [UInt8](repeating: 0, count: 7), targets: [UInt8](repeating: 0, count: 8),
                                   images: 2, classes: ["a"], pixelsPerPlane: 4)
        }
    }
}
