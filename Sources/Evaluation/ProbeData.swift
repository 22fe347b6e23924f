/// Features and targets of one part of a split, as the probe consumes them.
public struct ProbeData: Sendable {
    /// The `[count, width]` feature rows: in memory, or read on demand from mapped files.
    public var rows: FeatureRows
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
        self.init(rows: .values(features), width: width, targets: targets, sampleIDs: sampleIDs, studyIDs: studyIDs)
    }

    /// Bundles feature rows (e.g. a reader over embedding shards) and targets.
    public init(rows: FeatureRows, width: Int, targets: [Double], sampleIDs: [String], studyIDs: [String]? = nil) {
        self.rows = rows
        self.width = width
        self.targets = targets
        self.sampleIDs = sampleIDs
        self.studyIDs = studyIDs
    }

    /// Row-major `[count, width]` features (see `probeFeatures`): the values in memory, or a copy
    /// of every row read (an empty array when a row cannot be read); setting replaces the rows.
    public var features: [Float] {
        get { (try? rows.allValues(width: width)) ?? [] }
        set { rows = .values(newValue) }
    }

    /// Number of samples.
    public var count: Int { sampleIDs.count }

    /// Checks shapes, finiteness and target values against the task.
    /// - Throws: `EvaluationError` naming the part, sample and problem.
    func validate(task: ProbeTask, part: String) throws {
        guard count > 0 else { throw EvaluationError.empty(what: "\(part) set of the probe") }
        switch rows {
        case .values(let features):
            guard width > 0, features.count == count * width else {
                throw EvaluationError.lengthMismatch(what: "\(part) features (samples × width \(width))", expected: count * width, actual: features.count)
            }
        case .reader(let reader):
            guard width > 0, reader.width == width, reader.count == count else {
                throw EvaluationError.lengthMismatch(what: "\(part) features (samples × width \(width))", expected: count * width,
                                                     actual: reader.count * reader.width)
            }
        }
        if let bad = try rows.firstNonFinite(width: width) {
            throw EvaluationError.nonFiniteValue(what: "\(part) embedding of sample '\(sampleIDs[bad.row])'", index: bad.column)
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
