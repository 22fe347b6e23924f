/// The value of one label on one sample.
///
/// Binary labels are `.positive` / `.negative`, optionally `.uncertain` (CheXpert's -1.0)
/// before an uncertainty policy resolves it; multi-class labels are `.category(name)` with a
/// name from the label's class list. `.missing` means the dataset says nothing (a blank cell,
/// or a finding that does not apply, such as a cardiomegaly label on a knee radiograph).
public enum LabelValue: Sendable, Hashable, Codable {
    /// Binary 1.
    case positive
    /// Binary 0.
    case negative
    /// Binary, stated as uncertain by the source (CheXpert -1.0).
    case uncertain
    /// No value: a blank cell or a label that does not apply to this sample.
    case missing
    /// One class of a multi-class label.
    case category(String)

    /// The canonical text used in manifests and their serialisation: `1`, `0`, `-1`, empty,
    /// or the class name prefixed with `=` (so a class called "1" cannot be mistaken for a
    /// binary value).
    public var canonicalText: String {
        switch self {
        case .positive: "1"
        case .negative: "0"
        case .uncertain: "-1"
        case .missing: ""
        case .category(let name): "=" + name
        }
    }

    /// Parses `canonicalText`; nil for anything else.
    public init?(canonicalText text: String) {
        switch text {
        case "1": self = .positive
        case "0": self = .negative
        case "-1": self = .uncertain
        case "": self = .missing
        default:
            guard text.first == "=" else { return nil }
            self = .category(String(text.dropFirst()))
        }
    }

    /// 1 for positive, 0 for negative, nil otherwise: the target of a binary probe.
    public var binaryTarget: Int? {
        switch self {
        case .positive: 1
        case .negative: 0
        default: nil
        }
    }

    /// Decodes `canonicalText` from a single string.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = LabelValue(canonicalText: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                debugDescription: "label value \"\(text)\" is not 1, 0, -1, empty or =class"))
        }
        self = value
    }

    /// Encodes as `canonicalText`, a single string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(canonicalText)
    }
}

/// Whether a label is a yes/no finding or one of several classes.
public enum LabelKind: String, Sendable, Hashable, Codable {
    /// Positive/negative (possibly uncertain); evaluated with AUROC.
    case binary
    /// Exactly one of `LabelDefinition.classes`; evaluated with MCC.
    case multiClass
}

/// One label of a dataset: its name, kind and, for multi-class labels, its classes.
public struct LabelDefinition: Sendable, Hashable, Codable {
    /// The label's name, as used in `Sample.labels` and in specs.
    public let name: String
    /// Binary or multi-class.
    public let kind: LabelKind
    /// The class names of a multi-class label in their canonical order; empty for binary labels.
    public let classes: [String]

    /// A binary label.
    public static func binary(_ name: String) -> LabelDefinition {
        LabelDefinition(name: name, kind: .binary, classes: [])
    }

    /// A multi-class label with classes in the given (canonical) order.
    public static func multiClass(_ name: String, classes: [String]) -> LabelDefinition {
        precondition(!classes.isEmpty, "multi-class label \(name) needs at least one class")
        precondition(Set(classes).count == classes.count, "multi-class label \(name) repeats a class")
        return LabelDefinition(name: name, kind: .multiClass, classes: classes)
    }

    /// Whether `value` is allowed for this label.
    public func accepts(_ value: LabelValue) -> Bool {
        switch (kind, value) {
        case (_, .missing): true
        case (.binary, .positive), (.binary, .negative), (.binary, .uncertain): true
        case (.multiClass, .category(let name)): classes.contains(name)
        default: false
        }
    }
}

/// The labels a manifest's samples carry, in a fixed order.
public struct LabelSchema: Sendable, Hashable, Codable {
    /// Label definitions in the dataset's canonical order.
    public let labels: [LabelDefinition]

    /// Creates a schema; label names must be unique.
    public init(_ labels: [LabelDefinition]) {
        precondition(Set(labels.map(\.name)).count == labels.count, "label names must be unique")
        self.labels = labels
    }

    /// Label names in schema order.
    public var names: [String] { labels.map(\.name) }

    /// The definition named `name`, or nil.
    public subscript(name: String) -> LabelDefinition? {
        labels.first { $0.name == name }
    }
}
