/// How the `csv` adapter turns an attribute's cells into values: a table of cell text → value,
/// and a rule for cells the table does not list.
///
/// In a spec (`values: {sex: {F: female, M: male}}`) the map is written as YAML; the key `"*"`
/// is reserved for the rule, so `CSVValueMap(spec:)` reads it from there:
///
/// | spec entry | meaning |
/// |---|---|
/// | `F: female` | the cell `F` becomes `female` (exact, case-sensitive match) |
/// | `U: ""` or `U: ~` | the cell `U` means unknown: the sample gets no such attribute |
/// | no `"*"` entry | any other non-blank cell is an error naming file, line, column and value |
/// | `"*": other` | any other non-blank cell becomes `other` |
/// | `"*": ""` or `"*": ~` | any other non-blank cell means unknown |
/// | `"*": "*"` | any other non-blank cell is kept as written |
///
/// Blank cells mean unknown unless the map lists `""` itself (`"": unknown-site`).
public struct CSVValueMap: Sendable, Hashable, Codable {
    /// What a non-blank cell that `entries` does not list becomes.
    public enum Otherwise: Sendable, Hashable, Codable {
        /// An error naming the file, line, column and value (the default).
        case reject
        /// The cell, unchanged.
        case keep
        /// No attribute: the value is unknown.
        case unknown
        /// This value.
        case value(String)
    }

    /// The outcome of mapping one cell.
    public enum Mapped: Sendable, Hashable {
        /// The attribute's value.
        case value(String)
        /// The value is unknown: the sample gets no such attribute.
        case unknown
        /// The map does not list the cell and says to reject it.
        case unmapped
    }

    /// The key of a spec's map entry that sets `otherwise`.
    public static let otherwiseKey = "*"

    /// Cell text → value; an empty value means unknown.
    public var entries: [String: String]
    /// The rule for non-blank cells `entries` does not list.
    public var otherwise: Otherwise

    /// Creates a map from its entries (an empty value means unknown) and a rule for other cells.
    public init(_ entries: [String: String], otherwise: Otherwise = .reject) {
        self.entries = entries
        self.otherwise = otherwise
    }

    /// Creates a map from a spec's YAML mapping, where nil (`~`) or `""` means unknown and the
    /// key `"*"` sets the rule for other cells (see the type's documentation).
    public init(spec: [String: String?]) {
        var entries: [String: String] = [:]
        var otherwise = Otherwise.reject
        for (cell, value) in spec {
            if cell == Self.otherwiseKey {
                switch value ?? "" {
                case "": otherwise = .unknown
                case Self.otherwiseKey: otherwise = .keep
                case let text: otherwise = .value(text)
                }
            } else {
                entries[cell] = value ?? ""
            }
        }
        self.init(entries, otherwise: otherwise)
    }

    /// The value of one cell.
    public func map(_ cell: String) -> Mapped {
        if let value = entries[cell] { return value.isEmpty ? .unknown : .value(value) }
        if cell.isEmpty { return .unknown }
        switch otherwise {
        case .reject: return .unmapped
        case .keep: return .value(cell)
        case .unknown: return .unknown
        case .value(let value): return value.isEmpty ? .unknown : .value(value)
        }
    }

    /// The values the map can produce besides kept cells (for checking them before reading).
    var targets: [(key: String, value: String)] {
        var targets = entries.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }
        if case .value(let value) = otherwise, !value.isEmpty { targets.append((Self.otherwiseKey, value)) }
        return targets
    }

    /// The cells the map lists, for error messages.
    var listedCells: String {
        entries.keys.sorted().map { $0.isEmpty ? "(blank)" : $0 }.joined(separator: ", ")
    }
}
