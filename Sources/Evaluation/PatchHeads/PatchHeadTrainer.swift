import Random
import Foundation
import Tensor

/// The parts of a patch head's training loss on one batch (each unweighted).
public struct PatchHeadLoss: Sendable, Equatable {
    /// `classificationWeight·classification + diceWeight·dice + structureWeight·structure`.
    public var total: Double
    public var classification: Double
    /// Over the batch's images that have masks; 0 when none has.
    public var dice: Double
    public var structure: Double
    /// Images of the batch that had masks.
    public var maskedImages: Int
}

/// Trains a patch head (`PatchHeadNetwork`) on frozen patch tokens: seeded shuffled batches,
/// forward, the classification loss on every image and the segmentation losses on the images
/// with masks, explicit backward, Adam (L2 weight decay as `torch.optim.Adam`); per epoch the
/// validation criterion (macro AUROC for multi-label, negative loss for multi-class, as the MLP
/// probe), plateau halving, early stopping and the best weights kept.
///
/// Deterministic for a seed: every pass cuts its work into tasks fixed by the problem. Not
/// thread-safe; one trainer per run.
public final class PatchHeadTrainer {
    public let configuration: PatchHeadTrainingConfiguration
    public let task: ProbeTask
    let network: PatchHeadNetwork
    private let train: any PatchTokenSamples, trainTargets: [Double]
    private let validation: any PatchTokenSamples, validationTargets: [Double]
    private let optimizer: AdamOptimizer
    private var scheduler: PlateauScheduler
    private var generator: SeededGenerator
    let resize: BilinearResize?
    private let structure: StructureLoss
    let team: WorkerTeam
    private var tokenScratch: [Float]

    /// The current learning rate.
    public var learningRate: Double { optimizer.learningRate }

    /// Prepares training; initial weights come from the configuration's seed.
    /// - Parameters:
    ///   - trainTargets, validationTargets: as `ProbeData.targets` for `task`.
    ///   - threads: threads each pass is split over (speed only).
    /// - Throws: `SegmentationError` for invalid settings, samples that do not match, or a
    ///   segmenting head whose training samples carry no masks.
    public init(configuration: PatchHeadTrainingConfiguration, task: ProbeTask,
                train: any PatchTokenSamples, trainTargets: [Double],
                validation: any PatchTokenSamples, validationTargets: [Double], threads: Int = 1) throws {
        try configuration.validate()
        guard train.count > 0, validation.count > 0 else {
            throw SegmentationError.inconsistent(what: "samples", reason: "training and validation need at least one sample each")
        }
        guard validation.grid == train.grid else {
            throw SegmentationError.inconsistent(what: "validation tokens", reason: "grid \(validation.grid) differs from training's \(train.grid)")
        }
        let columns = task.targetColumns
        for (name, samples, targets) in [("training", train, trainTargets), ("validation", validation, validationTargets)]
        where targets.count != samples.count * columns {
            throw SegmentationError.shapeMismatch(what: "\(name) targets", expected: [samples.count, columns], actualCount: targets.count)
        }
        if configuration.needsMasks {
            guard train.maskClasses > 0, (0..<train.count).contains(where: train.hasMasks) else {
                throw SegmentationError.inconsistent(what: "masks", reason: "this head trains a segmentation branch but no training sample has masks")
            }
        }
        self.configuration = configuration
        self.task = task
        self.train = train
        self.trainTargets = trainTargets
        self.validation = validation
        self.validationTargets = validationTargets
        network = PatchHeadNetwork(architecture: configuration.architecture, grid: train.grid, outputs: task.names.count,
                                   maskClasses: max(train.maskClasses, 1), capacity: configuration.batchSize, threads: threads,
                                   seed: configuration.seed)
        optimizer = AdamOptimizer(parameterCount: network.parameters.count, learningRate: configuration.learningRate,
                                  weightDecay: configuration.weightDecay)
        scheduler = PlateauScheduler(factor: 0.5, patience: configuration.plateauPatience)
        generator = SeededGenerator(seed: configuration.seed, stream: 0x9A7D)
        resize = configuration.architecture.segmentation
            ? BilinearResize(inputHeight: train.grid.height, inputWidth: train.grid.width,
                             outputHeight: configuration.maskSize, outputWidth: configuration.maskSize)
            : nil
        structure = StructureLoss(kernel: configuration.structureKernel)
        team = WorkerTeam(size: max(1, threads))
        tokenScratch = [Float](repeating: 0, count: train.grid.height * train.grid.width * train.grid.channels)
    }

    /// The network's weights and running statistics under PyTorch's names.
    public func stateDictionary() -> [String: Tensor] { network.parameters.stateDictionary() }

    /// Replaces the weights and statistics (PyTorch's, for a parity check).
    /// - Throws: `SegmentationError.stateDictionary` when names or shapes do not fit.
    public func load(stateDictionary: [String: Tensor]) throws {
        try network.parameters.load(stateDictionary)
        network.parametersChanged()
    }

    /// Parameter gradients by name (as left by `computeGradients`).
    func gradientDictionary() -> [String: Tensor] { network.parameters.gradientDictionary() }

    func gather(_ rows: [Int], from samples: any PatchTokenSamples) throws {
        for (row, sample) in rows.enumerated() {
            try tokenScratch.withUnsafeMutableBufferPointer { scratch in
                try samples.copyTokens(sample: sample, into: scratch.baseAddress!)
                network.setTokens(row: row, scratch.baseAddress!)
            }
        }
    }

    /// Forward, loss and backward on training samples `rows` (a training-mode forward: running
    /// statistics move); leaves the gradients in the parameters.
    /// - Throws: what reading tokens or masks throws.
    func computeGradients(rows: [Int]) throws -> PatchHeadLoss {
        try gather(rows, from: train)
        let batch = rows.count
        let (logits, segmentation) = network.forward(batch: batch, training: true)
        let outputs = network.outputs
        var logitGradient = [Float](repeating: 0, count: batch * outputs)
        let targets = rows.flatMap { row in (0..<task.targetColumns).map { trainTargets[row * task.targetColumns + $0] } }
        let classification = classificationLoss(logits: logits, targets: targets, batch: batch, gradient: &logitGradient,
                                                weight: configuration.classificationWeight)
        var loss = PatchHeadLoss(total: configuration.classificationWeight * classification, classification: classification,
                                 dice: 0, structure: 0, maskedImages: 0)
        var segmentationGradient: [Float]?
        if let segmentation, let resize {
            let classes = network.maskClasses, low = train.grid.height * train.grid.width
            var gradient = [Float](repeating: 0, count: batch * classes * low)
            let masked = rows.indices.filter { train.hasMasks(sample: rows[$0]) }
            if configuration.needsMasks && !masked.isEmpty {
                let size = configuration.maskSize, high = size * size
                var upsampled = [Float](repeating: 0, count: masked.count * classes * high)
                var masks = [Float](repeating: 0, count: masked.count * classes * high)
                var highGradient = [Float](repeating: 0, count: masked.count * classes * high)
                var selectedGradient = [Float](repeating: 0, count: masked.count * classes * low)
                try upsampled.withUnsafeMutableBufferPointer { upsampled in
                    try masks.withUnsafeMutableBufferPointer { masks in
                        for (position, row) in masked.enumerated() {
                            resize.forwardPlanes(input: segmentation + row * classes * low, planes: classes,
                                                 output: upsampled.baseAddress! + position * classes * high, team: team)
                            try train.copyMasks(sample: rows[row], size: size, into: masks.baseAddress! + position * classes * high)
                        }
                        highGradient.withUnsafeMutableBufferPointer { highGradient in
                            if configuration.diceWeight > 0 {
                                loss.dice = SegmentationLoss.dice(
                                    logits: upsampled.baseAddress!, targets: masks.baseAddress!, samples: masked.count, classes: classes,
                                    pixels: high, activation: .sigmoid, gradient: highGradient.baseAddress!, accumulate: true,
                                    weight: configuration.diceWeight, team: team) / configuration.diceWeight
                            }
                            if configuration.structureWeight > 0 {
                                loss.structure = structure.evaluate(
                                    logits: upsampled.baseAddress!, masks: masks.baseAddress!, planes: masked.count * classes,
                                    height: size, width: size, gradient: highGradient.baseAddress!,
                                    weight: configuration.structureWeight, team: team)
                            }
                            selectedGradient.withUnsafeMutableBufferPointer { selected in
                                resize.backwardPlanes(outputGradient: highGradient.baseAddress!, planes: masked.count * classes,
                                                      inputGradient: selected.baseAddress!, team: team)
                            }
                        }
                    }
                }
                for (position, row) in masked.enumerated() {
                    for index in 0..<(classes * low) { gradient[row * classes * low + index] = selectedGradient[position * classes * low + index] }
                }
                loss.maskedImages = masked.count
                loss.total += configuration.diceWeight * loss.dice + configuration.structureWeight * loss.structure
            }
            segmentationGradient = gradient
        }
        logitGradient.withUnsafeBufferPointer { logitGradient in
            if let segmentationGradient {
                segmentationGradient.withUnsafeBufferPointer { segmentationGradient in
                    network.backward(logitGradient: logitGradient.baseAddress!, segmentationGradient: segmentationGradient.baseAddress!,
                                     batch: batch)
                }
            } else {
                network.backward(logitGradient: logitGradient.baseAddress!, segmentationGradient: nil, batch: batch)
            }
        }
        return loss
    }

    /// Mean BCE on logits (multi-label) or cross-entropy (multi-class); writes `weight ·` its gradient.
    private func classificationLoss(logits: UnsafePointer<Float>, targets: [Double], batch: Int,
                                    gradient: inout [Float], weight: Double) -> Double {
        let outputs = network.outputs
        var total = 0.0
        switch task {
        case .multiLabel:
            let count = Double(batch * outputs)
            for index in 0..<(batch * outputs) {
                let z = Double(logits[index]), y = targets[index]
                total += max(z, 0) - z * y + log1p(exp(-abs(z)))
                gradient[index] = Float(weight * (1 / (1 + exp(-z)) - y) / count)
            }
            return total / count
        case .multiClass:
            for row in 0..<batch {
                let base = row * outputs
                let largest = (0..<outputs).map { Double(logits[base + $0]) }.max()!
                let exps = (0..<outputs).map { exp(Double(logits[base + $0]) - largest) }
                let sum = exps.reduce(0, +)
                let target = Int(targets[row])
                total += largest + log(sum) - Double(logits[base + target])
                for output in 0..<outputs {
                    gradient[base + output] = Float(weight * (exps[output] / sum - (output == target ? 1 : 0)) / Double(batch))
                }
            }
            return total / Double(batch)
        }
    }

    /// An Adam step from the current gradients, which it sets back to zero.
    func update() {
        let constants = optimizer.nextStep()
        let parameters = network.parameters
        optimizer.update(range: 0..<parameters.count, parameters: parameters.values, gradients: parameters.gradients, constants: constants)
        network.parametersChanged()
    }

    /// One optimisation step (forward, loss, backward, Adam) on training samples `rows`.
    /// - Throws: what reading tokens or masks throws.
    @discardableResult
    public func trainStep(rows: [Int]) throws -> PatchHeadLoss {
        let loss = try computeGradients(rows: rows)
        update()
        return loss
    }

    /// One pass over the training samples in a seeded order; returns the mean loss.
    /// - Throws: what reading tokens or masks throws.
    public func trainEpoch() throws -> Double {
        var order = Array(0..<train.count)
        generator.shuffle(&order)
        var total = 0.0, batches = 0
        let pixels = train.grid.height * train.grid.width
        for start in stride(from: 0, to: order.count, by: configuration.batchSize) {
            let rows = Array(order[start..<min(start + configuration.batchSize, order.count)])
            // BatchNorm needs two values per channel; a lone 1×1 grid is dropped (as drop_last).
            guard rows.count * pixels > 1 else { continue }
            total += try trainStep(rows: rows).total
            batches += 1
        }
        return total / Double(max(batches, 1))
    }

    /// Probabilities `[count, outputs]` of `samples` with the current weights (evaluation mode:
    /// running statistics), sigmoid per label or softmax over classes.
    /// - Throws: what reading tokens throws.
    public func probabilities(_ samples: any PatchTokenSamples) throws -> [Float] {
        let outputs = network.outputs
        var result: [Float] = []
        result.reserveCapacity(samples.count * outputs)
        for start in stride(from: 0, to: samples.count, by: configuration.batchSize) {
            let rows = Array(start..<min(start + configuration.batchSize, samples.count))
            try gather(rows, from: samples)
            let (logits, _) = network.forward(batch: rows.count, training: false)
            for row in rows.indices {
                let values = (0..<outputs).map { Double(logits[row * outputs + $0]) }
                switch task {
                case .multiLabel:
                    result += values.map { Float(1 / (1 + exp(-$0))) }
                case .multiClass:
                    let largest = values.max()!, exps = values.map { exp($0 - largest) }, sum = exps.reduce(0, +)
                    result += exps.map { Float($0 / sum) }
                }
            }
        }
        return result
    }

    /// The validation criterion of the current weights: macro AUROC (multi-label; negative loss
    /// when no label is computable) or negative cross-entropy (multi-class), with the loss.
    func scoreValidation() throws -> (loss: Double, score: Double) {
        let probabilities = try probabilities(validation)
        let loss = probeLoss(probabilities: probabilities, targets: validationTargets, task: task)
        guard case .multiLabel(let labels) = task else { return (loss, -loss) }
        let report = try rocAUC(targets: validationTargets, scores: probabilities.map(Double.init), labels: labels)
        return (loss, report.macro.value ?? -loss)
    }

    /// Trains until `maximumEpochs` or early stopping and restores the best validation weights.
    /// - Throws: what reading tokens or masks throws; `CancellationError` when `shouldStop` says so.
    public func fit(shouldStop: () throws -> Void = {}) throws -> PatchHeadTrainingResult {
        var best = -Double.infinity, bestEpoch = 0, bestSnapshot = network.parameters.snapshot()
        var history: [ProbeEpoch] = []
        var stoppedEarly = false
        for epoch in 1...configuration.maximumEpochs {
            try shouldStop()
            let rate = optimizer.learningRate
            let trainingLoss = try trainEpoch()
            let (validationLoss, score) = try scoreValidation()
            history.append(ProbeEpoch(epoch: epoch, trainingLoss: trainingLoss, validationLoss: validationLoss,
                                      validationScore: score, learningRate: rate))
            if score > best {
                best = score
                bestEpoch = epoch
                bestSnapshot = network.parameters.snapshot()
            }
            optimizer.learningRate = scheduler.record(score: score, learningRate: optimizer.learningRate)
            if epoch - bestEpoch >= configuration.earlyStoppingPatience {
                stoppedEarly = true
                break
            }
        }
        network.parameters.restore(bestSnapshot)
        network.parametersChanged()
        return PatchHeadTrainingResult(epochs: history, bestEpoch: bestEpoch, stoppedEarly: stoppedEarly)
    }
}

/// What a patch head's training did.
public struct PatchHeadTrainingResult: Sendable {
    /// Every epoch's losses, validation score and learning rate.
    public var epochs: [ProbeEpoch]
    /// The epoch whose weights were kept.
    public var bestEpoch: Int
    public var stoppedEarly: Bool
}
