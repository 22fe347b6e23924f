/// One test score: a sample (or study, after aggregation), a label, the predicted probability
/// and the true value (0/1; for multi-class, 1 for the true class), as stored in the results.
public struct ProbePrediction: Sendable, Codable, Equatable {
    /// Sample id, or study id after `aggregateByStudy`.
    public var sampleID: String
    /// Label or class name.
    public var label: String
    /// Predicted probability.
    public var score: Double
    /// True value, 0 or 1.
    public var target: Double

    /// Creates a prediction row.
    public init(sampleID: String, label: String, score: Double, target: Double) {
        self.sampleID = sampleID
        self.label = label
        self.score = score
        self.target = target
    }
}

/// Per-sample test predictions of a trained probe, one row per sample and label (or class),
/// samples in data order, labels in task order.
/// - Throws: `EvaluationError` for invalid test data.
public func probePredictions(_ probe: TrainedProbe, on data: ProbeData) throws -> [ProbePrediction] {
    try data.validate(task: probe.task, part: "test")
    let probabilities = try probe.probabilities(features: data.features)
    let names = probe.task.names
    var rows: [ProbePrediction] = []
    rows.reserveCapacity(data.count * names.count)
    for sample in 0..<data.count {
        for (column, name) in names.enumerated() {
            let target: Double
            switch probe.task {
            case .multiLabel: target = data.targets[sample * names.count + column]
            case .multiClass: target = data.targets[sample] == Double(column) ? 1 : 0
            }
            rows.append(ProbePrediction(sampleID: data.sampleIDs[sample], label: name,
                                        score: Double(probabilities[sample * names.count + column]), target: target))
        }
    }
    return rows
}

/// Study-level predictions (as for MURA): per study and label, the mean of the image
/// probabilities; the study's target is 1 when any of its images is positive for the label.
/// Studies appear in order of first appearance, labels in their original order.
/// - Parameter studyOfSample: study id of every sample id in `predictions`.
/// - Throws: `EvaluationError.invalidAttribute` when a sample has no study.
public func aggregateByStudy(_ predictions: [ProbePrediction], studyOfSample: [String: String]) throws -> [ProbePrediction] {
    struct Key: Hashable { let study: String, label: String }
    var order: [Key] = []
    var sums: [Key: (score: Double, target: Double, count: Int)] = [:]
    for prediction in predictions {
        guard let study = studyOfSample[prediction.sampleID] else {
            throw EvaluationError.invalidAttribute(sampleID: prediction.sampleID, attribute: "study", value: nil,
                                                   reason: "study-level aggregation needs a study id for every sample")
        }
        let key = Key(study: study, label: prediction.label)
        if let current = sums[key] {
            sums[key] = (current.score + prediction.score, max(current.target, prediction.target), current.count + 1)
        } else {
            order.append(key)
            sums[key] = (prediction.score, prediction.target, 1)
        }
    }
    return order.map { key in
        let sum = sums[key]!
        return ProbePrediction(sampleID: key.study, label: key.label, score: sum.score / Double(sum.count), target: sum.target)
    }
}

/// Test metrics of a set of predictions.
public struct ProbeTestMetrics: Sendable, Equatable {
    /// Per-label and macro AUROC (one-vs-rest per class for multi-class).
    public var auroc: AUROCReport
    /// MCC: multi-class from the arg-max class; binary (one label) at probability 0.5;
    /// not computable for several independent labels.
    public var mcc: MetricValue
    /// Accuracy under the same decision rule as `mcc`.
    public var accuracy: MetricValue
}

/// AUROC, MCC and accuracy from prediction rows in the layout of `probePredictions` (each
/// sample's rows consecutive, labels in `task` order); works on study-level rows too.
///
/// - Parameter trainingSupport: the split's label support (`DatasetSplit.support`); labels the
///   training set could not train (one class only) are reported as not computable, with the
///   reason, and left out of the macro mean instead of scoring an untrained output.
/// - Throws: `EvaluationError` when the rows do not form complete samples × labels.
public func probeTestMetrics(_ predictions: [ProbePrediction], task: ProbeTask,
                             trainingSupport: [LabelSupport]? = nil) throws -> ProbeTestMetrics {
    let names = task.names
    guard !predictions.isEmpty else { throw EvaluationError.empty(what: "prediction list") }
    guard predictions.count % names.count == 0 else {
        throw EvaluationError.lengthMismatch(what: "prediction rows (samples × \(names.count) labels)",
                                             expected: (predictions.count / names.count + 1) * names.count, actual: predictions.count)
    }
    for (index, prediction) in predictions.enumerated() where prediction.label != names[index % names.count] {
        throw EvaluationError.invalidParameter(name: "prediction row \(index) label", value: prediction.label,
                                               reason: "expected '\(names[index % names.count])': rows must be grouped by sample in label order")
    }
    let targets = predictions.map(\.target), scores = predictions.map(\.score)
    var auroc = try rocAUC(targets: targets, scores: scores, labels: names)
    if let trainingSupport {
        for support in trainingSupport where !support.isTrainable {
            guard let column = names.firstIndex(of: support.label) else { continue }
            auroc.perLabel[column] = .notComputable(
                reason: "training set has \(support.positives) positive and \(support.negatives) negative samples for '\(support.label)'")
        }
        auroc.macro = macroMean(auroc.perLabel, metric: "AUROC")
    }
    let samples = predictions.count / names.count
    switch task {
    case .multiClass:
        let trueClasses = predictedClasses(scores: targets, classCount: names.count)
        let predicted = predictedClasses(scores: scores, classCount: names.count)
        return ProbeTestMetrics(
            auroc: auroc,
            mcc: .value(try matthewsCorrelation(targets: trueClasses, predictions: predicted, classCount: names.count)),
            accuracy: .value(try accuracy(targets: trueClasses, predictions: predicted, classCount: names.count)))
    case .multiLabel where names.count == 1:
        let trueClasses = targets.map { Int($0) }
        let predicted = predictedClasses(scores: scores, classCount: 1, threshold: 0.5)
        return ProbeTestMetrics(
            auroc: auroc,
            mcc: .value(try matthewsCorrelation(targets: trueClasses, predictions: predicted, classCount: 2)),
            accuracy: .value(try accuracy(targets: trueClasses, predictions: predicted, classCount: 2)))
    case .multiLabel:
        let reason = "MCC and accuracy are reported for binary or multi-class tasks, not \(names.count) independent labels over \(samples) samples"
        return ProbeTestMetrics(auroc: auroc, mcc: .notComputable(reason: reason), accuracy: .notComputable(reason: reason))
    }
}
