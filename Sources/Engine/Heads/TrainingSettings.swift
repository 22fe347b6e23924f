import Evaluation
import Pipeline

/// What every trainer of a head is configured by beyond its architecture: the probe trainer's
/// and the patch-head trainer's configurations both conform.
protocol HeadTrainingSchedule {
    var batchSize: Int { get set }
    var learningRate: Double { get set }
    var weightDecay: Double { get set }
    var maximumEpochs: Int { get set }
    var earlyStoppingPatience: Int { get set }
    var plateauPatience: Int { get set }
}

extension ProbeTrainingConfiguration: HeadTrainingSchedule {}
extension PatchHeadTrainingConfiguration: HeadTrainingSchedule {}

/// The training options every trained head takes (`batch_size`, `learning_rate`,
/// `weight_decay`, `max_epochs`, `early_stop_patience`, `plateau_patience`), resolved with the
/// head's trainer's defaults: one set of fields, one parse, one place they reach a trainer.
struct TrainingSettings: Codable, Hashable {
    var batchSize: Int
    var learningRate: Double
    var weightDecay: Double
    var maxEpochs: Int
    var earlyStopPatience: Int
    var plateauPatience: Int

    /// The options' fields, for a head kind's `options`.
    static let fields: [SchemaField] = [
        SchemaField("batch_size", .integer(.atLeastOne)),
        SchemaField("learning_rate", .number(.positive)),
        SchemaField("weight_decay", .number(.nonNegative)),
        SchemaField("max_epochs", .integer(.atLeastOne)),
        SchemaField("early_stop_patience", .integer(.atLeastOne)),
        SchemaField("plateau_patience", .integer(.atLeastOne)),
    ]

    /// The options given, the rest from `defaults` (the trainer's configuration as it comes).
    /// - Throws: `RunnerError` for an option of the wrong type.
    init(_ options: ComponentOptions, defaults: some HeadTrainingSchedule) throws {
        batchSize = try options.integer("batch_size") ?? defaults.batchSize
        learningRate = try options.number("learning_rate") ?? defaults.learningRate
        weightDecay = try options.number("weight_decay") ?? defaults.weightDecay
        maxEpochs = try options.integer("max_epochs") ?? defaults.maximumEpochs
        earlyStopPatience = try options.integer("early_stop_patience") ?? defaults.earlyStoppingPatience
        plateauPatience = try options.integer("plateau_patience") ?? defaults.plateauPatience
    }

    /// Sets these values in a trainer's configuration.
    func apply(to configuration: inout some HeadTrainingSchedule) {
        configuration.batchSize = batchSize
        configuration.learningRate = learningRate
        configuration.weightDecay = weightDecay
        configuration.maximumEpochs = maxEpochs
        configuration.earlyStoppingPatience = earlyStopPatience
        configuration.plateauPatience = plateauPatience
    }
}

/// A head's own settings and its training settings, encoded side by side in one object (the
/// fields of both at the same level, as they were when each head declared the training fields
/// itself), so the settings, and the probe keys they enter, are unchanged.
struct TrainedHeadSettings<Head: Codable & Hashable>: Codable, Hashable {
    var head: Head
    var training: TrainingSettings

    init(head: Head, training: TrainingSettings) {
        self.head = head
        self.training = training
    }

    init(from decoder: any Decoder) throws {
        head = try Head(from: decoder)
        training = try TrainingSettings(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {
        try head.encode(to: encoder)
        try training.encode(to: encoder)
    }

    /// Decodes a head's settings value (what `HeadKind.settings` made).
    /// - Throws: `RunnerError.artifact` naming the head when they do not decode.
    static func decode(_ settings: ParameterValue, head name: String) throws -> Self {
        do {
            return try settings.decode(Self.self)
        } catch {
            throw RunnerError.artifact(path: "\(name) head settings", problem: "do not decode (\(error))")
        }
    }
}
