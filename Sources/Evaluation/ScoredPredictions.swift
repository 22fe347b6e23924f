/// A classifier's test predictions, ready to score with any `ClassificationMetric`: one row per
/// sample (or study, after `aggregatedByStudy`), one column per output.
///
/// Outputs are the trained labels of a multi-label task (independent binary labels) or the
/// classes of a multi-class task (one label). Truths may be unknown (nil): a multi-label metric
/// is computed per label on the rows where that label is known, a multi-class metric on the rows
/// whose class is known. `ScoredPredictions+Scoring.swift` computes the values.
public struct ScoredPredictions: Sendable, Equatable {
    /// Sample ids (study ids after aggregation).
    public private(set) var ids: [String]
    /// The patient of each row, for patient-level bootstrap resampling.
    public private(set) var patientIDs: [String]
    /// Output names: trained labels, or classes.
    public let outputs: [String]
    /// Row-major `[rows, outputs]` probabilities.
    public private(set) var scores: [Double]
    /// Row-major `[rows, outputs]` truths: 0 or 1 (one-hot for multi-class), nil where unknown.
    public private(set) var targets: [Double?]
    /// Whether the outputs are the classes of one label rather than independent labels.
    public let isMulticlass: Bool
    /// The task's labels as the spec lists them: for multi-label, the trained outputs and the
    /// untrained labels; for multi-class, the one label.
    public let labels: [String]
    /// Labels the training set could not train, with why; they have no output.
    public let untrainedLabels: [String: String]

    /// Number of rows.
    public var count: Int { ids.count }

    /// Bundles and checks test predictions.
    ///
    /// - Parameters:
    ///   - ids: one id per row.
    ///   - patientIDs: the patient of each row.
    ///   - outputs: trained labels or classes; at least one.
    ///   - scores: row-major `[ids.count, outputs.count]`.
    ///   - targets: row-major `[ids.count, outputs.count]`, 0/1 or nil; a multi-class row is
    ///     either unknown in every column or one-hot.
    ///   - multiclass: whether `outputs` are classes.
    ///   - labels: the task's labels; for multi-class exactly one, for multi-label the outputs and
    ///     the untrained labels (default: the outputs).
    ///   - untrainedLabels: multi-label only: labels left out of training, with why.
    /// - Throws: `EvaluationError` when shapes, targets or labels do not fit together.
    public init(ids: [String], patientIDs: [String], outputs: [String], scores: [Double], targets: [Double?],
                multiclass: Bool, labels: [String]? = nil, untrainedLabels: [String: String] = [:]) throws {
        guard !outputs.isEmpty else { throw EvaluationError.empty(what: multiclass ? "class list" : "list of trained labels") }
        guard patientIDs.count == ids.count else {
            throw EvaluationError.lengthMismatch(what: "patient ids", expected: ids.count, actual: patientIDs.count)
        }
        let width = outputs.count
        guard scores.count == ids.count * width else {
            throw EvaluationError.lengthMismatch(what: "scores (rows × \(width) outputs)", expected: ids.count * width, actual: scores.count)
        }
        guard targets.count == ids.count * width else {
            throw EvaluationError.lengthMismatch(what: "targets (rows × \(width) outputs)", expected: ids.count * width, actual: targets.count)
        }
        for (index, target) in targets.enumerated() {
            guard let target, target != 0, target != 1 else { continue }
            throw EvaluationError.nonBinaryTarget(label: outputs[index % width], sampleIndex: index / width, value: target)
        }
        let labels = labels ?? outputs
        if multiclass {
            guard labels.count == 1, untrainedLabels.isEmpty else {
                throw EvaluationError.invalidParameter(name: "labels", value: labels.joined(separator: ", "),
                                                       reason: "a multi-class task scores exactly one label, with no untrained labels")
            }
            for row in ids.indices {
                let truths = targets[(row * width)..<((row + 1) * width)]
                let known = truths.compactMap { $0 }
                guard known.isEmpty || (known.count == width && known.filter { $0 == 1 }.count == 1) else {
                    throw EvaluationError.invalidAttribute(sampleID: ids[row], attribute: labels[0], value: nil,
                                                           reason: "a multi-class truth must be one-hot over \(width) classes, or unknown in every class")
                }
            }
        } else {
            let expected = Set(outputs).union(untrainedLabels.keys)
            guard Set(labels) == expected, labels.count == expected.count, Set(outputs).isDisjoint(with: untrainedLabels.keys) else {
                throw EvaluationError.invalidParameter(
                    name: "labels", value: labels.joined(separator: ", "),
                    reason: "must be the trained outputs (\(outputs.joined(separator: ", "))) and the untrained labels "
                        + "(\(untrainedLabels.keys.sorted().joined(separator: ", "))), each once")
            }
        }
        self.ids = ids
        self.patientIDs = patientIDs
        self.outputs = outputs
        self.scores = scores
        self.targets = targets
        self.isMulticlass = multiclass
        self.labels = labels
        self.untrainedLabels = untrainedLabels
    }

    /// The same predictions at study level (as for MURA): per study and output, the mean of the
    /// image probabilities; a study is positive for a label when any image with a known truth
    /// is, unknown when none is known. Studies come in order of first appearance; a study's
    /// patient is that of its first image.
    ///
    /// - Parameter studyIDs: the study of each row.
    /// - Throws: `EvaluationError.lengthMismatch` when there is not one study per row;
    ///   `EvaluationError.invalidAttribute` when the images of a multi-class study have different
    ///   known classes (a study has one truth).
    public func aggregatedByStudy(_ studyIDs: [String]) throws -> ScoredPredictions {
        guard studyIDs.count == count else {
            throw EvaluationError.lengthMismatch(what: "study ids", expected: count, actual: studyIDs.count)
        }
        var order: [String] = []
        var members: [String: [Int]] = [:]
        for (row, study) in studyIDs.enumerated() {
            if members[study] == nil { order.append(study) }
            members[study, default: []].append(row)
        }
        let width = outputs.count
        var aggregated = self
        aggregated.ids = order
        aggregated.patientIDs = order.map { patientIDs[members[$0]![0]] }
        aggregated.scores = []
        aggregated.targets = []
        aggregated.scores.reserveCapacity(order.count * width)
        aggregated.targets.reserveCapacity(order.count * width)
        for study in order {
            let rows = members[study]!
            if isMulticlass {
                let classes = Set(rows.compactMap { trueClass(row: $0) })
                guard classes.count <= 1 else {
                    throw EvaluationError.invalidAttribute(
                        sampleID: study, attribute: labels[0], value: classes.sorted().map { outputs[$0] }.joined(separator: ", "),
                        reason: "the images of a study have different classes; study-level scoring needs one class per study")
                }
            }
            for output in 0..<width {
                aggregated.scores.append(rows.reduce(0) { $0 + scores[$1 * width + output] } / Double(rows.count))
                aggregated.targets.append(rows.compactMap { targets[$0 * width + output] }.max())
            }
        }
        return aggregated
    }

    /// The predictions of `rows`, in that order, repeats kept (a bootstrap replicate's resample).
    /// - Precondition: every row is in `0..<count`.
    public func restricted(to rows: [Int]) -> ScoredPredictions {
        let width = outputs.count
        var restricted = self
        restricted.ids = rows.map { ids[$0] }
        restricted.patientIDs = rows.map { patientIDs[$0] }
        restricted.scores = []
        restricted.targets = []
        restricted.scores.reserveCapacity(rows.count * width)
        restricted.targets.reserveCapacity(rows.count * width)
        for row in rows {
            restricted.scores += scores[(row * width)..<((row + 1) * width)]
            restricted.targets += targets[(row * width)..<((row + 1) * width)]
        }
        return restricted
    }

    /// The scores and truths of `rows` for scoring only: ids and patients are left blank (the
    /// same count, empty text), which saves copying two strings per row of every replicate.
    func restrictedForScoring(to rows: [Int]) -> ScoredPredictions {
        let width = outputs.count
        var restricted = self
        restricted.ids = Array(repeating: "", count: rows.count)
        restricted.patientIDs = restricted.ids
        if width == 1 {
            restricted.scores = rows.map { scores[$0] }
            restricted.targets = rows.map { targets[$0] }
            return restricted
        }
        restricted.scores = []
        restricted.targets = []
        restricted.scores.reserveCapacity(rows.count * width)
        restricted.targets.reserveCapacity(rows.count * width)
        for row in rows {
            restricted.scores += scores[(row * width)..<((row + 1) * width)]
            restricted.targets += targets[(row * width)..<((row + 1) * width)]
        }
        return restricted
    }

    /// The true class of a multi-class row, or nil when unknown.
    func trueClass(row: Int) -> Int? {
        let width = outputs.count
        return (0..<width).first { targets[row * width + $0] == 1 }
    }
}
