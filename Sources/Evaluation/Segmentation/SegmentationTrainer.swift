import Random
import Foundation
import Tensor

/// Trains a segmentation decoder on frozen patch tokens: seeded batches, forward, the upsampled
/// Dice (+ cross-entropy) loss, explicit backward, Adam; validation, plateau halving, early
/// stopping and best-weight keeping (see `SegmentationTrainingConfiguration`).
///
/// Deterministic for a seed: batches come from a seeded generator, dropout masks are hashed from
/// per-iteration keys, and every pass cuts its work into tasks fixed by the problem, so the thread
/// count changes the speed, not the numbers. Not thread-safe; one trainer per run.
public final class SegmentationTrainer {
    public let configuration: SegmentationTrainingConfiguration
    public let train: any SegmentationSamples
    public let validation: any SegmentationSamples
    let decoder: any SegmentationDecoder
    let loss: UpsampledSegmentationLoss
    private let optimizer: AdamOptimizer
    private var scheduler: PlateauScheduler
    private var generator: SeededGenerator
    private var order: [Int] = []
    private var position = 0
    private(set) var iterationsDone = 0
    /// The batch: per layer `[B, h, w, D]`, masks `[B, C, H, W]`, the logit gradient `[B, C, h', w']`.
    let batchLayers: [UnsafeMutablePointer<Float>]
    private let batchMasks: UnsafeMutablePointer<UInt8>
    private let logitGradient: UnsafeMutablePointer<Float>

    /// The current learning rate.
    public var learningRate: Double { optimizer.learningRate }

    /// Prepares training; the decoder's initial weights are drawn from the configuration's seed.
    /// - Parameter threads: how many threads each pass is split over.
    /// - Throws: `SegmentationError` for invalid settings or samples that do not fit the decoder.
    public init(train: any SegmentationSamples, validation: any SegmentationSamples,
                configuration: SegmentationTrainingConfiguration, threads: Int = 1) throws {
        try configuration.validate()
        for (name, samples) in [("training", train), ("validation", validation)] {
            guard samples.count > 0 else { throw SegmentationError.inconsistent(what: "\(name) samples", reason: "none given") }
            guard samples.grid == train.grid, samples.classes == train.classes, samples.maskHeight == train.maskHeight,
                  samples.maskWidth == train.maskWidth, samples.layerCount == train.layerCount else {
                throw SegmentationError.inconsistent(what: "\(name) samples",
                                                     reason: "token grid, layers, classes and mask size must match the training samples")
            }
        }
        guard train.layerCount == configuration.decoder.layerCount else {
            throw SegmentationError.inconsistent(what: "token layers",
                                                 reason: "the decoder reads \(configuration.decoder.layerCount), the samples have \(train.layerCount)")
        }
        guard configuration.activation == .sigmoid || train.classes > 1 else {
            throw SegmentationError.invalidParameter(name: "activation", value: "softmax",
                                                     reason: "exclusive classes need at least two (include the background)")
        }
        self.configuration = configuration
        self.train = train
        self.validation = validation
        let capacity = configuration.batchSize
        switch configuration.decoder {
        case .linear:
            decoder = LinearDecoder(grid: train.grid, classes: train.classes, capacity: capacity, threads: threads,
                                    seed: configuration.seed)
        case let .upernet(upernet):
            decoder = try UPerNetDecoder(grid: train.grid, classes: train.classes, configuration: upernet, capacity: capacity,
                                         threads: threads, seed: configuration.seed)
        }
        loss = UpsampledSegmentationLoss(
            resize: BilinearResize(inputHeight: decoder.logitHeight, inputWidth: decoder.logitWidth,
                                   outputHeight: train.maskHeight, outputWidth: train.maskWidth),
            classes: train.classes, activation: configuration.activation, dice: configuration.dice,
            crossEntropyWeight: configuration.crossEntropyWeight)
        optimizer = AdamOptimizer(parameterCount: decoder.parameters.count, learningRate: configuration.learningRate,
                                  weightDecay: configuration.weightDecay)
        scheduler = PlateauScheduler(factor: configuration.learningRateFactor, patience: configuration.learningRatePatience)
        generator = SeededGenerator(seed: configuration.seed, stream: 0x5E9)
        let grid = train.grid
        batchLayers = (0..<train.layerCount).map { _ in .allocate(capacity: capacity * grid.height * grid.width * grid.channels) }
        batchMasks = .allocate(capacity: capacity * train.classes * train.maskHeight * train.maskWidth)
        logitGradient = .allocate(capacity: capacity * train.classes * decoder.logitHeight * decoder.logitWidth)
    }

    deinit {
        for layer in batchLayers { layer.deallocate() }
        batchMasks.deallocate()
        logitGradient.deallocate()
    }

    /// The decoder's weights and running statistics under PyTorch's names.
    public func stateDictionary() -> [String: Tensor] { decoder.parameters.stateDictionary() }

    /// Replaces the decoder's weights and statistics (e.g. PyTorch's, for a parity check).
    /// - Throws: `SegmentationError.stateDictionary` when names or shapes do not fit.
    public func load(stateDictionary: [String: Tensor]) throws {
        try decoder.parameters.load(stateDictionary)
        decoder.parametersChanged()
    }

    /// Copies `samples` of `source` into the batch buffers.
    func gather(_ samples: [Int], from source: any SegmentationSamples, masks: Bool) {
        let grid = source.grid, tokens = grid.height * grid.width * grid.channels
        let maskSize = source.classes * source.maskHeight * source.maskWidth
        for (row, sample) in samples.enumerated() {
            for layer in 0..<source.layerCount { source.copyTokens(layer: layer, sample: sample, into: batchLayers[layer] + row * tokens) }
            if masks { source.copyMasks(sample: sample, into: batchMasks + row * maskSize) }
        }
    }

    /// The next training batch: consecutive samples of a seeded permutation, reshuffled per epoch.
    private func nextBatch() -> [Int] {
        var batch: [Int] = []
        while batch.count < min(configuration.batchSize, train.count) {
            if position == order.count {
                order = Array(0..<train.count)
                generator.shuffle(&order)
                position = 0
            }
            batch.append(order[position])
            position += 1
        }
        return batch
    }

    /// One optimisation step on the given training samples; returns the loss.
    @discardableResult
    func step(samples: [Int]) -> UpsampledSegmentationLoss.Value {
        let value = computeGradients(samples: samples, dropoutKey: generator.next())
        update()
        return value
    }

    /// Forward, loss and backward on the given training samples (a training-mode forward: the
    /// running statistics move); leaves the gradients in the decoder's parameters.
    func computeGradients(samples: [Int], dropoutKey: UInt64) -> UpsampledSegmentationLoss.Value {
        gather(samples, from: train, masks: true)
        let layers = batchLayers.map { UnsafePointer($0) }
        let logits = decoder.forward(layers: layers, batch: samples.count, training: true, dropoutKey: dropoutKey)
        let value = loss.evaluate(logits: logits, masks: batchMasks, samples: samples.count, logitGradient: logitGradient)
        decoder.backward(logitGradient: logitGradient, layers: layers, batch: samples.count)
        return value
    }

    /// The parameters' gradients by name (as left by `computeGradients`).
    func gradientDictionary() -> [String: Tensor] { decoder.parameters.gradientDictionary() }

    /// Sets the gradients to zero without updating (after a `computeGradients` used for checks).
    func zeroGradients() { decoder.parameters.gradients.update(repeating: 0, count: decoder.parameters.count) }

    /// An Adam step from the current gradients, which it sets back to zero.
    func update() {
        let constants = optimizer.nextStep()
        let parameters = decoder.parameters
        Parallel.forEachChunk(count: parameters.count, minimumChunk: 1 << 16) { range in
            optimizer.update(range: range, parameters: parameters.values, gradients: parameters.gradients, constants: constants)
        }
        decoder.parametersChanged()
        iterationsDone += 1
    }

    /// One training iteration on the next batch; returns the loss.
    @discardableResult
    public func trainIteration() -> Double {
        step(samples: nextBatch()).total
    }

    /// Trains until the iteration budget or early stopping, keeping the best validation weights.
    public func fit() -> SegmentationTrainingResult {
        fit(checkingCancellation: {})
    }

    /// `fit()`, calling `checkCancellation` before every iteration (a stage runner passes its
    /// context's check, so an interrupted run stops within one iteration).
    /// - Throws: what `checkCancellation` throws.
    public func fit(checkingCancellation checkCancellation: () throws -> Void) rethrows -> SegmentationTrainingResult {
        var best = -Double.infinity, bestIteration = 0, bestSnapshot = decoder.parameters.snapshot()
        var stale = 0, lossSum = 0.0, lossCount = 0
        var history: [SegmentationValidationRecord] = []
        while iterationsDone < configuration.maximumIterations {
            try checkCancellation()
            lossSum += trainIteration()
            lossCount += 1
            guard iterationsDone % configuration.validationInterval == 0 || iterationsDone == configuration.maximumIterations else {
                continue
            }
            let score = validationDice()
            history.append(SegmentationValidationRecord(iteration: iterationsDone, trainingLoss: lossSum / Double(lossCount),
                                                        validationDice: score, learningRate: optimizer.learningRate))
            lossSum = 0
            lossCount = 0
            if score > best {
                best = score
                bestIteration = iterationsDone
                bestSnapshot = decoder.parameters.snapshot()
                stale = 0
            } else {
                stale += 1
            }
            optimizer.learningRate = scheduler.record(score: score, learningRate: optimizer.learningRate)
            if stale >= configuration.earlyStoppingPatience { break }
        }
        decoder.parameters.restore(bestSnapshot)
        decoder.parametersChanged()
        return SegmentationTrainingResult(iterations: iterationsDone, bestValidationDice: best, bestIteration: bestIteration,
                                          history: history)
    }

    /// Mean Dice of the current decoder's hard predictions on the validation samples.
    public func validationDice() -> Double { scores(validation).meanDice }
}
