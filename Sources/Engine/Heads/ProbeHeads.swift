import Evaluation
import Foundation
import Pipeline
import Tensor

/// The training settings both probe heads share, with the paper's defaults (section 2.3:
/// batch 64, Adam lr 1e-4, weight decay 1e-6, LR halved after 2 flat epochs, early stop after 10,
/// at most 500 epochs).
struct ProbeHeadSettings: Codable, Hashable {
    /// Hidden widths (empty for linear).
    var hidden: [Int]
    /// Dropout after each hidden layer.
    var dropout: Double
    var batchSize: Int
    var learningRate: Double
    var weightDecay: Double
    var maxEpochs: Int
    var earlyStopPatience: Int
    var plateauPatience: Int

    static let trainingFields: [SchemaField] = [
        SchemaField("batch_size", .integer(.atLeastOne)),
        SchemaField("learning_rate", .number(.positive)),
        SchemaField("weight_decay", .number(.nonNegative)),
        SchemaField("max_epochs", .integer(.atLeastOne)),
        SchemaField("early_stop_patience", .integer(.atLeastOne)),
        SchemaField("plateau_patience", .integer(.atLeastOne)),
    ]

    init(_ options: ComponentOptions, hidden: [Int], dropout: Double) throws {
        self.hidden = hidden
        self.dropout = dropout
        batchSize = try options.integer("batch_size") ?? 64
        learningRate = try options.number("learning_rate") ?? 1e-4
        weightDecay = try options.number("weight_decay") ?? 1e-6
        maxEpochs = try options.integer("max_epochs") ?? 500
        earlyStopPatience = try options.integer("early_stop_patience") ?? 10
        plateauPatience = try options.integer("plateau_patience") ?? 2
    }

    /// Trains the head these settings describe (`hidden` empty: logistic regression).
    func fit(_ problem: HeadProblem, context: StageContext) throws -> HeadFit {
        var configuration = ProbeTrainingConfiguration(seed: problem.seed)
        configuration.batchSize = batchSize
        configuration.learningRate = learningRate
        configuration.weightDecay = weightDecay
        configuration.maximumEpochs = maxEpochs
        configuration.earlyStoppingPatience = earlyStopPatience
        configuration.plateauPatience = plateauPatience
        let head: ProbeHead = hidden.isEmpty ? .linear : .mlp(hidden: hidden, dropout: dropout)
        try context.checkCancellation()
        let probe = try trainProbe(train: problem.train, validation: problem.validation, task: problem.task, head: head,
                                   configuration: configuration, threads: context.threads)
        try context.checkCancellation()
        let probabilities = problem.test.count(width: problem.train.width) == 0 ? [] : try probe.probabilities(rows: problem.test)
        return HeadFit(probabilities: probabilities, epochs: probe.epochs.count, bestEpoch: probe.bestEpoch, stoppedEarly: probe.stoppedEarly,
                       weights: ["parameters": Tensor(shape: [probe.network.parameters.count], scalars: probe.network.parameters)],
                       metadata: ["layer_sizes": probe.network.layerSizes.map(String.init).joined(separator: ","),
                                  "best_epoch": String(probe.bestEpoch)],
                       curve: probe.epochs, validationMetric: probe.criterion == .macroAUROC ? "auroc" : "negative-loss")
    }

    static func decode(_ settings: ParameterValue) throws -> ProbeHeadSettings {
        do {
            return try settings.decode(ProbeHeadSettings.self)
        } catch {
            throw RunnerError.artifact(path: "probe head settings", problem: "do not decode (\(error))")
        }
    }
}

/// `mlp`: the paper's probe head, linear layers of the `hidden` widths (default 512, 256) with
/// ReLU and dropout (default 0.2) between them, then a linear output layer.
public struct MLPHead: HeadKind {
    public var name: String { "mlp" }
    public var summary: String { "the paper's MLP probe: hidden layers with ReLU and dropout, Adam, LR plateau, early stopping" }
    public var options: [SchemaField] {
        [SchemaField("hidden", .list(.integer(.atLeastOne))), SchemaField("dropout", .number(.probability))] + ProbeHeadSettings.trainingFields
    }

    /// Creates the head kind.
    public init() {}

    public func settings(_ options: ComponentOptions) throws -> ParameterValue {
        try ParameterValue(encoding: ProbeHeadSettings(options, hidden: try options.values["hidden"].map { value in
            guard let widths = value.listValue?.compactMap(\.integerValue) else { throw options.bad("hidden", value, "expected a list of widths") }
            return widths
        } ?? [512, 256], dropout: try options.number("dropout") ?? 0.2))
    }

    public func fit(_ problem: HeadProblem, settings: ParameterValue, context: StageContext) throws -> HeadFit {
        try ProbeHeadSettings.decode(settings).fit(problem, context: context)
    }
}

/// `linear`: logistic (softmax) regression on the features, trained like the MLP.
public struct LinearHead: HeadKind {
    public var name: String { "linear" }
    public var summary: String { "logistic (softmax) regression on the features, trained like the MLP" }
    public var options: [SchemaField] { ProbeHeadSettings.trainingFields }

    /// Creates the head kind.
    public init() {}

    public func settings(_ options: ComponentOptions) throws -> ParameterValue {
        try ParameterValue(encoding: ProbeHeadSettings(options, hidden: [], dropout: 0))
    }

    public func fit(_ problem: HeadProblem, settings: ParameterValue, context: StageContext) throws -> HeadFit {
        try ProbeHeadSettings.decode(settings).fit(problem, context: context)
    }
}
