import Foundation

/// Named age ranges `[lower, upper)` in years for subgroup analysis.
public struct AgeBins: Sendable, Codable, Equatable {
    /// One bin: a name and a half-open range.
    public struct Bin: Sendable, Codable, Equatable {
        /// The name used in filters and result coordinates (e.g. "young").
        public var name: String
        /// Inclusive lower bound in years.
        public var lower: Double
        /// Exclusive upper bound in years (`.infinity` for the last bin).
        public var upper: Double
        /// Creates a bin `[lower, upper)`.
        public init(name: String, lower: Double, upper: Double) {
            self.name = name
            self.lower = lower
            self.upper = upper
        }
    }

    /// The bins, in order.
    public var bins: [Bin]

    /// Creates a set of bins.
    public init(bins: [Bin]) { self.bins = bins }

    /// The paper's age groups: young [0, 35), middle [35, 60), elderly [60, ∞).
    public static let paper = AgeBins(bins: [
        Bin(name: "young", lower: 0, upper: 35),
        Bin(name: "middle", lower: 35, upper: 60),
        Bin(name: "elderly", lower: 60, upper: .infinity),
    ])

    /// The bin called `name`.
    /// - Throws: `EvaluationError.invalidParameter` when there is none.
    public func bin(named name: String) throws -> Bin {
        guard let bin = bins.first(where: { $0.name == name }) else {
            throw EvaluationError.invalidParameter(name: "age group", value: name,
                                                   reason: "not one of \(bins.map(\.name).joined(separator: ", "))")
        }
        return bin
    }
}

/// A predicate on a sample's manifest attributes selecting a subgroup (sex, age group, view, or
/// any other attribute). Samples missing the attribute are outside the subgroup.
public indirect enum SubgroupFilter: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Every sample.
    case all
    /// Attribute `name` equals one of `values`, compared case-insensitively after trimming spaces
    /// (so "F", "f" and " f" match a filter value "f").
    case attribute(name: String, values: [String])
    /// Numeric attribute `name` lies in `[lower, upper)`.
    case numericRange(name: String, lower: Double, upper: Double)
    /// Every filter holds.
    case allOf([SubgroupFilter])

    /// Samples whose "sex" attribute is one of `values` (e.g. `sex("female", "f")`).
    public static func sex(_ values: String...) -> SubgroupFilter { .attribute(name: "sex", values: values) }

    /// Samples whose "view" attribute is one of `values` (e.g. `view("PA", "AP")`).
    public static func view(_ values: String...) -> SubgroupFilter { .attribute(name: "view", values: values) }

    /// Samples whose numeric "age" attribute falls in the bin called `group`.
    /// - Throws: `EvaluationError.invalidParameter` for an unknown group.
    public static func ageGroup(_ group: String, bins: AgeBins = .paper) throws -> SubgroupFilter {
        let bin = try bins.bin(named: group)
        return .numericRange(name: "age", lower: bin.lower, upper: bin.upper)
    }

    /// A readable form used in errors and result coordinates, e.g. `sex in {F}`.
    public var description: String {
        switch self {
        case .all: return "all"
        case let .attribute(name, values): return "\(name) in {\(values.joined(separator: ", "))}"
        case let .numericRange(name, lower, upper): return "\(name) in [\(lower), \(upper))"
        case let .allOf(filters): return filters.map(\.description).joined(separator: " and ")
        }
    }

    /// The attributes `matches` reads: a caller may keep only these of each sample.
    public var attributeNames: Set<String> {
        switch self {
        case .all: []
        case let .attribute(name, _), let .numericRange(name, _, _): [name]
        case let .allOf(filters): filters.reduce(into: Set<String>()) { $0.formUnion($1.attributeNames) }
        }
    }

    /// Whether a sample belongs to the subgroup.
    /// - Throws: `EvaluationError.invalidAttribute` when a numeric attribute is not a number.
    public func matches(_ attributes: [String: String], sampleID: String) throws -> Bool {
        switch self {
        case .all:
            return true
        case let .attribute(name, values):
            guard let value = attributes[name] else { return false }
            let normalized = Self.normalize(value)
            return values.contains { Self.normalize($0) == normalized }
        case let .numericRange(name, lower, upper):
            guard let text = attributes[name], !Self.normalize(text).isEmpty else { return false }
            guard let number = Double(Self.normalize(text)), number.isFinite else {
                throw EvaluationError.invalidAttribute(sampleID: sampleID, attribute: name, value: text,
                                                       reason: "expected a number for the filter \(description)")
            }
            return number >= lower && number < upper
        case let .allOf(filters):
            for filter in filters where try !filter.matches(attributes, sampleID: sampleID) { return false }
            return true
        }
    }

    private static func normalize(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespaces).lowercased()
    }
}
