import Evaluation
import Foundation
import Pipeline
import Tensor

/// The three patch-token heads of the paper's Table 5, one registration each: `pe-conv`,
/// `multitask` and `multitask-plus` (see `PatchHeadArchitecture`). They read the embedding
/// store's `[h, w, D]` patch tokens instead of pooled rows; the multitask heads also read the
/// dataset's masks.
public struct PatchHeadKind: HeadKind, HeadDefinition {
    /// Which of the three.
    public enum Variant: String, Sendable, Codable, CaseIterable {
        case peConv = "pe-conv"
        case multitask
        case multitaskPlus = "multitask-plus"

        var defaultLayers: Int { self == .multitaskPlus ? 5 : 3 }
        /// Hidden width as a fraction of the token width, when `width` is not given.
        var defaultWidthDivisor: Int { self == .multitaskPlus ? 2 : 4 }
        var segments: Bool { self != .peConv }
    }

    public let variant: Variant
    public var name: String { variant.rawValue }
    public var summary: String {
        switch variant {
        case .peConv: "convolutions on patch tokens (1×1, 3×3, 1×1 with BN and ReLU), adaptive max (or average) pooling, linear classifier"
        case .multitask: "the pe-conv stack plus a linear segmentation branch on its feature map: BCE + dice_weight·Dice on images with masks"
        case .multitaskPlus: "five conv layers of half the token width, classifier + segmentation: BCE + Dice + structure loss (F3Net/PraNet)"
        }
    }

    public var options: [SchemaField] {
        var fields = [
            SchemaField("width", .integer(.atLeastOne)),
            SchemaField("layers", .integer(NumberRange(lower: 1, upper: 16))),
            SchemaField("pool", .string(choices: PatchPooling.allCases.map(\.rawValue))),
            SchemaField("classification_weight", .number(.nonNegative)),
        ]
        if variant.segments {
            fields += [
                SchemaField("dice_weight", .number(.nonNegative)),
                SchemaField("mask_size", .integer(NumberRange(lower: 4, upper: 1024))),
            ]
        }
        if variant == .multitaskPlus {
            fields += [SchemaField("structure_weight", .number(.nonNegative)), SchemaField("structure_kernel", .integer(.atLeastOne))]
        }
        return fields + TrainingSettings.fields
    }

    /// Creates the registration of `variant`.
    public init(_ variant: Variant) {
        self.variant = variant
    }

    /// `structure_kernel` must be odd (the window is centred on each pixel); the losses of a
    /// segmenting head must not all be zero.
    public func check(_ options: [String: ParameterValue]) -> [SpecProblem] {
        var problems: [SpecProblem] = []
        if let kernel = options["structure_kernel"]?.integerValue, kernel % 2 == 0 {
            problems.append(SpecProblem(at: "structure_kernel", "the structure loss's window is centred on each pixel, so its side must be odd (e.g. \(kernel + 1))"))
        }
        if options["classification_weight"]?.doubleValue == 0 {
            problems.append(SpecProblem(at: "classification_weight", "a classification head needs a classification loss; give a positive weight"))
        }
        return problems
    }

    public func embeddingOutputs(_ options: [String: ParameterValue]) -> EmbeddingOutputs {
        EmbeddingOutputs(patchTokens: true, layers: [])
    }

    public func needsMasks(_ options: [String: ParameterValue]) -> Bool {
        guard variant.segments else { return false }
        let dice = options["dice_weight"]?.doubleValue ?? 1
        let structure = variant == .multitaskPlus ? (options["structure_weight"]?.doubleValue ?? 1) : 0
        return dice > 0 || structure > 0
    }

    public func settings(_ options: ComponentOptions) throws -> ParameterValue {
        let structureKernel = try options.integer("structure_kernel") ?? 31
        guard structureKernel % 2 == 1 else { throw options.bad("structure_kernel", .integer(structureKernel), "must be odd") }
        let settings = PatchHeadSettings(
            variant: variant, width: try options.integer("width"), layers: try options.integer("layers") ?? variant.defaultLayers,
            pool: try options.string("pool").flatMap(PatchPooling.init(rawValue:)) ?? .max,
            classificationWeight: try options.number("classification_weight") ?? 1,
            diceWeight: variant.segments ? try options.number("dice_weight") ?? 1 : 0,
            structureWeight: variant == .multitaskPlus ? try options.number("structure_weight") ?? 1 : 0,
            structureKernel: structureKernel, maskSize: try options.integer("mask_size") ?? 64)
        // The trainer's training defaults do not depend on the architecture it is given.
        let defaults = PatchHeadTrainingConfiguration(architecture: PatchHeadArchitecture(channels: [1], kernels: [1], segmentation: false))
        return try ParameterValue(encoding: TrainedHeadSettings(head: settings, training: TrainingSettings(options, defaults: defaults)))
    }

    public func fit(_ problem: HeadProblem, settings: ParameterValue, context: StageContext) throws -> HeadFit {
        let resolved = try TrainedHeadSettings<PatchHeadSettings>.decode(settings, head: name)
        guard let tokens = problem.tokens else {
            throw RunnerError.artifact(path: context.stage.label, problem: "the \(name) head reads patch tokens, and the probe stage gave none")
        }
        var configuration = resolved.head.configuration(tokenWidth: tokens.train.grid.channels, seed: problem.seed)
        resolved.training.apply(to: &configuration)
        try context.checkCancellation()
        let trainer = try PatchHeadTrainer(configuration: configuration, task: problem.task, train: tokens.train,
                                           trainTargets: problem.train.targets, validation: tokens.validation,
                                           validationTargets: problem.validation.targets, threads: context.threads)
        let result = try trainer.fit(shouldStop: context.checkCancellation)
        try context.checkCancellation()
        let probabilities = tokens.test.count == 0 ? [] : try trainer.probabilities(tokens.test)
        // Only a trained segmentation branch has masks worth scoring (DicePos of multitask heads).
        let masks = configuration.needsMasks && tokens.test.count > 0 ? try trainer.maskPredictions(tokens.test) : nil
        return HeadFit(probabilities: probabilities, epochs: result.epochs.count, bestEpoch: result.bestEpoch,
                       stoppedEarly: result.stoppedEarly, weights: trainer.stateDictionary(),
                       metadata: ["channels": configuration.architecture.channels.map(String.init).joined(separator: ","),
                                  "kernels": configuration.architecture.kernels.map(String.init).joined(separator: ","),
                                  "best_epoch": String(result.bestEpoch)],
                       masks: masks)
    }
}

/// A patch head's settings apart from training (`TrainingSettings`, with the patch-head
/// trainer's defaults: batch 16, lr 1e-3, at most 100 epochs), every default filled in.
struct PatchHeadSettings: Codable, Hashable {
    var variant: PatchHeadKind.Variant
    /// Hidden width; nil for the variant's fraction of the token width.
    var width: Int?
    var layers: Int
    /// Pooling before the classifier (the paper's "adaptive pooling"; max by default).
    var pool: PatchPooling
    var classificationWeight: Double
    var diceWeight: Double
    var structureWeight: Double
    var structureKernel: Int
    var maskSize: Int

    /// The trainer's configuration for tokens `tokenWidth` wide (training defaults as they come).
    func configuration(tokenWidth: Int, seed: UInt64) -> PatchHeadTrainingConfiguration {
        let hidden = width ?? max(1, tokenWidth / variant.defaultWidthDivisor)
        var configuration = PatchHeadTrainingConfiguration(
            architecture: PatchHeadArchitecture(channels: Array(repeating: hidden, count: layers),
                                                kernels: PatchHeadArchitecture.kernels(layers: layers), segmentation: variant.segments,
                                                pooling: pool),
            seed: seed)
        configuration.classificationWeight = classificationWeight
        configuration.diceWeight = diceWeight
        configuration.structureWeight = structureWeight
        configuration.structureKernel = structureKernel
        configuration.maskSize = maskSize
        return configuration
    }
}
