import Random
import Tensor

/// Trains a probe head epoch by epoch: seeded shuffling, batches, forward, explicit backward,
/// Adam (each step split over `threads` by `ProbeStepper`); then validation scoring,
/// ReduceLROnPlateau, early stopping and best-weight keeping.
///
/// The thread count changes the speed, never the numbers. Not thread-safe (it owns scratch
/// buffers); one trainer per training run.
public final class ProbeTrainer {
    /// The task trained.
    public let task: ProbeTask
    /// The head kind.
    public let head: ProbeHead
    /// The settings.
    public let configuration: ProbeTrainingConfiguration
    /// The current network.
    public var network: ProbeNetwork { ProbeNetwork(layerSizes: layout.layerSizes, dropout: layout.dropout, parameters: parameters) }
    /// The current weights and biases, laid out as `ProbeNetwork.parameters`.
    var parameters: [Float] { stepper.currentParameters }
    /// The current learning rate.
    public var learningRate: Double { optimizer.learningRate }

    let train: ProbeData
    let validation: ProbeData
    let layout: ProbeLayout
    private let optimizer: AdamOptimizer
    private var scheduler: PlateauScheduler
    private let stepper: ProbeStepper
    private var generator: SeededGenerator
    private var order: [Int]
    private let floatTargets: [Float]
    private let classTargets: [Int32]
    private let gatherer: FeatureBatchGatherer
    private(set) var epochsDone = 0

    /// Prepares training.
    /// - Throws: `EvaluationError` for invalid data (NaN features, targets outside {0, 1} or the
    ///   class range, mismatched widths) or settings.
    /// - Parameter threads: how many threads each training step is split over (the engine grants
    ///   a probe stage one, since probes run side by side; the bench uses every core).
    public init(train: ProbeData, validation: ProbeData, task: ProbeTask, head: ProbeHead,
                configuration: ProbeTrainingConfiguration, threads: Int = 1) throws {
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
        optimizer = AdamOptimizer(parameterCount: initial.parameters.count, learningRate: configuration.learningRate,
                                  beta1: configuration.beta1, beta2: configuration.beta2, epsilon: configuration.epsilon,
                                  weightDecay: configuration.weightDecay)
        scheduler = PlateauScheduler(factor: configuration.plateauFactor, patience: configuration.plateauPatience)
        stepper = ProbeStepper(layout: layout, task: task, initialParameters: initial.parameters,
                               capacity: configuration.batchSize, threads: threads, optimizer: optimizer)
        generator = SeededGenerator(seed: configuration.seed, stream: stableHash("probe training"))
        order = Array(0..<train.count)
        gatherer = FeatureBatchGatherer(rows: train.rows, width: train.width, capacity: configuration.batchSize)
        if case .multiClass = task {
            floatTargets = []
            classTargets = train.targets.map { Int32($0) }
        } else {
            floatTargets = train.targets.map { Float($0) }
            classTargets = []
        }
    }

    /// Replaces the network's parameters (e.g. with given initial weights for a parity check).
    /// - Precondition: same count as the network's.
    func setParameters(_ parameters: [Float]) {
        stepper.setParameters(parameters)
    }

    /// One optimisation step on the training rows `rows` (gathered in that order); returns the loss.
    /// Without `deferUpdate`, the parameters are fully updated on return; with it, part of the
    /// update may wait for the next step (faster inside an epoch; `parameters` finishes it).
    /// - Throws: the feature reader's error when rows are read on demand.
    @discardableResult
    func step(rows: ArraySlice<Int>, dropout: Bool, deferUpdate: Bool = false) throws -> Double {
        let outputs = task.names.count
        switch task {
        case .multiLabel:
            for (position, row) in rows.enumerated() {
                for column in 0..<outputs { stepper.floatTargets[position * outputs + column] = floatTargets[row * outputs + column] }
            }
        case .multiClass:
            for (position, row) in rows.enumerated() { stepper.classTargets[position] = classTargets[row] }
        }
        let dropoutKey = dropout ? generator.next() : nil
        let loss = try rows.withUnsafeBufferPointer { rows in
            try gatherer.withBatch(rows) { rows, features in
                stepper.step(rows: rows, features: features, dropoutKey: dropoutKey)
            }
        }
        if !deferUpdate { stepper.finishPendingUpdate() }
        return loss
    }

    /// One pass over the training set in a fresh seeded order, batches of `batchSize` (the last
    /// one smaller), dropout on. Returns the mean of the batch losses.
    /// - Throws: the feature reader's error when rows are read on demand.
    public func trainEpoch() throws -> Double {
        generator.shuffle(&order)
        var total = 0.0, batches = 0
        for start in stride(from: 0, to: order.count, by: configuration.batchSize) {
            total += try step(rows: order[start..<min(start + configuration.batchSize, order.count)], dropout: true, deferUpdate: true)
            batches += 1
        }
        stepper.finishPendingUpdate()
        epochsDone += 1
        return total / Double(batches)
    }

    /// Lowers the learning rate when `score` has plateaued (ReduceLROnPlateau, mode max).
    func recordValidation(score: Double) {
        optimizer.learningRate = scheduler.record(score: score, learningRate: optimizer.learningRate)
    }
}
