import Foundation
import Tensor

/// The validation score that drives the learning-rate plateau, early stopping and the choice of
/// the kept weights (higher is better).
public enum ValidationCriterion: String, Sendable, Codable, Equatable {
    /// Macro AUROC over the labels computable on the validation set (multi-label default);
    /// falls back to the negative loss in an epoch where no label is computable.
    case macroAUROC
    /// Negative mean validation loss (multi-class default: smooth from the first epoch, where
    /// MCC or accuracy often sit still while the model predicts the majority class).
    case negativeLoss
}

/// One epoch of the validation curve.
public struct ProbeEpoch: Sendable, Codable, Equatable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Mean training loss over the epoch's batches (with dropout).
    public var trainingLoss: Double
    /// Mean validation loss (no dropout).
    public var validationLoss: Double
    /// The criterion's value on the validation set.
    public var validationScore: Double
    /// Learning rate used during the epoch.
    public var learningRate: Double
}

/// A trained head with its validation history.
public struct TrainedProbe: Sendable {
    /// The task.
    public var task: ProbeTask
    /// The head kind.
    public var head: ProbeHead
    /// The weights of the best validation epoch.
    public var network: ProbeNetwork
    /// Every epoch run.
    public var epochs: [ProbeEpoch]
    /// The epoch whose weights were kept (1-based).
    public var bestEpoch: Int
    /// The criterion used.
    public var criterion: ValidationCriterion
    /// Whether training ended by early stopping rather than the epoch limit.
    public var stoppedEarly: Bool

    /// Probabilities for row-major `[n, width]` features: `[n, labels]` sigmoids for multi-label,
    /// `[n, classes]` softmax rows for multi-class. No dropout.
    /// - Throws: `EvaluationError` for a width mismatch or non-finite features.
    public func probabilities(features: [Float]) throws -> [Float] {
        try probeProbabilities(layout: network.layout, parameters: network.parameters, task: task, features: .values(features))
    }

    /// Probabilities for feature rows held or read on demand (see `probabilities(features:)`),
    /// read chunk by chunk.
    /// - Throws: `EvaluationError` for a width mismatch or non-finite features; the reader's error.
    public func probabilities(rows: FeatureRows) throws -> [Float] {
        try probeProbabilities(layout: network.layout, parameters: network.parameters, task: task, features: rows)
    }
}

/// Trains a probe head as the paper does (defaults of `ProbeTrainingConfiguration`): each epoch
/// trains on seeded shuffled batches with dropout, scores the validation set, halves the learning
/// rate after `plateauPatience` flat epochs, keeps the best weights, and stops after
/// `earlyStoppingPatience` epochs without a strictly better score or at `maximumEpochs`.
///
/// - Parameters:
///   - criterion: the validation score; nil picks macro AUROC for multi-label, negative loss for multi-class.
///   - threads: threads per training step (speed only; the result is the same for any count).
/// - Throws: `EvaluationError` for invalid data or settings.
/// - Complexity: per epoch, O(train × parameters) for training and O(validation × parameters) for scoring.
public func trainProbe(
    train: ProbeData, validation: ProbeData, task: ProbeTask, head: ProbeHead = .paperDefault,
    configuration: ProbeTrainingConfiguration = ProbeTrainingConfiguration(), criterion: ValidationCriterion? = nil,
    threads: Int = 1
) throws -> TrainedProbe {
    let trainer = try ProbeTrainer(train: train, validation: validation, task: task, head: head, configuration: configuration,
                                   threads: threads)
    let criterion = criterion ?? { if case .multiClass = task { return .negativeLoss } else { return .macroAUROC } }()
    var epochs: [ProbeEpoch] = []
    var bestScore = -Double.infinity, bestEpoch = 0, bestParameters = trainer.parameters
    var stoppedEarly = false
    for epoch in 1...configuration.maximumEpochs {
        let learningRate = trainer.learningRate
        let trainingLoss = try trainer.trainEpoch()
        let (validationLoss, score) = try trainer.scoreValidation(criterion: criterion)
        epochs.append(ProbeEpoch(epoch: epoch, trainingLoss: trainingLoss, validationLoss: validationLoss,
                                 validationScore: score, learningRate: learningRate))
        if score > bestScore {
            bestScore = score
            bestEpoch = epoch
            bestParameters = trainer.parameters
        }
        trainer.recordValidation(score: score)
        if epoch - bestEpoch >= configuration.earlyStoppingPatience {
            stoppedEarly = true
            break
        }
    }
    let layout = trainer.layout
    return TrainedProbe(task: task, head: head,
                        network: ProbeNetwork(layerSizes: layout.layerSizes, dropout: layout.dropout, parameters: bestParameters),
                        epochs: epochs, bestEpoch: bestEpoch, criterion: criterion, stoppedEarly: stoppedEarly)
}

extension ProbeTrainer {
    /// Validation loss and criterion score of the current weights.
    func scoreValidation(criterion: ValidationCriterion) throws -> (loss: Double, score: Double) {
        let probabilities = try probeProbabilities(layout: layout, parameters: parameters, task: task, features: validation.rows)
        let loss = probeLoss(probabilities: probabilities, targets: validation.targets, task: task)
        switch criterion {
        case .negativeLoss:
            return (loss, -loss)
        case .macroAUROC:
            let labels = task.names
            let scores = probabilities.map(Double.init)
            let report: AUROCReport
            if case .multiClass = task {
                // One-vs-rest targets from class indices.
                let oneHot = validation.targets.flatMap { target in labels.indices.map { Double($0) == target ? 1.0 : 0.0 } }
                report = try rocAUC(targets: oneHot, scores: scores, labels: labels)
            } else {
                report = try rocAUC(targets: validation.targets, scores: scores, labels: labels)
            }
            return (loss, report.macro.value ?? -loss)
        }
    }
}

/// Mean loss from probabilities (clamped away from 0 so a saturated output costs a large but
/// finite amount): BCE averaged over all entries, or cross-entropy averaged over rows.
func probeLoss(probabilities: [Float], targets: [Double], task: ProbeTask) -> Double {
    let tiny = 1e-12
    switch task {
    case .multiLabel:
        var total = 0.0
        for (probability, target) in zip(probabilities, targets) {
            let p = min(max(Double(probability), tiny), 1 - tiny)
            total -= target * log(p) + (1 - target) * log(1 - p)
        }
        return total / Double(max(targets.count, 1))
    case let .multiClass(names):
        var total = 0.0
        for (row, target) in targets.enumerated() {
            total -= log(max(Double(probabilities[row * names.count + Int(target)]), tiny))
        }
        return total / Double(max(targets.count, 1))
    }
}

/// Batched inference without dropout, in fixed chunks of rows with OpenBLAS at one thread per
/// call: OpenBLAS's sums depend on how it splits a call over its threads, and the validation
/// scores drive training, so they must not depend on the process-wide thread count.
func probeProbabilities(layout: ProbeLayout, parameters: [Float], task: ProbeTask, features: FeatureRows) throws -> [Float] {
    let width = layout.layerSizes[0], outputs = layout.layerSizes.last!
    switch features {
    case .values(let values):
        guard values.count % width == 0 else {
            throw EvaluationError.lengthMismatch(what: "probe features (multiple of width \(width))",
                                                 expected: (values.count / width + 1) * width, actual: values.count)
        }
    case .reader(let reader):
        guard reader.width == width else {
            throw EvaluationError.lengthMismatch(what: "probe feature width", expected: width, actual: reader.width)
        }
    }
    let rows = features.count(width: width)
    let chunk = FeatureRows.chunkRows
    let workspace = ProbeWorkspace(layerSizes: layout.layerSizes, capacity: min(chunk, max(rows, 1)))
    var result = [Float](repeating: 0, count: rows * outputs)
    try BLASBackend.withSingleThreadedCalls {
        try parameters.withUnsafeBufferPointer { parameters in
            try result.withUnsafeMutableBufferPointer { result in
                try features.forEachChunk(width: width) { range, chunkFeatures in
                    let start = range.lowerBound, count = range.count
                    for index in 0..<(count * width) where !chunkFeatures[index].isFinite {
                        throw EvaluationError.nonFiniteValue(what: "probe features of sample \(start + index / width)", index: index % width)
                    }
                    workspace.input.update(from: chunkFeatures, count: count * width)
                    let logits = workspace.forward(layout, parameters: parameters.baseAddress!, rows: count)
                    let destination = result.baseAddress! + start * outputs
                    switch task {
                    case .multiLabel:
                        for index in 0..<(count * outputs) { destination[index] = Gradients.sigmoid(logits[index]) }
                    case .multiClass:
                        for row in 0..<count {
                            let rowLogits = logits + row * outputs, rowOut = destination + row * outputs
                            var largest = rowLogits[0]
                            for column in 1..<max(outputs, 1) { largest = max(largest, rowLogits[column]) }
                            var sum: Float = 0
                            for column in 0..<outputs {
                                rowOut[column] = exp(rowLogits[column] - largest)
                                sum += rowOut[column]
                            }
                            for column in 0..<outputs { rowOut[column] /= sum }
                        }
                    }
                }
            }
        }
    }
    return result
}
