/// One `${NAME}` or `${NAME:-default}` occurrence in a scalar.
public struct VariableUse: Sendable, Hashable {
    /// The environment variable's name.
    public var name: String
    /// The default written after `:-`, if any.
    public var defaultValue: String?
    /// Whether the environment had a non-empty value for it.
    public var isSet: Bool
    /// What the variable should hold, written after `:?` (`${CHEXPERT_ROOT:?the CheXpert folder}`),
    /// shown when it is unset.
    public var requirement: String? = nil
}

/// The result of interpolating one scalar.
struct InterpolatedText {
    var text: String
    var uses: [VariableUse]
    /// Variables that were unset and had no default (replaced by the empty string).
    var unresolved: [String] { uses.filter { !$0.isSet && $0.defaultValue == nil }.map(\.name) }
}

/// Expands `${NAME}`, `${NAME:-default}` and `${NAME:?what it should hold}` from `environment`;
/// `$$` stands for a literal `$`.
///
/// As in POSIX shells, `:-` uses the default when the variable is unset *or empty*. A malformed
/// reference (no closing brace, bad name) is left as written; validation then reports the value.
func interpolate(_ text: String, environment: [String: String]) -> InterpolatedText {
    guard text.contains("$") else { return InterpolatedText(text: text, uses: []) }
    var output = ""
    var uses: [VariableUse] = []
    var index = text.startIndex
    while index < text.endIndex {
        let character = text[index]
        guard character == "$" else {
            output.append(character)
            index = text.index(after: index)
            continue
        }
        let next = text.index(after: index)
        if next < text.endIndex, text[next] == "$" {
            output.append("$")
            index = text.index(after: next)
            continue
        }
        guard next < text.endIndex, text[next] == "{",
              let close = text[next...].firstIndex(of: "}") else {
            output.append(character)
            index = next
            continue
        }
        let body = text[text.index(after: next)..<close]
        let name: Substring
        let defaultValue: String?
        var requirement: String?
        if let separator = body.range(of: ":-") {
            name = body[..<separator.lowerBound]
            defaultValue = String(body[separator.upperBound...])
        } else if let separator = body.range(of: ":?") {
            // POSIX's "error if unset": the text says what the variable should hold.
            name = body[..<separator.lowerBound]
            defaultValue = nil
            requirement = String(body[separator.upperBound...]).trimmingCharacters(in: .whitespaces)
        } else {
            name = body
            defaultValue = nil
        }
        guard isVariableName(name) else {
            output += text[index...close]
            index = text.index(after: close)
            continue
        }
        let value = environment[String(name)].flatMap { $0.isEmpty ? nil : $0 }
        uses.append(VariableUse(name: String(name), defaultValue: defaultValue, isSet: value != nil,
                                requirement: requirement.flatMap { $0.isEmpty ? nil : $0 }))
        output += value ?? defaultValue ?? ""
        index = text.index(after: close)
    }
    return InterpolatedText(text: output, uses: uses)
}

private func isVariableName(_ name: Substring) -> Bool {
    guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
        return false
    }
    return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
}
