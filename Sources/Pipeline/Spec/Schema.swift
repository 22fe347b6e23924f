/// The kinds of names a spec defines and refers to.
public enum Namespace: String, Sendable, Hashable, CaseIterable {
    /// Named backbones (`backbones:`).
    case backbone
    /// Named datasets (`datasets:`).
    case dataset
    /// Named probe heads (`heads:`; `mlp` and `linear` are built in).
    case head
    /// Named subgroup filters (`subgroups:`; `all`, `male`, `female`, `young`, `middle`, `elderly` are built in).
    case subgroup
    /// Task names (`tasks[].name`), referred to by tables and figures.
    case task
}

/// An interval a number must lie in; `nil` bounds are open-ended.
public struct NumberRange: Sendable, Hashable, CustomStringConvertible {
    /// Lower bound, or `nil` for none.
    public var lower: Double?
    /// Whether the lower bound itself is allowed.
    public var lowerInclusive: Bool
    /// Upper bound, or `nil` for none.
    public var upper: Double?
    /// Whether the upper bound itself is allowed.
    public var upperInclusive: Bool

    /// Creates a range.
    public init(lower: Double? = nil, lowerInclusive: Bool = true, upper: Double? = nil, upperInclusive: Bool = true) {
        self.lower = lower
        self.lowerInclusive = lowerInclusive
        self.upper = upper
        self.upperInclusive = upperInclusive
    }

    /// (0, 1]: training fractions.
    public static let unitFraction = NumberRange(lower: 0, lowerInclusive: false, upper: 1)
    /// [0, 1): dropout probabilities.
    public static let probability = NumberRange(lower: 0, upper: 1, upperInclusive: false)
    /// (0, 1): split ratios.
    public static let openUnit = NumberRange(lower: 0, lowerInclusive: false, upper: 1, upperInclusive: false)
    /// (0, ∞).
    public static let positive = NumberRange(lower: 0, lowerInclusive: false)
    /// [1, ∞): counts.
    public static let atLeastOne = NumberRange(lower: 1)
    /// [0, ∞).
    public static let nonNegative = NumberRange(lower: 0)

    /// Whether `value` lies in the range.
    public func contains(_ value: Double) -> Bool {
        if let lower, lowerInclusive ? value < lower : value <= lower { return false }
        if let upper, upperInclusive ? value > upper : value >= upper { return false }
        return true
    }

    /// Interval notation, e.g. `(0, 1]` or `[1, ∞)`.
    public var description: String {
        let left = lower.map { (lowerInclusive ? "[" : "(") + format($0) } ?? "(-∞"
        let right = upper.map { format($0) + (upperInclusive ? "]" : ")") } ?? "∞)"
        return left + ", " + right
    }

    private func format(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : "\(value)"
    }
}

/// What a path field names, and how its content enters stage keys (its digest policy).
public enum PathKind: String, Sendable, Hashable {
    /// A regular file: enters stage keys through the SHA-256 of its content.
    case file
    /// A folder whose every file matters (a model folder): enters stage keys through one
    /// digest over its files' relative paths and contents, so editing any file is seen.
    case directory
    /// A dataset's data root: images are read from it but enter stage keys through the manifest
    /// stage's output, so only the folder's existence is checked here.
    case dataRoot

    /// How messages name it.
    public var noun: String {
        switch self {
        case .file: "file"
        case .directory, .dataRoot: "folder"
        }
    }
}

/// The type a YAML node must have, and how it converts into a `ParameterValue`.
public indirect enum SchemaType: Sendable {
    /// Any scalar, optionally restricted to a fixed set of spellings.
    case string(choices: [String]? = nil)
    /// A whole number, optionally within a range.
    case integer(NumberRange? = nil)
    /// A finite number, optionally within a range.
    case number(NumberRange? = nil)
    /// `true` or `false`.
    case boolean
    /// A path, resolved against the folder of the file it is written in (`~` expands to home).
    case path(PathKind)
    /// The name of something defined in a namespace.
    case reference(Namespace)
    /// A list whose elements all have one type.
    case list(SchemaType, minimumCount: Int = 0)
    /// A single value or a list of them; always converts to a list.
    case oneOrList(SchemaType)
    /// A mapping with fixed field names.
    case object(ObjectSchema)
    /// A mapping from user-chosen names to values; the names are defined in `defines`, if given.
    case dictionary(SchemaType, defines: Namespace?)
    /// A mapping whose fields depend on a discriminator field (`kind:`).
    case variant(VariantSchema)
    /// The first alternative that accepts the node; `summary` names them in errors.
    case anyOf([SchemaType], summary: String)
    /// A mapping with `min` and/or `max` numbers (a half-open interval `[min, max)`).
    case interval
    /// A string that defines a name in a namespace (a task's `name:`).
    case definesName(Namespace)
    /// The name of a metric of the catalog that scores one of `inputs` (any metric when nil),
    /// e.g. `auroc` or `precision@10`.
    case metric(inputs: [String]?)

    /// The name of a metric of the catalog that scores `input` (any metric when nil).
    public static func metric(input: String?) -> SchemaType { .metric(inputs: input.map { [$0] }) }
    /// A value of the wrapped type, or null (`~`), which converts to `.null`.
    case nullable(SchemaType)
}

/// One field of an object schema.
public struct SchemaField: Sendable {
    /// The key as written in YAML (snake_case).
    public var name: String
    /// The value's type.
    public var type: SchemaType
    /// Whether the field must be present.
    public var isRequired: Bool

    /// Creates a field.
    public init(_ name: String, _ type: SchemaType, required: Bool = false) {
        self.name = name
        self.type = type
        self.isRequired = required
    }

    /// The key decoded Swift types use: snake_case turned into lowerCamelCase.
    var swiftName: String {
        let parts = name.split(separator: "_")
        guard let first = parts.first else { return name }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}

/// A mapping with a fixed set of fields.
public struct ObjectSchema: Sendable {
    /// The allowed fields.
    public var fields: [SchemaField]

    /// Creates an object schema.
    public init(_ fields: [SchemaField]) {
        self.fields = fields
    }
}

/// A mapping whose allowed fields depend on the value of a discriminator field.
public struct VariantSchema: Sendable {
    /// The discriminator field's key, e.g. `kind`.
    public var discriminator: String
    /// Fields every variant has (besides the discriminator).
    public var common: [SchemaField]
    /// Each variant's own fields, by discriminator value.
    public var variants: [(name: String, schema: ObjectSchema)]
    /// When set, variant-specific fields are gathered under this key (an opaque, validated
    /// options map); when `nil` they stay flat and camel-cased.
    public var optionsKey: String?
    /// Whether gathered options keep their YAML names (backbone and dataset options, which
    /// adapters read by the names users write) or take their Swift names (task fields, which
    /// task kinds decode into their own types).
    public var optionsKeepYAMLNames: Bool

    /// Creates a variant schema.
    public init(discriminator: String = "kind", common: [SchemaField] = [],
                variants: [(name: String, schema: ObjectSchema)], optionsKey: String? = nil,
                optionsKeepYAMLNames: Bool = true) {
        self.discriminator = discriminator
        self.common = common
        self.variants = variants
        self.optionsKey = optionsKey
        self.optionsKeepYAMLNames = optionsKeepYAMLNames
    }
}

extension SchemaType {
    /// What a value of this type is, for option tables in the docs and `xrbench kinds`.
    public var summary: String {
        switch self {
        case .string(let choices):
            guard let choices else { return "text" }
            return "one of " + choices.map { "`\($0)`" }.joined(separator: ", ")
        case .integer(let range): return "integer" + (range.map { " in \($0)" } ?? "")
        case .number(let range): return "number" + (range.map { " in \($0)" } ?? "")
        case .boolean: return "true or false"
        case .path(.file): return "file (enters keys by content)"
        case .path(.directory): return "folder (enters keys by the content of its files)"
        case .path(.dataRoot): return "data folder (its images enter keys through the manifest)"
        case .reference(let namespace): return "\(namespace.rawValue) name"
        case .list(let element, let minimumCount):
            return "list of \(element.summary)" + (minimumCount > 0 ? " (at least \(minimumCount))" : "")
        case .oneOrList(let element): return "\(element.summary), or a list of them"
        case .object(let schema): return "mapping with " + schema.fields.map { "`\($0.name)`" }.joined(separator: ", ")
        case .dictionary(let value, _): return "mapping of names to \(value.summary)"
        case .variant(let schema): return "mapping with `\(schema.discriminator)`"
        case .anyOf(_, let summary): return summary
        case .interval: return "`{min, max}`"
        case .definesName: return "name"
        case .metric(let inputs): return (inputs.map { $0.joined(separator: " or ") + " " } ?? "") + "metric name"
        case .nullable(let wrapped): return "\(wrapped.summary) or `~`"
        }
    }
}
