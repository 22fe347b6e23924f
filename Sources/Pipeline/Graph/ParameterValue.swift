import Foundation

/// A JSON-shaped value: stage parameters, opaque adapter fields, validated spec trees.
///
/// Its canonical JSON (sorted keys, no whitespace, shortest round-trip numbers) is what stage
/// keys hash, so two equal values always produce the same bytes.
public enum ParameterValue: Sendable, Hashable {
    /// JSON null.
    case null
    /// true / false.
    case bool(Bool)
    /// A whole number.
    case integer(Int)
    /// A finite floating-point number.
    case number(Double)
    /// A string.
    case string(String)
    /// An ordered list.
    case list([ParameterValue])
    /// A mapping from string keys to values (order is irrelevant: canonical JSON sorts keys).
    case object([String: ParameterValue])

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number, if this is an integer or a floating-point number.
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: return nil
        }
    }

    /// The integer, if this is one (or a floating-point number with no fractional part).
    public var integerValue: Int? {
        switch self {
        case .integer(let value): return value
        case .number(let value) where value.rounded() == value && abs(value) < 9e15: return Int(value)
        default: return nil
        }
    }

    /// The elements, if this is a list.
    public var listValue: [ParameterValue]? {
        if case .list(let value) = self { return value }
        return nil
    }

    /// The fields, if this is an object.
    public var objectValue: [String: ParameterValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The field named `key`, if this is an object that has it.
    public subscript(key: String) -> ParameterValue? {
        objectValue?[key]
    }
}

extension ParameterValue: Codable {
    /// Decodes any JSON value; whole numbers become `.integer`.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ParameterValue].self) {
            self = .list(value)
        } else {
            self = .object(try container.decode([String: ParameterValue].self))
        }
    }

    /// Encodes as the matching JSON value.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .list(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension ParameterValue {
    /// Canonical JSON: keys sorted by their UTF-8 bytes, no insignificant whitespace, integers in
    /// decimal, other numbers in Swift's shortest round-trip form. Integral doubles are written as
    /// integers so `1` and `1.0` hash alike.
    public var canonicalJSON: String {
        var output = ""
        output.reserveCapacity(128)
        writeCanonical(into: &output)
        return output
    }

    func writeCanonical(into output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .integer(let value): output += String(value)
        case .number(let value):
            precondition(value.isFinite, "non-finite numbers cannot enter a stage key")
            if value.rounded() == value, abs(value) < 9e15 {
                output += String(Int(value))
            } else {
                output += "\(value)"
            }
        case .string(let value): Self.writeString(value, into: &output)
        case .list(let values):
            output += "["
            for (index, value) in values.enumerated() {
                if index > 0 { output += "," }
                value.writeCanonical(into: &output)
            }
            output += "]"
        case .object(let fields):
            output += "{"
            let keys = fields.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { output += "," }
                Self.writeString(key, into: &output)
                output += ":"
                fields[key]!.writeCanonical(into: &output)
            }
            output += "}"
        }
    }

    private static func writeString(_ value: String, into output: inout String) {
        output += "\""
        // Nearly every string needs no escape: append it whole.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            output += value
            output += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                output += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}

extension ParameterValue {
    /// Converts any `Encodable` value (typically a stage's parameter struct) into a value tree:
    /// the tree a JSON round trip gives (see `ParameterValueEncoder`), built directly.
    /// - Throws: `EncodingError` when the value contains a non-finite number.
    public init<Value: Encodable>(encoding value: Value) throws {
        self = try ParameterValueEncoder.encode(value)
    }

    /// Decodes this value tree into a `Decodable` type (typically a stage's parameter struct).
    /// - Throws: `DecodingError` when the shapes do not match.
    public func decode<Value: Decodable>(_ type: Value.Type = Value.self) throws -> Value {
        try JSONDecoder().decode(type, from: Data(canonicalJSON.utf8))
    }
}
