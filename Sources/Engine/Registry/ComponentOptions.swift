import Foundation
import Pipeline

/// Typed access to a backbone's, dataset's or head's options, by their YAML names.
///
/// The spec schema has validated them, so a wrong type here means parameters written by hand
/// into a stage descriptor; the error names the stage and the option.
public struct ComponentOptions: Sendable {
    /// The stage (or command) the options belong to, for messages.
    public let stage: String
    /// The options.
    public let values: [String: ParameterValue]

    /// Wraps `values`.
    public init(stage: String, values: [String: ParameterValue]) {
        self.stage = stage
        self.values = values
    }

    /// A text option, or nil when absent.
    public func string(_ name: String) throws -> String? {
        guard let value = values[name] else { return nil }
        guard let text = value.stringValue else { throw bad(name, value, "expected text") }
        return text
    }

    /// A whole-number option, or nil when absent.
    public func integer(_ name: String) throws -> Int? {
        guard let value = values[name] else { return nil }
        guard let number = value.integerValue else { throw bad(name, value, "expected a whole number") }
        return number
    }

    /// A number option, or nil when absent.
    public func number(_ name: String) throws -> Double? {
        guard let value = values[name] else { return nil }
        guard let number = value.doubleValue else { throw bad(name, value, "expected a number") }
        return number
    }

    /// A true/false option, or nil when absent.
    public func bool(_ name: String) throws -> Bool? {
        guard let value = values[name] else { return nil }
        guard case .bool(let flag) = value else { throw bad(name, value, "expected true or false") }
        return flag
    }

    /// A list-of-text option, or nil when absent.
    public func strings(_ name: String) throws -> [String]? {
        guard let value = values[name] else { return nil }
        guard let list = value.listValue?.compactMap(\.stringValue), list.count == value.listValue?.count else {
            throw bad(name, value, "expected a list of text")
        }
        return list
    }

    /// A list-of-numbers option, or nil when absent.
    public func numbers(_ name: String) throws -> [Float]? {
        guard let value = values[name] else { return nil }
        guard let list = value.listValue?.compactMap(\.doubleValue), list.count == value.listValue?.count else {
            throw bad(name, value, "expected a list of numbers")
        }
        return list.map(Float.init)
    }

    /// A mapping of text to text (e.g. attribute renames), or nil when absent.
    public func stringMap(_ name: String) throws -> [String: String]? {
        guard let value = values[name] else { return nil }
        guard let map = value.objectValue, map.values.allSatisfy({ $0.stringValue != nil }) else {
            throw bad(name, value, "expected a mapping of names to text")
        }
        return map.mapValues { $0.stringValue! }
    }

    /// A path option that must be present.
    public func requiredPath(_ name: String) throws -> URL {
        guard let path = try string(name) else {
            throw RunnerError.badOption(stage: stage, option: name, value: "(absent)", reason: "required")
        }
        return URL(fileURLWithPath: path)
    }

    /// The error for an option whose value does not fit.
    public func bad(_ name: String, _ value: ParameterValue, _ reason: String) -> RunnerError {
        .badOption(stage: stage, option: name, value: value.canonicalJSON, reason: reason)
    }
}
