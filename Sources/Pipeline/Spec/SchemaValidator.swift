import Foundation
import Yams

/// A name used somewhere in a spec that must be defined somewhere (possibly in another file).
struct NameReference: Sendable {
    var namespace: Namespace
    var name: String
    var location: SpecLocation
    var keyPath: String
}

/// A name defined in a spec or registry file.
struct NameDefinition: Sendable {
    var namespace: Namespace
    var name: String
    var location: SpecLocation
}

/// Environment variables used by one scalar, with where the scalar is.
struct LocatedVariableUses: Sendable {
    var keyPath: String
    var location: SpecLocation
    var uses: [VariableUse]
}

/// Walks a composed YAML node tree against a schema, collecting every problem with its position.
///
/// Yams' `Decodable` errors carry no position, so validation happens here, over `Node`s whose
/// marks give line and column; only a tree that validates is converted (to a `ParameterValue`
/// shaped like the Swift types) and decoded.
struct SchemaValidator {
    let file: String
    let directory: URL
    let environment: [String: String]
    let catalog: Catalog
    private(set) var diagnostics: [SpecDiagnostic] = []
    private(set) var references: [NameReference] = []
    private(set) var definitions: [NameDefinition] = []
    private(set) var variableUses: [LocatedVariableUses] = []
    /// Where every validated node sits, by key path.
    private(set) var locations: [String: SpecLocation] = [:]
    /// Key paths of scalars with a malformed `${…}` (already reported, not validated further).
    private var malformedScalars: Set<String> = []

    init(file: String, directory: URL, environment: [String: String], catalog: Catalog) {
        self.file = file
        self.directory = directory
        self.environment = environment
        self.catalog = catalog
    }

    func location(of node: Node) -> SpecLocation {
        let mark = node.mark
        return SpecLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    mutating func report(_ kind: DiagnosticKind, _ node: Node, _ path: String, _ message: String, suggestion: String? = nil) {
        diagnostics.append(SpecDiagnostic(kind: kind, location: location(of: node), keyPath: path, message: message, suggestion: suggestion))
    }

    /// Validates a file's root `node` as `type` and converts it; `nil` when it did not validate.
    ///
    /// First every scalar's `${…}` references are checked (a malformed one is reported at its
    /// `$` and the scalar is not validated further, so one typo gives one message).
    mutating func validate(_ node: Node, as type: SchemaType) -> ParameterValue? {
        checkReferences(node, path: "")
        return convert(node, as: type, path: "")
    }

    /// Validates `node` as `type` and converts it; `nil` when it did not validate.
    mutating func convert(_ node: Node, as type: SchemaType, path: String) -> ParameterValue? {
        locations[path] = location(of: node)
        if malformedScalars.contains(path) { return nil }
        if let placeholder = unresolvedPlaceholder(node, as: type, path: path) { return placeholder }
        if case .alias = node {
            report(.wrongType, node, path, "YAML aliases are not supported in specs; write the value out")
            return nil
        }
        switch type {
        case .string(let choices):
            guard let text = scalarText(node, path: path, expected: "a string") else { return nil }
            if let choices, !choices.contains(text) {
                report(.badValue, node, path, "\"\(text)\" is not one of \(choices.map { "\"\($0)\"" }.joined(separator: ", "))",
                       suggestion: closestMatch(to: text, among: choices))
                return nil
            }
            return .string(text)
        case .integer(let range):
            guard let text = scalarText(node, path: path, expected: "an integer") else { return nil }
            guard let value = Int(text.replacingOccurrences(of: "_", with: "")) else {
                report(.wrongType, node, path, "expected an integer, found \"\(text)\"")
                return nil
            }
            if let range, !range.contains(Double(value)) {
                report(.badValue, node, path, "\(value) is outside the allowed range \(range)")
                return nil
            }
            return .integer(value)
        case .number(let range):
            guard let text = scalarText(node, path: path, expected: "a number") else { return nil }
            guard let value = Double(text.replacingOccurrences(of: "_", with: "")), value.isFinite else {
                report(.wrongType, node, path, "expected a number, found \"\(text)\"")
                return nil
            }
            if let range, !range.contains(value) {
                report(.badValue, node, path, "\(text) is outside the allowed range \(range)")
                return nil
            }
            return value.rounded() == value && abs(value) < 9e15 ? .integer(Int(value)) : .number(value)
        case .boolean:
            guard let text = scalarText(node, path: path, expected: "true or false") else { return nil }
            switch text.lowercased() {
            case "true", "yes": return .bool(true)
            case "false", "no": return .bool(false)
            default:
                report(.wrongType, node, path, "expected true or false, found \"\(text)\"")
                return nil
            }
        case .path(let kind):
            guard let text = scalarText(node, path: path, expected: "a \(kind.noun) path") else { return nil }
            guard !text.isEmpty else {
                report(.badValue, node, path, "the \(kind.noun) path is empty")
                return nil
            }
            return .string(resolvePath(text))
        case .reference(let namespace):
            guard let text = scalarText(node, path: path, expected: "a \(namespace.rawValue) name") else { return nil }
            references.append(NameReference(namespace: namespace, name: text, location: location(of: node), keyPath: path))
            return .string(text)
        case .list(let element, let minimumCount):
            guard case .sequence(let sequence) = node else {
                report(.wrongType, node, path, "expected a list, found \(describe(node))")
                return nil
            }
            if sequence.count < minimumCount {
                let what = minimumCount == 1 ? "at least one element" : "at least \(minimumCount) elements"
                report(.emptyList, node, path, "the list is empty; it needs \(what)")
                return nil
            }
            return convertElements(Array(sequence), as: element, path: path)
        case .oneOrList(let element):
            if case .sequence(let sequence) = node {
                if sequence.isEmpty {
                    report(.emptyList, node, path, "the list is empty; it needs at least one element")
                    return nil
                }
                return convertElements(Array(sequence), as: element, path: path)
            }
            return convert(node, as: element, path: path).map { .list([$0]) }
        case .object(let schema):
            guard let mapping = mappingPairs(node, path: path) else { return nil }
            return convertObject(mapping, node: node, fields: schema.fields, path: path).map { .object($0) }
        case .dictionary(let valueType, let namespace):
            guard let mapping = mappingPairs(node, path: path) else { return nil }
            var result: [String: ParameterValue] = [:]
            var valid = true
            for (keyNode, valueNode) in mapping {
                guard let name = keyText(keyNode, path: path) else { valid = false; continue }
                let childPath = join(path, name)
                if let namespace {
                    definitions.append(NameDefinition(namespace: namespace, name: name, location: location(of: keyNode)))
                }
                if let value = convert(valueNode, as: valueType, path: childPath) { result[name] = value } else { valid = false }
            }
            return valid ? .object(result) : nil
        case .variant(let schema):
            return convertVariant(node, schema: schema, path: path)
        case .anyOf(let alternatives, let summary):
            let earlier = diagnostics
            for alternative in alternatives {
                var trial = self
                trial.diagnostics = []
                if let value = trial.convert(node, as: alternative, path: path), trial.diagnostics.isEmpty {
                    self = trial
                    diagnostics = earlier
                    return value
                }
            }
            report(.wrongType, node, path, "expected \(summary), found \(describe(node))")
            return nil
        case .nullable(let wrapped):
            return isNull(node) ? .null : convert(node, as: wrapped, path: path)
        case .metric(let inputs):
            guard let text = scalarText(node, path: path, expected: "a metric name") else { return nil }
            let known = inputs.map { inputs in inputs.flatMap { catalog.metrics(for: $0) } } ?? catalog.metrics(for: nil)
            guard known.contains(where: { $0.matches(text) }) else {
                let spellings = known.map(\.spelling)
                let what = inputs.map { $0.joined(separator: " or ") + " metric" } ?? "metric"
                report(.badValue, node, path, "unknown \(what) \"\(text)\"; known: \(spellings.joined(separator: ", "))",
                       suggestion: closestMatch(to: text, among: spellings))
                return nil
            }
            return .string(text)
        case .definesName(let namespace):
            guard let text = scalarText(node, path: path, expected: "a name") else { return nil }
            definitions.append(NameDefinition(namespace: namespace, name: text, location: location(of: node)))
            return .string(text)
        case .interval:
            let bounds = ObjectSchema([SchemaField("min", .number()), SchemaField("max", .number())])
            guard case .object(let value)? = convert(node, as: .object(bounds), path: path) else { return nil }
            if value.isEmpty {
                report(.badValue, node, path, "an interval needs `min`, `max` or both")
                return nil
            }
            if let low = value["min"]?.doubleValue, let high = value["max"]?.doubleValue, low >= high {
                report(.badValue, node, path, "the interval [\(low), \(high)) is empty: `min` must be below `max`")
                return nil
            }
            return .object(value)
        }
    }

    private mutating func convertElements(_ nodes: [Node], as element: SchemaType, path: String) -> ParameterValue? {
        var values: [ParameterValue] = []
        var valid = true
        for (index, child) in nodes.enumerated() {
            if let value = convert(child, as: element, path: "\(path)[\(index)]") { values.append(value) } else { valid = false }
        }
        return valid ? .list(values) : nil
    }

    /// Converts the fields of a mapping; reports unknown keys (with a suggestion) and missing ones.
    private mutating func convertObject(_ mapping: [(Node, Node)], node: Node, fields: [SchemaField], path: String,
                                        skipping skipped: Set<String> = []) -> [String: ParameterValue]? {
        var result: [String: ParameterValue] = [:]
        var valid = true
        var seen: Set<String> = []
        for (keyNode, valueNode) in mapping {
            guard let key = keyText(keyNode, path: path) else { valid = false; continue }
            if skipped.contains(key) { continue }
            seen.insert(key)
            guard let field = fields.first(where: { $0.name == key }) else {
                report(.unknownKey, keyNode, join(path, key), "unknown key \"\(key)\"",
                       suggestion: closestMatch(to: key, among: fields.map(\.name)))
                valid = false
                continue
            }
            if isNull(valueNode), !field.isRequired { continue }
            if let value = convert(valueNode, as: field.type, path: join(path, key)) {
                result[field.swiftName] = value
            } else {
                valid = false
            }
        }
        for field in fields where field.isRequired && !seen.contains(field.name) {
            report(.missingField, node, path, "missing required field \"\(field.name)\"")
            valid = false
        }
        return valid ? result : nil
    }

    private mutating func convertVariant(_ node: Node, schema: VariantSchema, path: String) -> ParameterValue? {
        guard let mapping = mappingPairs(node, path: path) else { return nil }
        let names = schema.variants.map(\.name)
        guard let discriminatorPair = mapping.first(where: { $0.0.scalar?.string == schema.discriminator }) else {
            report(.missingField, node, path, "missing required field \"\(schema.discriminator)\" (one of \(names.joined(separator: ", ")))")
            return nil
        }
        let discriminatorPath = join(path, schema.discriminator)
        locations[discriminatorPath] = location(of: discriminatorPair.1)
        guard let kind = scalarText(discriminatorPair.1, path: discriminatorPath, expected: "a \(schema.discriminator) name") else { return nil }
        guard let variant = schema.variants.first(where: { $0.name == kind }) else {
            report(.badValue, discriminatorPair.1, discriminatorPath,
                   "unknown \(schema.discriminator) \"\(kind)\"; known: \(names.joined(separator: ", "))",
                   suggestion: closestMatch(to: kind, among: names))
            return nil
        }
        var result: [String: ParameterValue]
        if let optionsKey = schema.optionsKey {
            let commonNames = Set(schema.common.map(\.name))
            let common = mapping.filter { commonNames.contains($0.0.scalar?.string ?? "") || $0.0.scalar?.string == schema.discriminator }
            let specific = mapping.filter { !commonNames.contains($0.0.scalar?.string ?? "") && $0.0.scalar?.string != schema.discriminator }
            guard var commonValues = convertObject(common, node: node, fields: schema.common, path: path, skipping: [schema.discriminator]),
                  let options = convertObject(specific, node: node, fields: variant.schema.fields, path: path) else { return nil }
            if schema.optionsKeepYAMLNames {
                // Options keep their YAML spelling: adapters read them by the names users write.
                var renamed: [String: ParameterValue] = [:]
                for field in variant.schema.fields { if let value = options[field.swiftName] { renamed[field.name] = value } }
                commonValues[optionsKey] = .object(renamed)
            } else {
                commonValues[optionsKey] = .object(options)
            }
            result = commonValues
        } else {
            guard let values = convertObject(mapping, node: node, fields: schema.common + variant.schema.fields, path: path,
                                             skipping: [schema.discriminator]) else { return nil }
            result = values
        }
        result[schema.discriminator] = .string(kind)
        return .object(result)
    }

    // MARK: Scalars and mappings

    /// A scalar built from an unset `${VAR}` is not checked further: whether that is an error
    /// depends on whether anything uses it (see `SpecLoader.checkNames`), and an unused registry
    /// entry may name variables this machine does not set. A typed placeholder stands in.
    private mutating func unresolvedPlaceholder(_ node: Node, as type: SchemaType, path: String) -> ParameterValue? {
        guard case .scalar(let scalar) = node, scalar.string.contains("${") else { return nil }
        let interpolated = interpolate(scalar.string, environment: environment)
        guard !interpolated.unresolved.isEmpty else { return nil }
        let placeholder: ParameterValue
        switch type {
        case .string(let choices): placeholder = .string(choices?.first ?? interpolated.text)
        case .integer: placeholder = .integer(1)
        case .number: placeholder = .number(1)
        case .boolean: placeholder = .bool(false)
        case .path, .reference, .definesName, .metric: placeholder = .string(interpolated.text)
        case .oneOrList(let element): return unresolvedPlaceholder(node, as: element, path: path).map { .list([$0]) }
        case .nullable(let wrapped): return unresolvedPlaceholder(node, as: wrapped, path: path)
        case .anyOf(let alternatives, _):
            for alternative in alternatives {
                if let value = unresolvedPlaceholder(node, as: alternative, path: path) { return value }
            }
            return nil
        case .list, .object, .dictionary, .variant, .interval: return nil
        }
        variableUses.append(LocatedVariableUses(keyPath: path, location: location(of: node), uses: interpolated.uses))
        return placeholder
    }


    /// Reports every malformed `${…}` in the scalars under `node` (mapping keys are never
    /// interpolated, so only values are looked at).
    private mutating func checkReferences(_ node: Node, path: String) {
        switch node {
        case .scalar(let scalar):
            guard scalar.string.contains("${") else { return }
            let malformed = interpolate(scalar.string, environment: [:]).malformed
            guard !malformed.isEmpty else { return }
            malformedScalars.insert(path)
            for reference in malformed {
                diagnostics.append(SpecDiagnostic(kind: .malformedVariable, location: location(of: reference, in: scalar, at: node),
                                                  keyPath: path, message: reference.problem))
            }
        case .mapping(let mapping):
            for (key, value) in mapping {
                guard let name = key.scalar?.string else { continue }
                checkReferences(value, path: join(path, name))
            }
        case .sequence(let sequence):
            for (index, element) in sequence.enumerated() { checkReferences(element, path: "\(path)[\(index)]") }
        case .alias:
            return
        }
    }

    /// Where a malformed reference's `$` is: exact for scalars on one line written plain or
    /// quoted without escapes; the scalar's own position otherwise.
    private func location(of reference: MalformedReference, in scalar: Node.Scalar, at node: Node) -> SpecLocation {
        var place = location(of: node)
        let before = scalar.string.unicodeScalars.prefix(reference.offset)
        guard !scalar.string.unicodeScalars.contains("\n") else { return place }
        switch scalar.style {
        case .plain, .any:
            place.column += before.count
        case .singleQuoted where !scalar.string.contains("'"), .doubleQuoted where !scalar.string.contains("\\") && !scalar.string.contains("\""):
            place.column += 1 + before.count
        default:
            break
        }
        return place
    }

    private func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// The scalar's text after `${VAR}` interpolation, or a wrong-type report.
    private mutating func scalarText(_ node: Node, path: String, expected: String) -> String? {
        guard case .scalar(let scalar) = node, !isNull(node) else {
            report(.wrongType, node, path, "expected \(expected), found \(describe(node))")
            return nil
        }
        let interpolated = interpolate(scalar.string, environment: environment)
        if !interpolated.uses.isEmpty {
            variableUses.append(LocatedVariableUses(keyPath: path, location: location(of: node), uses: interpolated.uses))
        }
        return interpolated.text
    }

    private mutating func keyText(_ node: Node, path: String) -> String? {
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
            report(.wrongType, node, path, "mapping keys must be plain names, found \(describe(node))")
            return nil
        }
        return scalar.string
    }

    /// The mapping's pairs; reports a non-mapping and keys written twice.
    private mutating func mappingPairs(_ node: Node, path: String) -> [(Node, Node)]? {
        guard case .mapping(let mapping) = node else {
            report(.wrongType, node, path, "expected a mapping (key: value lines), found \(describe(node))")
            return nil
        }
        var seen: Set<String> = []
        var pairs: [(Node, Node)] = []
        for (key, value) in mapping {
            if let text = key.scalar?.string, !seen.insert(text).inserted {
                report(.duplicateName, key, join(path, text), "\"\(text)\" is written twice in this mapping")
                continue
            }
            pairs.append((key, value))
        }
        return pairs
    }

    private func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let scalar): return isNull(node) ? "nothing (null)" : "\"\(scalar.string)\""
        }
    }

    private func resolvePath(_ text: String) -> String {
        var expanded = text
        if expanded == "~" || expanded.hasPrefix("~/") {
            expanded = FileManager.default.homeDirectoryForCurrentUser.path + expanded.dropFirst()
        }
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL.path }
        return directory.appendingPathComponent(expanded).standardizedFileURL.path
    }

    private func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }
}
