/// One label's value of a metric.
public struct LabelScore: Sendable, Equatable {
    /// The label (for multi-class, the task's one label).
    public var label: String
    /// The value, or why there is none.
    public var value: MetricValue
    /// The samples it was computed on: those with a known truth (0 for an untrained label).
    public var sampleCount: Int

    /// Bundles a label's value.
    public init(label: String, value: MetricValue, sampleCount: Int) {
        self.label = label
        self.value = value
        self.sampleCount = sampleCount
    }
}

/// A metric on a set of test predictions: per label, and for the task as a whole.
public struct TaskScore: Sendable, Equatable {
    /// A label left out of the task-level mean, and why.
    public struct LeftOut: Sendable, Equatable {
        /// The label.
        public var label: String
        /// Why it has no value.
        public var reason: String
    }

    /// Multi-label: the trained labels in output order, then the untrained labels in task order
    /// (not computable, "not trained: ..."). Multi-class: the task's one label.
    public var labels: [LabelScore]
    /// The task-level value: the multi-class value, the one label's value, or the mean over the
    /// labels whose value is computable.
    public var value: MetricValue
    /// The samples behind `value`: for a mean, the rows with at least one known truth.
    public var sampleCount: Int
    /// Whether the task has several labels, so that `value` is a mean over them.
    public var isMeanOverLabels: Bool
    /// The labels a mean leaves out: the trained ones without a value (in output order), then
    /// the untrained ones (sorted). Empty unless `isMeanOverLabels`.
    public var leftOut: [LeftOut]

    /// Bundles a score.
    public init(labels: [LabelScore], value: MetricValue, sampleCount: Int, isMeanOverLabels: Bool, leftOut: [LeftOut]) {
        self.labels = labels
        self.value = value
        self.sampleCount = sampleCount
        self.isMeanOverLabels = isMeanOverLabels
        self.leftOut = leftOut
    }

    /// The score of a task that has no predictions to score (no probe could be trained, the test
    /// subgroup is empty): every label and the task-level value carry `reason`, on 0 samples.
    public static func notComputable(labels: [String], reason: String) -> TaskScore {
        TaskScore(labels: labels.map { LabelScore(label: $0, value: .notComputable(reason: reason), sampleCount: 0) },
                  value: .notComputable(reason: reason), sampleCount: 0, isMeanOverLabels: labels.count > 1, leftOut: [])
    }
}

extension ScoredPredictions {
    /// `metric` per label and for the task.
    ///
    /// Multi-label: the binary form per trained label on the rows where that label is known; the
    /// task-level value is the mean over the labels whose value is computable (a label with one
    /// class in the test rows has no AUROC and is left out, with its reason). Multi-class: the
    /// multi-class form on the rows whose class is known. A metric that throws gives a
    /// not-computable value carrying the error.
    /// - Complexity: that of `metric` on every label, plus O(rows × outputs).
    public func score(_ metric: some ClassificationMetric) -> TaskScore {
        if isMulticlass {
            let known = (0..<count).filter { targets[$0 * outputs.count] != nil }
            let value = multiclassValue(metric, rows: known)
            return TaskScore(labels: [LabelScore(label: labels[0], value: value, sampleCount: known.count)],
                             value: value, sampleCount: known.count, isMeanOverLabels: false, leftOut: [])
        }
        let trained = outputs.indices.map { binaryScore(metric, output: $0) }
        let untrained = labels.compactMap { label in
            untrainedLabels[label].map { LabelScore(label: label, value: .notComputable(reason: "not trained: " + $0), sampleCount: 0) }
        }
        let all = trained + untrained
        guard labels.count > 1 else {
            return TaskScore(labels: all, value: all[0].value, sampleCount: all[0].sampleCount, isMeanOverLabels: false, leftOut: [])
        }
        let leftOut = trained.compactMap { score -> TaskScore.LeftOut? in
            guard case .notComputable(let reason) = score.value else { return nil }
            return TaskScore.LeftOut(label: score.label, reason: reason)
        } + untrainedLabels.keys.sorted().map { TaskScore.LeftOut(label: $0, reason: "not trained: " + untrainedLabels[$0]!) }
        let value: MetricValue
        if trained.count == 1 {
            value = trained[0].value
        } else {
            let computable = trained.compactMap(\.value.value)
            value = computable.isEmpty ? .notComputable(reason: "no label has a computable \(metric.name)")
                                       : .value(computable.reduce(0, +) / Double(computable.count))
        }
        return TaskScore(labels: all, value: value, sampleCount: rowsWithAnyTarget, isMeanOverLabels: true, leftOut: leftOut)
    }

    /// Rows with at least one known truth (what a mean over labels is computed on).
    public var rowsWithAnyTarget: Int {
        let width = outputs.count
        return (0..<count).filter { row in (0..<width).contains { targets[row * width + $0] != nil } }.count
    }

    private func binaryScore(_ metric: some ClassificationMetric, output: Int) -> LabelScore {
        let width = outputs.count, label = outputs[output]
        var truths: [Double] = [], outputScores: [Double] = []
        for row in 0..<count {
            guard let target = targets[row * width + output] else { continue }
            truths.append(target)
            outputScores.append(scores[row * width + output])
        }
        guard !truths.isEmpty else {
            return LabelScore(label: label, value: .notComputable(reason: "no test sample has a known \(label)"), sampleCount: 0)
        }
        let value: MetricValue
        do {
            value = try metric.binaryValue(targets: truths, scores: outputScores, label: label)
        } catch {
            value = .notComputable(reason: "\(error)")
        }
        return LabelScore(label: label, value: value, sampleCount: truths.count)
    }

    private func multiclassValue(_ metric: some ClassificationMetric, rows: [Int]) -> MetricValue {
        guard !rows.isEmpty else { return .notComputable(reason: "no test sample has a known \(labels[0])") }
        let width = outputs.count
        do {
            return try metric.multiclassValue(trueClasses: rows.map { trueClass(row: $0)! },
                                              scores: rows.flatMap { scores[($0 * width)..<(($0 + 1) * width)] }, classes: outputs)
        } catch {
            return .notComputable(reason: "\(error)")
        }
    }
}
