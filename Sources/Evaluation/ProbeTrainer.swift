import Tensor

/// Trains a probe head epoch by epoch: seeded shuffling, batches, forward, explicit backward,
/// fused Adam; then validation scoring, ReduceLROnPlateau, early stopping and best-weight keeping.
///
/// Not thread-safe (it owns scratch buffers); one trainer per training run.
public final class ProbeTrainer {
    /// The task trained.
    public let task: ProbeTask
    /// The head kind.
    public let head: ProbeHead
    /// The settings.
    public let configuration: ProbeTrainingConfiguration
    /// The current network.
    public var network: ProbeNetwork { ProbeNetwork(layerSizes: layout.layerSizes, dropout: layout.dropout, parameters: parameters) }
    /// The current learning rate.
    public var learningRate: Double { optimizer.learningRate }

    let train: ProbeData
    let validation: ProbeData
    let layout: ProbeLayout
    private(set) var parameters: [Float]
    private var optimizer: AdamOptimizer
    private var scheduler: PlateauScheduler
    private let workspace: ProbeWorkspace
    private var generator: SeededGenerator
    private var order: [Int]
    private let floatTargets: [Float]
    private let classTargets: [Int32]
    private var batchTargets: [Float]
    private var batchClasses: [Int32]
    private(set) var epochsDone = 0

    /// Prepares training.
    /// - Throws: `EvaluationError` for invalid data (NaN features, targets outside {0, 1} or the
    ///   class range, mismatched widths) or settings.
    public init(train: ProbeData, validation: ProbeData, task: ProbeTask, head: ProbeHead,
                configuration: ProbeTrainingConfiguration) throws {
        try configuration.validate()
        try train.validate(task: task, part: "training")
        try validation.validate(task: task, part: "validation")
        guard validation.width == train.width else {
            throw EvaluationError.lengthMismatch(what: "validation feature width", expected: train.width, actual: validation.width)
        }
        var dropout: Float = 0
        if case let .mlp(hidden, probability) = head {
            guard hidden.allSatisfy({ $0 > 0 }) else {
                throw EvaluationError.invalidParameter(name: "hidden sizes", value: "\(hidden)", reason: "must be positive")
            }
            guard probability >= 0, probability < 1 else {
                throw EvaluationError.invalidParameter(name: "dropout", value: "\(probability)", reason: "must lie in [0, 1)")
            }
            dropout = Float(probability)
        }
        guard !task.names.isEmpty else { throw EvaluationError.empty(what: "label list of the probe") }
        self.task = task
        self.head = head
        self.configuration = configuration
        self.train = train
        self.validation = validation
        let sizes = ProbeNetwork.layerSizes(head: head, inputWidth: train.width, outputs: task.names.count)
        let initial = ProbeNetwork(layerSizes: sizes, dropout: dropout, seed: configuration.seed)
        layout = initial.layout
        parameters = initial.parameters
        optimizer = AdamOptimizer(parameterCount: parameters.count, learningRate: configuration.learningRate,
                                  beta1: configuration.beta1, beta2: configuration.beta2, epsilon: configuration.epsilon,
                                  weightDecay: configuration.weightDecay)
        scheduler = PlateauScheduler(factor: configuration.plateauFactor, patience: configuration.plateauPatience)
        workspace = ProbeWorkspace(layerSizes: sizes, capacity: configuration.batchSize)
        generator = SeededGenerator(seed: configuration.seed, stream: stableHash("probe training"))
        order = Array(0..<train.count)
        if case .multiClass = task {
            floatTargets = []
            classTargets = train.targets.map { Int32($0) }
        } else {
            floatTargets = train.targets.map { Float($0) }
            classTargets = []
        }
        batchTargets = [Float](repeating: 0, count: configuration.batchSize * task.names.count)
        batchClasses = [Int32](repeating: 0, count: configuration.batchSize)
    }

    /// Replaces the network's parameters (e.g. with given initial weights for a parity check).
    /// - Precondition: same count as the network's.
    func setParameters(_ parameters: [Float]) {
        precondition(parameters.count == self.parameters.count, "parameter count mismatch")
        self.parameters = parameters
    }

    /// One optimisation step on the training rows `rows` (gathered in that order); returns the loss.
    @discardableResult
    func step(rows: ArraySlice<Int>, dropout: Bool) -> Double {
        let count = rows.count, width = train.width, outputs = task.names.count
        train.features.withUnsafeBufferPointer { features in
            for (position, row) in rows.enumerated() {
                (workspace.input + position * width).update(from: features.baseAddress! + row * width, count: width)
            }
        }
        var loss = 0.0
        let network = layout
        parameters.withUnsafeMutableBufferPointer { parameters in
            let parameters = parameters.baseAddress!
            let logits = withUnsafeMutablePointer(to: &generator) { generator in
                workspace.forward(network, parameters: parameters, rows: count, dropoutGenerator: dropout ? generator : nil)
            }
            let logitsGradient = workspace.outputGradients[network.layerCount - 1]
            switch task {
            case .multiLabel:
                batchTargets.withUnsafeMutableBufferPointer { batch in
                    for (position, row) in rows.enumerated() {
                        for column in 0..<outputs { batch[position * outputs + column] = floatTargets[row * outputs + column] }
                    }
                    loss = Gradients.binaryCrossEntropyWithLogits(logits: logits, targets: batch.baseAddress!,
                                                                  count: count * outputs, gradient: logitsGradient)
                }
            case .multiClass:
                batchClasses.withUnsafeMutableBufferPointer { batch in
                    for (position, row) in rows.enumerated() { batch[position] = classTargets[row] }
                    loss = Gradients.softmaxCrossEntropy(logits: logits, rows: count, classes: outputs,
                                                         targets: batch.baseAddress!, gradient: logitsGradient)
                }
            }
            workspace.backward(network, parameters: parameters, rows: count, usedDropout: dropout)
            optimizer.update(parameters: parameters, gradients: workspace.parameterGradients, count: workspace.parameterCount)
        }
        return loss
    }

    /// One pass over the training set in a fresh seeded order, batches of `batchSize` (the last
    /// one smaller), dropout on. Returns the mean of the batch losses.
    public func trainEpoch() -> Double {
        generator.shuffle(&order)
        var total = 0.0, batches = 0
        for start in stride(from: 0, to: order.count, by: configuration.batchSize) {
            total += step(rows: order[start..<min(start + configuration.batchSize, order.count)], dropout: true)
            batches += 1
        }
        epochsDone += 1
        return total / Double(batches)
    }

    /// Lowers the learning rate when `score` has plateaued (ReduceLROnPlateau, mode max).
    func recordValidation(score: Double) {
        optimizer.learningRate = scheduler.record(score: score, learningRate: optimizer.learningRate)
    }
}
