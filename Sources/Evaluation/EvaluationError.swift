/// A problem with the data or parameters handed to an evaluation stage.
///
/// Every case names what is wrong and what to do about it, so the message can go straight into
/// a run log or a stage's error column.
public enum EvaluationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A target that must be 0 or 1 had another value.
    case nonBinaryTarget(label: String, sampleIndex: Int, value: Double)
    /// A multi-class target was not an integer class index in range.
    case invalidClassIndex(sampleIndex: Int, value: Int, classCount: Int)
    /// A score, probability or embedding value was NaN or infinite.
    case nonFiniteValue(what: String, index: Int)
    /// Two inputs that must describe the same samples have different lengths.
    case lengthMismatch(what: String, expected: Int, actual: Int)
    /// An input that must not be empty was empty.
    case empty(what: String)
    /// A training fraction outside (0, 1].
    case invalidFraction(Double)
    /// A subgroup filter matched no sample.
    case emptySubgroup(filter: String, part: String)
    /// A sample attribute needed by a filter is missing or malformed.
    case invalidAttribute(sampleID: String, attribute: String, value: String?, reason: String)
    /// A parameter outside its allowed range.
    case invalidParameter(name: String, value: String, reason: String)
    /// The official split information is inconsistent.
    case inconsistentOfficialSplit(reason: String)
    /// A few-shot draw found fewer training samples (of distinct patients) of a group than it needs.
    case insufficientShots(group: String, available: Int, shots: Int)

    /// What is wrong and what to do about it.
    public var description: String {
        switch self {
        case let .nonBinaryTarget(label, sampleIndex, value):
            return "label '\(label)': target of sample \(sampleIndex) is \(value), expected 0 or 1; "
                + "map uncertain or missing labels before evaluating a binary metric"
        case let .invalidClassIndex(sampleIndex, value, classCount):
            return "sample \(sampleIndex): class index \(value) is outside 0..<\(classCount); "
                + "check the label encoding of the manifest"
        case let .nonFiniteValue(what, index):
            return "\(what): value at index \(index) is NaN or infinite; "
                + "re-run the stage that produced it or drop the sample"
        case let .lengthMismatch(what, expected, actual):
            return "\(what): expected \(expected) values, got \(actual); inputs must describe the same samples"
        case let .empty(what):
            return "\(what) is empty; nothing to evaluate"
        case let .invalidFraction(fraction):
            return "training fraction \(fraction) is outside (0, 1]; use e.g. 0.01, 0.1 or 1"
        case let .emptySubgroup(filter, part):
            return "subgroup filter \(filter) selects no sample of the \(part) set; "
                + "check the attribute name and values in the manifest"
        case let .invalidAttribute(sampleID, attribute, value, reason):
            return "sample '\(sampleID)': attribute '\(attribute)' = \(value.map { "'\($0)'" } ?? "missing"): \(reason)"
        case let .invalidParameter(name, value, reason):
            return "parameter \(name) = \(value): \(reason)"
        case let .inconsistentOfficialSplit(reason):
            return "official split: \(reason)"
        case let .insufficientShots(group, available, shots):
            return "\(shots)-shot training set: only \(available) training sample\(available == 1 ? "" : "s") of \(group) from "
                + "distinct patients; use fewer shots or a larger training part"
        }
    }
}

/// A metric value, or the reason it cannot be computed on the given data.
///
/// Tables show the reason instead of a number, so a label with one class in the test set never
/// turns into a silent NaN.
public enum MetricValue: Sendable, Equatable, CustomStringConvertible {
    /// The computed value.
    case value(Double)
    /// The metric is undefined on this data; the reason says why.
    case notComputable(reason: String)

    /// The value, or nil when not computable.
    public var value: Double? {
        if case let .value(v) = self { return v }
        return nil
    }

    /// The number, or "not computable (reason)".
    public var description: String {
        switch self {
        case let .value(v): return "\(v)"
        case let .notComputable(reason): return "not computable (\(reason))"
        }
    }
}
