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

/// A `${` that does not start a well-formed reference: no closing brace, no name, a name that
/// is not one (`${1X}`, `${FOO-bar}`), or a reference nested in a default.
struct MalformedReference: Equatable {
    /// Offset of its `$` in the scalar, in Unicode scalars (libyaml counts columns in them).
    var offset: Int
    /// What is wrong and how to write it.
    var problem: String
}

/// The result of interpolating one scalar.
struct InterpolatedText {
    var text: String
    var uses: [VariableUse]
    /// References that are not well-formed (kept as written in `text`).
    var malformed: [MalformedReference] = []
    /// Variables that were unset and had no default (replaced by the empty string).
    var unresolved: [String] { uses.filter { !$0.isSet && $0.defaultValue == nil }.map(\.name) }
}

/// Expands `${NAME}`, `${NAME:-default}` and `${NAME:?what it should hold}` from `environment`;
/// `$$` stands for a literal `$`, and a `$` not followed by `{` is literal.
///
/// As in POSIX shells, `:-` uses the default when the variable is unset *or empty*. A malformed
/// reference (no closing brace, an empty or invalid name, a `${` inside a default) is kept as
/// written and listed in `malformed`; the validator reports it with its line and column.
func interpolate(_ text: String, environment: [String: String]) -> InterpolatedText {
    guard text.contains("$") else { return InterpolatedText(text: text, uses: []) }
    var output = ""
    var uses: [VariableUse] = []
    var malformed: [MalformedReference] = []
    let scalars = Array(text.unicodeScalars)
    var index = 0
    while index < scalars.count {
        let scalar = scalars[index]
        guard scalar == "$" else {
            output.unicodeScalars.append(scalar)
            index += 1
            continue
        }
        if index + 1 < scalars.count, scalars[index + 1] == "$" {
            output.append("$")
            index += 2
            continue
        }
        guard index + 1 < scalars.count, scalars[index + 1] == "{" else {
            output.append("$")
            index += 1
            continue
        }
        guard let close = scalars[(index + 2)...].firstIndex(of: "}") else {
            let name = String(String.UnicodeScalarView(scalars[(index + 2)...].prefix { isNameScalar($0) }))
            malformed.append(MalformedReference(offset: index, problem: "\"${\(name)\" has no closing brace; write ${\(name.isEmpty ? "NAME" : name)}"
                                                + " (or $${ for a literal ${)"))
            output.unicodeScalars.append(contentsOf: scalars[index...])
            break
        }
        let written = String(String.UnicodeScalarView(scalars[index...close]))
        let body = String(String.UnicodeScalarView(scalars[(index + 2)..<close]))
        switch parseReference(body) {
        case .success(let reference):
            let value = environment[reference.name].flatMap { $0.isEmpty ? nil : $0 }
            uses.append(VariableUse(name: reference.name, defaultValue: reference.defaultValue, isSet: value != nil,
                                    requirement: reference.requirement.flatMap { $0.isEmpty ? nil : $0 }))
            output += value ?? reference.defaultValue ?? ""
        case .failure(let problem):
            malformed.append(MalformedReference(offset: index, problem: "\"\(written)\" \(problem.text)"))
            output += written
        }
        index = close + 1
    }
    return InterpolatedText(text: output, uses: uses, malformed: malformed)
}

/// The parts of a reference's body (between `${` and `}`).
private struct Reference {
    var name: String
    var defaultValue: String?
    var requirement: String?
}

private struct ReferenceProblem: Error {
    var text: String
}

private func parseReference(_ body: String) -> Result<Reference, ReferenceProblem> {
    var reference: Reference
    if let separator = body.range(of: ":-") {
        reference = Reference(name: String(body[..<separator.lowerBound]), defaultValue: String(body[separator.upperBound...]))
    } else if let separator = body.range(of: ":?") {
        // POSIX's "error if unset": the text says what the variable should hold.
        reference = Reference(name: String(body[..<separator.lowerBound]),
                              requirement: String(body[separator.upperBound...]).trimmingCharacters(in: .whitespaces))
    } else {
        reference = Reference(name: body)
    }
    let name = reference.name
    if name.isEmpty {
        return .failure(ReferenceProblem(text: "names no variable; write ${NAME} (or $${ for a literal ${)"))
    }
    if !isVariableName(name) {
        // `${FOO-bar}` and `${FOO?x}`: the shell spellings without the colon.
        for (shell, ours) in [("-", ":-"), ("?", ":?"), ("=", ":-"), ("+", ":-")] {
            if let range = name.range(of: shell), isVariableName(name[..<range.lowerBound]) {
                let variable = name[..<range.lowerBound], rest = name[range.upperBound...]
                return .failure(ReferenceProblem(text: "is not a reference xrbench understands; write ${\(variable)\(ours)\(rest)}"))
            }
        }
        return .failure(ReferenceProblem(text: "names no valid variable: names are letters, digits and _, not starting with a digit"))
    }
    if (reference.defaultValue ?? reference.requirement ?? "").contains("${") {
        return .failure(ReferenceProblem(text: "nests a reference in its default, which is not supported; write the default out"))
    }
    return .success(reference)
}

private func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
    scalar == "_" || (scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)))
}

private func isVariableName(_ name: some StringProtocol) -> Bool {
    guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
        return false
    }
    return name.unicodeScalars.allSatisfy(isNameScalar)
}
