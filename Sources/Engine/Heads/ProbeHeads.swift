import Evaluation
import Foundation
import Pipeline
import Tensor

/// The settings of the two probe heads apart from training (`TrainingSettings`, with the
/// paper's defaults, section 2.3: batch 64, Adam lr 1e-4, weight decay 1e-6, LR halved after 2
/// flat epochs, early stop after 10, at most 500 epochs).
struct ProbeHeadSettings: Codable, Hashable {
    /// Hidden widths (empty for linear).
    var hidden: [Int]
    /// Dropout after each hidden layer.
    var dropout: Double

    /// The settings value of a probe head: these and the training options.
    static func resolve(_ options: ComponentOptions, hidden: [Int], dropout: Double) throws -> ParameterValue {
        try ParameterValue(encoding: TrainedHeadSettings(
            head: ProbeHeadSettings(hidden: hidden, dropout: dropout),
            training: TrainingSettings(options, defaults: ProbeTrainingConfiguration())))
    }

    /// Trains the head `settings` describe (`hidden` empty: logistic regression).
    static func fit(_ problem: HeadProblem, settings: ParameterValue, context: StageContext) throws -> HeadFit {
        let resolved = try TrainedHeadSettings<ProbeHeadSettings>.decode(settings, head: "probe")
        var configuration = ProbeTrainingConfiguration(seed: problem.seed)
        resolved.training.apply(to: &configuration)
        let hidden = resolved.head.hidden
        let head: ProbeHead = hidden.isEmpty ? .linear : .mlp(hidden: hidden, dropout: resolved.head.dropout)
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
}

/// `mlp`: the paper's probe head, linear layers of the `hidden` widths (default 512, 256) with
/// ReLU and dropout (default 0.2) between them, then a linear output layer.
public struct MLPHead: HeadKind {
    public var name: String { "mlp" }
    public var summary: String { "the paper's MLP probe: hidden layers with ReLU and dropout, Adam, LR plateau, early stopping" }
    public var options: [SchemaField] {
        [SchemaField("hidden", .list(.integer(.atLeastOne))), SchemaField("dropout", .number(.probability))] + TrainingSettings.fields
    }

    /// Creates the head kind.
    public init() {}

    public func settings(_ options: ComponentOptions) throws -> ParameterValue {
        try ProbeHeadSettings.resolve(options, hidden: try options.values["hidden"].map { value in
            guard let widths = value.listValue?.compactMap(\.integerValue) else { throw options.bad("hidden", value, "expected a list of widths") }
            return widths
        } ?? [512, 256], dropout: try options.number("dropout") ?? 0.2)
    }

    public func fit(_ problem: HeadProblem, settings: ParameterValue, context: StageContext) throws -> HeadFit {
        try ProbeHeadSettings.fit(problem, settings: settings, context: context)
    }
}

/// `linear`: logistic (softmax) regression on the features, trained like the MLP.
public struct LinearHead: HeadKind {
    public var name: String { "linear" }
    public var summary: String { "logistic (softmax) regression on the features, trained like the MLP" }
    public var options: [SchemaField] { TrainingSettings.fields }

    /// Creates the head kind.
    public init() {}

    public func settings(_ options: ComponentOptions) throws -> ParameterValue {
        try ProbeHeadSettings.resolve(options, hidden: [], dropout: 0)
    }

    public func fit(_ problem: HeadProblem, settings: ParameterValue, context: StageContext) throws -> HeadFit {
        try ProbeHeadSettings.fit(problem, settings: settings, context: context)
    }
}
