import Tensor

/// How a segmentation decoder is trained (the paper's section 2.3.3 by default): Dice loss, batch
/// 8, Adam at 1e-4 halved when the validation Dice stops improving, at most 5,000 iterations with
/// early stopping.
///
/// Validation runs every `validationInterval` iterations (and after the last one); its score is
/// the mean Dice over classes and images of hard predictions (SIIM's convention for empty masks,
/// see SegmentationMetrics.swift). After more than `learningRatePatience` validations without
/// improvement the rate is multiplied by `learningRateFactor` (PyTorch's ReduceLROnPlateau,
/// mode "max"); after `earlyStoppingPatience` such validations training stops. The weights of the
/// best validation are kept. Each epoch visits the training samples in a fresh seeded order.
public struct SegmentationTrainingConfiguration: Sendable, Equatable {
    public var decoder: SegmentationDecoderKind
    public var activation: SegmentationActivation
    public var batchSize: Int
    public var learningRate: Double
    public var weightDecay: Double
    public var maximumIterations: Int
    public var validationInterval: Int
    public var learningRateFactor: Double
    public var learningRatePatience: Int
    public var earlyStoppingPatience: Int
    public var dice: DiceLossConfiguration
    /// Weight of the cross-entropy term added to Dice (0: Dice alone, as the paper).
    public var crossEntropyWeight: Double
    public var seed: UInt64

    public init(decoder: SegmentationDecoderKind = .linear, activation: SegmentationActivation = .sigmoid,
                batchSize: Int = 8, learningRate: Double = 1e-4, weightDecay: Double = 0, maximumIterations: Int = 5_000,
                validationInterval: Int = 100, learningRateFactor: Double = 0.5, learningRatePatience: Int = 2,
                earlyStoppingPatience: Int = 10, dice: DiceLossConfiguration = DiceLossConfiguration(),
                crossEntropyWeight: Double = 0, seed: UInt64 = 0) {
        self.decoder = decoder
        self.activation = activation
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.maximumIterations = maximumIterations
        self.validationInterval = validationInterval
        self.learningRateFactor = learningRateFactor
        self.learningRatePatience = learningRatePatience
        self.earlyStoppingPatience = earlyStoppingPatience
        self.dice = dice
        self.crossEntropyWeight = crossEntropyWeight
        self.seed = seed
    }

    func validate() throws {
        func check(_ condition: Bool, _ name: String, _ value: Any, _ reason: String) throws {
            if !condition { throw SegmentationError.invalidParameter(name: name, value: "\(value)", reason: reason) }
        }
        try check(batchSize > 0, "batch size", batchSize, "must be positive")
        try check(learningRate > 0 && learningRate.isFinite, "learning rate", learningRate, "must be positive")
        try check(weightDecay >= 0, "weight decay", weightDecay, "must be ≥ 0")
        try check(maximumIterations > 0, "maximum iterations", maximumIterations, "must be positive")
        try check(validationInterval > 0, "validation interval", validationInterval, "must be positive")
        try check(learningRateFactor > 0 && learningRateFactor < 1, "learning-rate factor", learningRateFactor, "must lie in (0, 1)")
        try check(learningRatePatience >= 0, "learning-rate patience", learningRatePatience, "must be ≥ 0")
        try check(earlyStoppingPatience > 0, "early-stopping patience", earlyStoppingPatience, "must be positive")
        try check(crossEntropyWeight >= 0, "cross-entropy weight", crossEntropyWeight, "must be ≥ 0")
        try check(dice.smoothDenominator > 0, "Dice denominator smoothing", dice.smoothDenominator, "must be positive")
        if case let .upernet(configuration) = decoder { try configuration.validate() }
    }
}

/// What training did.
public struct SegmentationTrainingResult: Sendable, Equatable {
    /// Iterations run (early stopping may end before the maximum).
    public let iterations: Int
    /// The best validation mean Dice, and the iteration it was reached at.
    public let bestValidationDice: Double
    public let bestIteration: Int
    /// Per validation: iteration, mean training loss since the last validation, validation mean
    /// Dice, and the learning rate used up to it.
    public let history: [SegmentationValidationRecord]
}

/// One validation pass during training.
public struct SegmentationValidationRecord: Sendable, Equatable {
    public let iteration: Int
    public let trainingLoss: Double
    public let validationDice: Double
    public let learningRate: Double
}
