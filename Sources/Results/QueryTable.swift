import Foundation
import GRDB

/// One SQLite value, free of GRDB types.
public enum QueryValue: Sendable, Hashable {
    /// SQL NULL.
    case null
    /// A 64-bit integer.
    case integer(Int64)
    /// A double.
    case real(Double)
    /// UTF-8 text.
    case text(String)
    /// Bytes.
    case blob(Data)

    init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let integer): self = .integer(integer)
        case .double(let double): self = .real(double)
        case .string(let string): self = .text(string)
        case .blob(let data): self = .blob(data)
        }
    }

    /// The value as a double when it is numeric, else nil.
    public var doubleValue: Double? {
        switch self {
        case .integer(let integer): return Double(integer)
        case .real(let double): return double
        default: return nil
        }
    }

    /// The value as text: numbers in their shortest exact form, NULL as nil, blobs as hex.
    public var textValue: String? {
        switch self {
        case .null: return nil
        case .integer(let integer): return String(integer)
        case .real(let double): return String(double)
        case .text(let string): return string
        case .blob(let data): return "x'" + data.map { String(format: "%02x", $0) }.joined() + "'"
        }
    }

    /// Whether the value is a number (aligned right in text tables).
    var isNumeric: Bool {
        switch self {
        case .integer, .real: return true
        default: return false
        }
    }
}

/// The result of a query: column names and rows of plain values.
public struct QueryTable: Sendable, Hashable {
    /// Column names, in the query's order.
    public var columns: [String]
    /// Rows; each has one value per column.
    public var rows: [[QueryValue]]

    /// Creates a table; every row must have one value per column.
    public init(columns: [String], rows: [[QueryValue]]) {
        precondition(rows.allSatisfy { $0.count == columns.count }, "every row needs one value per column")
        self.columns = columns
        self.rows = rows
    }
}
