import Foundation

/// A position in a spec or registry file, as a reader's editor shows it (1-based).
public struct SpecLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file's path as the user gave it (or as resolved from an `include:`).
    public var file: String
    /// Line number, starting at 1.
    public var line: Int
    /// Column number, starting at 1 (counted in Unicode scalars, as libyaml does).
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the form compilers and editors understand.
    public var description: String { "\(file):\(line):\(column)" }
}

/// What is wrong, in categories a test (or a tool) can match on.
public enum DiagnosticKind: String, Sendable, Hashable, Codable {
    /// The file is not well-formed YAML.
    case syntax
    /// A mapping key the schema does not know.
    case unknownKey
    /// A value of the wrong type (a list where a number belongs, ...).
    case wrongType
    /// A required field is absent.
    case missingField
    /// A backbone, dataset, head, subgroup or task name that nothing defines.
    case unknownReference
    /// A list that must not be empty is empty (a matrix axis, `k`, `labels`, ...).
    case emptyList
    /// A value of the right type outside its allowed range or set (fraction 1.5, metric "auc").
    case badValue
    /// The same name is defined twice.
    case duplicateName
    /// `${VAR}` names an environment variable that is not set and has no default.
    case unsetVariable
    /// A `${` that starts no well-formed reference: `${FOO` without its brace, `${}`, `${1X}`.
    case malformedVariable
    /// An `include:` that cannot be read, or that includes itself.
    case include
    /// A file or folder the spec points at does not exist.
    case missingFile
    /// The matrices expand to more stages than the limit (`--max-stages`).
    case tooManyStages
}

/// One problem found in a spec, with where it is and how to fix it.
public struct SpecDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// The problem's category.
    public var kind: DiagnosticKind
    /// Where in which file.
    public var location: SpecLocation
    /// The key path from the file's root, e.g. `tasks[1].matrix.fraction[0]`.
    public var keyPath: String
    /// What is wrong, in a sentence.
    public var message: String
    /// A likely intended spelling ("did you mean ...?"), when one is close enough.
    public var suggestion: String?

    /// Creates a diagnostic.
    public init(kind: DiagnosticKind, location: SpecLocation, keyPath: String, message: String, suggestion: String? = nil) {
        self.kind = kind
        self.location = location
        self.keyPath = keyPath
        self.message = message
        self.suggestion = suggestion
    }

    /// `file:line:column: keyPath: message; did you mean "x"?`
    public var description: String {
        var text = "\(location): "
        if !keyPath.isEmpty { text += "\(keyPath): " }
        text += message
        if let suggestion { text += "; did you mean \"\(suggestion)\"?" }
        return text
    }
}

/// Every problem found in a spec and the files it includes, reported together.
public struct SpecError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// The problems, in file order.
    public var diagnostics: [SpecDiagnostic]

    /// Creates the error from at least one diagnostic.
    public init(diagnostics: [SpecDiagnostic]) {
        precondition(!diagnostics.isEmpty, "a SpecError needs at least one diagnostic")
        self.diagnostics = diagnostics
    }

    /// One line per problem, preceded by a count.
    public var description: String {
        let count = diagnostics.count
        let header = count == 1 ? "the spec has 1 error:" : "the spec has \(count) errors:"
        return ([header] + diagnostics.map { "  " + $0.description }).joined(separator: "\n")
    }

    /// Same as `description`, for `LocalizedError` consumers.
    public var errorDescription: String? { description }
}
