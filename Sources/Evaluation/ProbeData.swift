/// Features and targets of one part of a split, as the probe consumes them.
public struct ProbeData: Sendable {
    /// Row-major `[count, width]` features (see `probeFeatures`).
    public var features: [Float]
    /// Feature width.
    public var width: Int
    /// Multi-label: row-major `[count, labels]` of 0/1. Multi-class: `[count]` class indices.
    public var targets: [Double]
    /// One id per sample (for per-sample predictions).
    public var sampleIDs: [String]
    /// Study of each sample, for study-level aggregation; nil when not needed.
    public var studyIDs: [String]?

    /// Bundles features and targets.
    public init(features: [Float], width: Int, targets: [Double], sampleIDs: [String], studyIDs: [String]? = nil) {
        self.features = features
        self.width = width
        self.targets = targets
        self.sampleIDs = sampleIDs
        self.studyIDs = studyIDs
    }

    /// Number of samples.
    public var count: Int { sampleIDs.count }

    /// Checks shapes, finiteness and target values against the task.
    /// - Throws: `EvaluationError` naming the part, sample and problem.
    func validate(task: ProbeTask, part: String) throws {
        guard count > 0 else { throw EvaluationError.empty(what: "\(part) set of the probe") }
        guard width > 0, features.count == count * width else {
            throw EvaluationError.lengthMismatch(what: "\(part) features (samples × width \(width))", expected: count * width, actual: features.count)
        }
        if let bad = features.firstIndex(where: { !$0.isFinite }) {
            throw EvaluationError.nonFiniteValue(what: "\(part) embedding of sample '\(sampleIDs[bad / width])'", index: bad % width)
        }
        guard targets.count == count * task.targetColumns else {
            throw EvaluationError.lengthMismatch(what: "\(part) targets", expected: count * task.targetColumns, actual: targets.count)
        }
        if let studyIDs, studyIDs.count != count {
            throw EvaluationError.lengthMismatch(what: "\(part) study ids", expected: count, actual: studyIDs.count)
        }
        switch task {
        case let .multiLabel(names):
            for (index, value) in targets.enumerated() where value != 0 && value != 1 {
                throw EvaluationError.nonBinaryTarget(label: names[index % names.count], sampleIndex: index / names.count, value: value)
            }
        case let .multiClass(names):
            for (index, value) in targets.enumerated() {
                guard let classIndex = Int(exactly: value), names.indices.contains(classIndex) else {
                    throw EvaluationError.invalidClassIndex(sampleIndex: index, value: value.isFinite ? Int(value) : -1, classCount: names.count)
                }
            }
        }
    }
}
