import Random
import Foundation
import Testing
import Tensor
@testable import Evaluation

/// The segmentation trainer: it learns a learnable task, is deterministic for a seed on any
/// number of threads, halves the rate and stops on a plateau, and rejects bad input by name.
@Suite struct SegmentationTrainingTests {
    /// Tokens on a `grid × grid` map of `channels` features whose first channel (plus noise) says
    /// whether the patch is foreground; masks `classes × 2·grid × 2·grid` copy that (and its
    /// complement for a second class).
    static func samples(count: Int, grid: Int = 6, channels: Int = 8, classes: Int = 1, layers: Int = 1,
                        seed: UInt64) throws -> SegmentationArrays {
        var generator = SeededGenerator(seed: seed)
        let mask = 2 * grid
        var tokens = [Float](repeating: 0, count: count * grid * grid * channels)
        var masks = [UInt8](repeating: 0, count: count * classes * mask * mask)
        for sample in 0..<count {
            let centre = (Double(generator.nextIndex(below: grid)), Double(generator.nextIndex(below: grid)))
            for y in 0..<grid {
                for x in 0..<grid {
                    let inside = hypot(Double(y) - centre.0, Double(x) - centre.1) < Double(grid) / 3
                    let token = ((sample * grid + y) * grid + x) * channels
                    for c in 0..<channels { tokens[token + c] = generator.nextUnitFloat() - 0.5 }
                    tokens[token] += inside ? 1.5 : -1.5
                    for dy in 0..<2 {
                        for dx in 0..<2 {
                            let pixel = (2 * y + dy) * mask + 2 * x + dx
                            masks[(sample * classes) * mask * mask + pixel] = inside ? 1 : 0
                            if classes > 1 { masks[(sample * classes + 1) * mask * mask + pixel] = inside ? 0 : 1 }
                        }
                    }
                }
            }
        }
        return try SegmentationArrays(layers: [[Float]](repeating: tokens, count: layers),
                                      grid: TokenGrid(height: grid, width: grid, channels: channels), masks: masks,
                                      classes: classes, maskHeight: mask, maskWidth: mask)
    }

    static let smallUPerNet = UPerNetConfiguration(neckChannels: 8, channels: 8, dropout: 0.2)

    @Test(arguments: [SegmentationDecoderKind.linear, .upernet(smallUPerNet)], SegmentationActivation.allCases)
    func learnsASeparableTask(decoder: SegmentationDecoderKind, activation: SegmentationActivation) throws {
        let classes = activation == .softmax ? 2 : 1
        let train = try Self.samples(count: 24, classes: classes, layers: decoder.layerCount, seed: 1)
        let validation = try Self.samples(count: 8, classes: classes, layers: decoder.layerCount, seed: 2)
        let configuration = SegmentationTrainingConfiguration(decoder: decoder, activation: activation, batchSize: 8,
                                                              learningRate: 1e-2, maximumIterations: 60, validationInterval: 20)
        let trainer = try SegmentationTrainer(train: train, validation: validation, configuration: configuration, threads: 2)
        let before = trainer.validationDice()
        let result = trainer.fit()
        #expect(result.bestValidationDice > 0.8 && result.bestValidationDice > before,
                "\(decoder) \(activation): validation Dice \(before) → \(result.bestValidationDice)")
        #expect(result.history.count == 3 && result.iterations == 60)
        // The best weights are the ones kept.
        #expect(abs(trainer.validationDice() - result.bestValidationDice) < 1e-12)
    }

    @Test(arguments: [SegmentationDecoderKind.linear, .upernet(smallUPerNet)])
    func sameSeedSameWeightsOnAnyThreadCount(decoder: SegmentationDecoderKind) throws {
        let train = try Self.samples(count: 12, layers: decoder.layerCount, seed: 3)
        func weights(threads: Int, seed: UInt64) throws -> [String: Tensor] {
            let configuration = SegmentationTrainingConfiguration(decoder: decoder, batchSize: 5, learningRate: 1e-3, seed: seed)
            let trainer = try SegmentationTrainer(train: train, validation: train, configuration: configuration, threads: threads)
            for _ in 0..<4 { trainer.trainIteration() }
            return trainer.stateDictionary()
        }
        let reference = try weights(threads: 1, seed: 9)
        #expect(try weights(threads: 2, seed: 9) == reference)
        #expect(try weights(threads: 3, seed: 9) == reference)
        #expect(try weights(threads: 1, seed: 10) != reference)
    }

    @Test func aCancellationCheckStopsTrainingBeforeTheNextIteration() throws {
        struct Stop: Error {}
        let train = try Self.samples(count: 16, seed: 1), validation = try Self.samples(count: 8, seed: 2)
        let trainer = try SegmentationTrainer(train: train, validation: validation, configuration: SegmentationTrainingConfiguration(
            batchSize: 4, learningRate: 1e-2, maximumIterations: 50, validationInterval: 10))
        var checks = 0
        #expect(throws: Stop.self) {
            _ = try trainer.fit(checkingCancellation: {
                checks += 1
                if checks == 8 { throw Stop() }
            })
        }
        #expect(trainer.iterationsDone == 7)
    }

    @Test func plateauHalvesTheRateThenStops() throws {
        let train = try Self.samples(count: 8, seed: 4)
        // Empty validation masks and a classifier bias of −5: every prediction stays empty, every
        // validation scores Dice 1, and every one after the first is a plateau.
        let validation = try SegmentationArrays(layers: train.layers, grid: train.grid,
                                                masks: [UInt8](repeating: 0, count: train.masks.count), classes: 1,
                                                maskHeight: train.maskHeight, maskWidth: train.maskWidth)
        let configuration = SegmentationTrainingConfiguration(batchSize: 4, learningRate: 1e-6, maximumIterations: 100,
                                                              validationInterval: 2, learningRatePatience: 1, earlyStoppingPatience: 3)
        let trainer = try SegmentationTrainer(train: train, validation: validation, configuration: configuration)
        var state = trainer.stateDictionary()
        state["conv_seg.bias"] = Tensor(shape: [1], scalars: [-5])
        try trainer.load(stateDictionary: state)
        let result = trainer.fit()
        #expect(result.history.map(\.validationDice) == [1, 1, 1, 1])
        #expect(result.iterations == 8 && result.bestIteration == 2)
        // More than one stale validation (the third) halves the rate; the count restarts after it.
        #expect(result.history.map(\.learningRate) == [1e-6, 1e-6, 1e-6, 5e-7])
        #expect(trainer.learningRate == 5e-7)
    }

    /// Finite differences through the whole UPerNet step with Dropout2d active (a fixed key), on
    /// the classifier, which sees the dropout masks directly.
    @Test func upernetClassifierGradientWithDropout() throws {
        let train = try Self.samples(count: 3, classes: 2, layers: 4, seed: 5)
        let configuration = SegmentationTrainingConfiguration(
            decoder: .upernet(UPerNetConfiguration(neckChannels: 6, channels: 6, dropout: 0.4)), activation: .softmax,
            batchSize: 3, crossEntropyWeight: 0.5)
        let trainer = try SegmentationTrainer(train: train, validation: train, configuration: configuration)
        var state = trainer.stateDictionary()
        // Larger classifier weights than the initial N(0, 0.01²), so the loss depends on them visibly.
        var generator = SeededGenerator(seed: 6)
        state["decode_head.conv_seg.weight"] = Tensor(shape: [2, 6, 1, 1], scalars: (0..<12).map { _ in generator.nextUnitFloat() - 0.5 })
        try trainer.load(stateDictionary: state)
        func loss(_ weights: [Float]) throws -> Double {
            var modified = state
            modified["decode_head.conv_seg.weight"] = Tensor(shape: [2, 6, 1, 1], scalars: weights)
            try trainer.load(stateDictionary: modified)
            let value = trainer.computeGradients(samples: [0, 1, 2], dropoutKey: 77).total
            trainer.zeroGradients()
            return value
        }
        let weights = state["decode_head.conv_seg.weight"]!.scalars
        try trainer.load(stateDictionary: state)
        _ = trainer.computeGradients(samples: [0, 1, 2], dropoutKey: 77)
        let analytic = trainer.gradientDictionary()["decode_head.conv_seg.weight"]!.scalars
        trainer.zeroGradients()
        let step: Float = 1e-2
        var numeric: [Double] = []
        for index in weights.indices {
            var plus = weights, minus = weights
            plus[index] += step
            minus[index] -= step
            numeric.append((try loss(plus) - loss(minus)) / Double(2 * step))
        }
        let scale = numeric.map(abs).max()!
        let worst = zip(analytic, numeric).map { abs(Double($0) - $1) }.max()!
        #expect(worst / scale < 2e-3, "classifier gradient with dropout: \(worst) at scale \(scale)")
        // The key matters: another mask gives another loss.
        try trainer.load(stateDictionary: state)
        let other = trainer.computeGradients(samples: [0, 1, 2], dropoutKey: 78).total
        trainer.zeroGradients()
        #expect(other != (try loss(weights)))
    }

    @Test func badInputIsRejectedByName() throws {
        let grid = TokenGrid(height: 2, width: 2, channels: 3)
        #expect(throws: SegmentationError.nonBinaryMask(what: "masks", index: 5, value: 255)) {
            var masks = [UInt8](repeating: 0, count: 16)
            masks[5] = 255
            _ = try SegmentationArrays(layers: [[Float](repeating: 0, count: 12)], grid: grid, masks: masks, classes: 1,
                                       maskHeight: 4, maskWidth: 4)
        }
        #expect(throws: SegmentationError.nonBinaryMask(what: "masks", index: 3, value: 0.5)) {
            var masks = [Float](repeating: 1, count: 16)
            masks[3] = 0.5
            _ = try SegmentationArrays(layers: [[Float](repeating: 0, count: 12)], grid: grid, masks: masks, classes: 1,
                                       maskHeight: 4, maskWidth: 4)
        }
        let fromFloats = try SegmentationArrays(layers: [[Float](repeating: 0, count: 12)], grid: grid,
                                                masks: (0..<16).map { Float($0 % 2) }, classes: 1, maskHeight: 4, maskWidth: 4)
        #expect(fromFloats.masks == (0..<16).map { UInt8($0 % 2) })
        #expect(throws: SegmentationError.nonFiniteToken(what: "token layer 0", index: 7)) {
            var tokens = [Float](repeating: 0, count: 12)
            tokens[7] = .nan
            _ = try SegmentationArrays(layers: [tokens], grid: grid, masks: [UInt8](repeating: 0, count: 16), classes: 1,
                                       maskHeight: 4, maskWidth: 4)
        }
        #expect(throws: SegmentationError.shapeMismatch(what: "masks", expected: [1, 1, 4, 4], actualCount: 15)) {
            _ = try SegmentationArrays(layers: [[Float](repeating: 0, count: 12)], grid: grid,
                                       masks: [UInt8](repeating: 0, count: 15), classes: 1, maskHeight: 4, maskWidth: 4)
        }
        let samples = try Self.samples(count: 4, seed: 8)
        #expect(throws: SegmentationError.self) {
            _ = try SegmentationTrainer(train: samples, validation: samples,
                                        configuration: SegmentationTrainingConfiguration(decoder: .upernet(.small)))
        }
        #expect(throws: SegmentationError.invalidParameter(name: "activation", value: "softmax",
                                                           reason: "exclusive classes need at least two (include the background)")) {
            _ = try SegmentationTrainer(train: samples, validation: samples,
                                        configuration: SegmentationTrainingConfiguration(activation: .softmax))
        }
        #expect(throws: SegmentationError.invalidParameter(name: "batch size", value: "0", reason: "must be positive")) {
            _ = try SegmentationTrainer(train: samples, validation: samples, configuration: SegmentationTrainingConfiguration(batchSize: 0))
        }
        let trainer = try SegmentationTrainer(train: samples, validation: samples, configuration: SegmentationTrainingConfiguration())
        let otherGrid = try Self.samples(count: 2, grid: 4, seed: 9)
        #expect(throws: SegmentationError.self) { _ = try trainer.predict(otherGrid) }
        let predictions = try trainer.predict(samples)
        #expect(predictions.count == 4 * 12 * 12 && predictions.allSatisfy { $0 <= 1 })
        let probabilities = try trainer.probabilities(samples)
        #expect(zip(probabilities, predictions).allSatisfy { ($0 > 0.5) == ($1 == 1) })
        // Batch-by-batch scoring (batch 8 over 4 samples here, 3 + 3 + 2 below) equals scoring all at once.
        let scores = try trainer.evaluate(samples)
        #expect(scores == (try segmentationScores(predictions: predictions, targets: samples.masks, images: 4, classes: ["class 0"],
                                                  pixelsPerPlane: 144)))
        let batched = try SegmentationTrainer(train: samples, validation: samples, configuration: SegmentationTrainingConfiguration(batchSize: 3))
        let eight = try Self.samples(count: 8, seed: 10)
        #expect(try batched.evaluate(eight) == (try segmentationScores(predictions: try batched.predict(eight), targets: eight.masks,
                                                                       images: 8, classes: ["class 0"], pixelsPerPlane: 144)))
    }
}
