/// The kind of classifier trained on frozen embeddings.
public enum ProbeHead: Sendable, Codable, Equatable {
    /// The paper's head: linear layers of the given hidden widths with ReLU and dropout between
    /// them, then a linear output layer (default hidden widths 512 and 256, dropout 0.2).
    case mlp(hidden: [Int], dropout: Double)
    /// Logistic (softmax) regression: one linear layer.
    case linear

    /// The paper's default 3-layer MLP.
    public static let paperDefault = ProbeHead.mlp(hidden: [512, 256], dropout: 0.2)
}

/// What the head predicts.
public enum ProbeTask: Sendable, Codable, Equatable {
    /// Independent binary labels (binary classification is one label): sigmoid outputs, BCE loss.
    case multiLabel([String])
    /// One of several classes: softmax outputs, cross-entropy loss.
    case multiClass([String])

    /// Label or class names.
    public var names: [String] {
        switch self {
        case let .multiLabel(names), let .multiClass(names): return names
        }
    }

    /// Values per sample in `ProbeData.targets`.
    var targetColumns: Int {
        switch self {
        case let .multiLabel(names): return names.count
        case .multiClass: return 1
        }
    }
}

/// Which embedding enters the probe.
public enum ProbeFeatures: String, Sendable, Codable, Equatable, CaseIterable {
    /// The [CLS] token.
    case cls
    /// The mean of the patch tokens.
    case meanPatch = "mean"
    /// [CLS] followed by the mean patch token.
    case clsAndMeanPatch = "cls+mean"
}

/// Builds the probe's row-major input matrix from per-sample CLS and mean-patch embeddings.
///
/// - Parameters:
///   - cls: row-major `[n, dimension]` CLS embeddings, when available.
///   - meanPatch: row-major `[n, dimension]` mean-pooled patch embeddings, when available.
///   - dimension: embedding width.
///   - selection: which of them to use.
/// - Returns: `[n, dimension]` (or `[n, 2·dimension]` for the concatenation) and its width.
/// - Throws: `EvaluationError` when a needed embedding is missing, has the wrong size, or holds NaN.
public func probeFeatures(cls: [Float]?, meanPatch: [Float]?, dimension: Int, selection: ProbeFeatures) throws -> (features: [Float], width: Int) {
    func require(_ matrix: [Float]?, _ name: String) throws -> [Float] {
        guard let matrix else {
            throw EvaluationError.invalidParameter(name: "probe features", value: selection.rawValue,
                                                   reason: "the embed stage did not store \(name) embeddings; re-run it with them enabled")
        }
        guard dimension > 0, matrix.count % dimension == 0 else {
            throw EvaluationError.lengthMismatch(what: "\(name) embeddings (multiple of dimension \(dimension))",
                                                 expected: (matrix.count / max(dimension, 1) + 1) * dimension, actual: matrix.count)
        }
        if let bad = matrix.firstIndex(where: { !$0.isFinite }) {
            throw EvaluationError.nonFiniteValue(what: "\(name) embedding of sample \(bad / dimension)", index: bad % dimension)
        }
        return matrix
    }
    switch selection {
    case .cls:
        return (try require(cls, "CLS"), dimension)
    case .meanPatch:
        return (try require(meanPatch, "mean patch"), dimension)
    case .clsAndMeanPatch:
        let first = try require(cls, "CLS"), second = try require(meanPatch, "mean patch")
        guard first.count == second.count else {
            throw EvaluationError.lengthMismatch(what: "mean patch embeddings", expected: first.count, actual: second.count)
        }
        var joined: [Float] = []
        joined.reserveCapacity(first.count * 2)
        for row in 0..<(first.count / dimension) {
            joined.append(contentsOf: first[(row * dimension)..<((row + 1) * dimension)])
            joined.append(contentsOf: second[(row * dimension)..<((row + 1) * dimension)])
        }
        return (joined, 2 * dimension)
    }
}

/// Training settings; the defaults are the paper's.
public struct ProbeTrainingConfiguration: Sendable, Codable, Equatable {
    /// Samples per step (the last batch of an epoch may be smaller).
    public var batchSize = 64
    /// Adam's initial learning rate.
    public var learningRate = 1e-4
    /// L2 penalty added to the gradient (PyTorch Adam's `weight_decay`).
    public var weightDecay = 1e-6
    /// Adam's β₁, β₂ and ε (PyTorch defaults).
    public var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    /// Learning-rate factor on a validation plateau.
    public var plateauFactor = 0.5
    /// Epochs without improvement tolerated before the learning rate drops (ReduceLROnPlateau).
    public var plateauPatience = 2
    /// Stop after this many epochs without a better validation score.
    public var earlyStoppingPatience = 10
    /// Upper bound on epochs.
    public var maximumEpochs = 500
    /// Seed of initialisation, shuffling and dropout masks.
    public var seed: UInt64 = 0

    /// The paper's settings with the given seed.
    public init(seed: UInt64 = 0) { self.seed = seed }

    func validate() throws {
        func check(_ ok: Bool, _ name: String, _ value: Any, _ reason: String) throws {
            if !ok { throw EvaluationError.invalidParameter(name: name, value: "\(value)", reason: reason) }
        }
        try check(batchSize >= 1, "batch size", batchSize, "must be at least 1")
        try check(learningRate > 0 && learningRate.isFinite, "learning rate", learningRate, "must be positive")
        try check(weightDecay >= 0, "weight decay", weightDecay, "must not be negative")
        try check(plateauFactor > 0 && plateauFactor < 1, "plateau factor", plateauFactor, "must lie in (0, 1)")
        try check(plateauPatience >= 0, "plateau patience", plateauPatience, "must not be negative")
        try check(earlyStoppingPatience >= 1, "early stopping patience", earlyStoppingPatience, "must be at least 1")
        try check(maximumEpochs >= 1, "maximum epochs", maximumEpochs, "must be at least 1")
    }
}
