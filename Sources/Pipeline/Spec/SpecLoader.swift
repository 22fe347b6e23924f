import Crypto
import Foundation
import Yams

/// Loads a spec: reads it and its includes, validates every file over its node tree, resolves
/// names across files, then decodes into `Spec`. All problems are reported together.
public struct SpecLoader: Sendable {
    /// The kinds, options and metrics specs may use.
    public var catalog: Catalog
    /// Environment used for `${VAR}` interpolation.
    public var environment: [String: String]

    /// Creates a loader.
    /// - Parameters:
    ///   - catalog: the kinds and metrics specs may name (the engine's registry provides it).
    ///   - environment: variables for `${VAR}`; defaults to the process environment.
    public init(catalog: Catalog, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.catalog = catalog
        self.environment = environment
    }

    /// Heads every spec can name without defining them: one per head kind, named after it,
    /// with its default options.
    public var builtInHeads: [String: RegistryEntry] {
        Dictionary(uniqueKeysWithValues: catalog.heads.keys.map { ($0, RegistryEntry(kind: $0)) })
    }

    /// Subgroups every spec can name. Adapters write sex as `male`/`female` and age in years.
    public static let builtInSubgroups: [String: SubgroupSpec] = [
        "all": SubgroupSpec([:]),
        "male": SubgroupSpec(["sex": .string("male")]),
        "female": SubgroupSpec(["sex": .string("female")]),
        "young": SubgroupSpec(["age": .object(["min": .integer(0), "max": .integer(35)])]),
        "middle": SubgroupSpec(["age": .object(["min": .integer(35), "max": .integer(60)])]),
        "elderly": SubgroupSpec(["age": .object(["min": .integer(60)])]),
    ]

    /// Loads and validates the spec at `url`.
    /// - Throws: `SpecError` listing every problem found, each with file, line, column and key path.
    public func load(_ url: URL) throws -> Spec {
        var state = LoadState()
        let top = url.standardizedFileURL
        load(file: top, schema: SpecSchema(catalog: catalog).spec, includedFrom: nil, state: &state)
        checkNames(&state)
        if !state.diagnostics.isEmpty { throw SpecError(diagnostics: state.diagnostics) }
        return try checkedTasks(expandResolutions(assemble(top: top, state: state)))
    }

    /// Parses and validates a spec given as text (for tests and tools); includes resolve against `directory`.
    public func load(text: String, name: String = "spec.yaml", directory: URL) throws -> Spec {
        let url = directory.appendingPathComponent(name)
        var state = LoadState()
        state.texts[url.path] = text
        load(file: url, schema: SpecSchema(catalog: catalog).spec, includedFrom: nil, state: &state)
        checkNames(&state)
        if !state.diagnostics.isEmpty { throw SpecError(diagnostics: state.diagnostics) }
        return try checkedTasks(expandResolutions(assemble(top: url, state: state)))
    }

    // MARK: Files

    private func load(file url: URL, schema: SchemaType, includedFrom: SpecLocation?, state: inout LoadState) {
        let displayName = Self.displayPath(url)
        if state.loadOrder.contains(url.path) {
            if let includedFrom {
                state.diagnostics.append(SpecDiagnostic(kind: .include, location: includedFrom, keyPath: "include",
                                                        message: "\(displayName) is included more than once (or includes itself)"))
            }
            return
        }
        state.loadOrder.append(url.path)
        let text: String
        if let given = state.texts[url.path] {
            text = given
        } else {
            do {
                text = try String(contentsOf: url, encoding: .utf8)
            } catch {
                let location = includedFrom ?? SpecLocation(file: displayName, line: 1, column: 1)
                state.diagnostics.append(SpecDiagnostic(kind: includedFrom == nil ? .missingFile : .include, location: location,
                                                        keyPath: includedFrom == nil ? "" : "include",
                                                        message: "cannot read \(displayName): \(error.localizedDescription)"))
                return
            }
            state.texts[url.path] = text
        }
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else {
                state.diagnostics.append(SpecDiagnostic(kind: .syntax, location: SpecLocation(file: displayName, line: 1, column: 1),
                                                        keyPath: "", message: "the file is empty"))
                return
            }
            node = composed
        } catch let error as YamlError {
            state.diagnostics.append(Self.syntaxDiagnostic(error, file: displayName))
            return
        } catch {
            state.diagnostics.append(SpecDiagnostic(kind: .syntax, location: SpecLocation(file: displayName, line: 1, column: 1),
                                                    keyPath: "", message: "\(error)"))
            return
        }
        var validator = SchemaValidator(file: displayName, directory: url.deletingLastPathComponent(), environment: environment,
                                        catalog: catalog)
        let value = validator.validate(node, as: schema)
        state.diagnostics += validator.diagnostics
        state.references += validator.references
        state.definitions += validator.definitions
        state.variableUses += validator.variableUses
        state.locations.merge(validator.locations) { first, _ in first }
        precondition(value != nil || !validator.diagnostics.isEmpty, "a file failed validation without a diagnostic")
        if let value { state.values.append((url, value)) }
        // Includes are loaded even when this file has errors elsewhere, so every error is reported.
        if case .mapping(let mapping) = node, let includes = mapping["include"], case .sequence(let entries) = includes {
            let resolved = value?["include"]?.listValue
            for (index, entry) in entries.enumerated() {
                let path: String
                if let resolved, index < resolved.count, let text = resolved[index].stringValue {
                    path = text
                } else if let raw = entry.scalar?.string {
                    path = url.deletingLastPathComponent().appendingPathComponent(raw).standardizedFileURL.path
                } else {
                    continue
                }
                load(file: URL(fileURLWithPath: path), schema: SpecSchema(catalog: catalog).registry,
                     includedFrom: validator.location(of: entry), state: &state)
            }
        }
    }

    static func syntaxDiagnostic(_ error: YamlError, file: String) -> SpecDiagnostic {
        var location = SpecLocation(file: file, line: 1, column: 1)
        var message = "\(error)"
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            location = SpecLocation(file: file, line: mark.line, column: mark.column)
            message = "YAML syntax error: " + (context.map { "\($0.text) " } ?? "") + problem
        default:
            break
        }
        return SpecDiagnostic(kind: .syntax, location: location, keyPath: "", message: message)
    }

    /// A path as users like to read it: relative to the working directory when inside it.
    static func displayPath(_ url: URL) -> String {
        let current = FileManager.default.currentDirectoryPath
        let path = url.path
        return path.hasPrefix(current + "/") ? String(path.dropFirst(current.count + 1)) : path
    }
}

/// Everything gathered while loading a spec and its includes.
struct LoadState {
    var texts: [String: String] = [:]
    var loadOrder: [String] = []
    var values: [(URL, ParameterValue)] = []
    var diagnostics: [SpecDiagnostic] = []
    var references: [NameReference] = []
    var definitions: [NameDefinition] = []
    var variableUses: [LocatedVariableUses] = []
    var locations: [String: SpecLocation] = [:]
}

extension SpecLoader {
    /// Validates one backbone, dataset or head entry written outside a spec file, such as the
    /// options of a command line, against its kind's schema and checks.
    /// - Parameters:
    ///   - yaml: the entry as a YAML mapping (`kind: dinov2` plus its options).
    ///   - section: `.backbone`, `.dataset` or `.head`.
    ///   - origin: how messages name where the entry came from (`command line`).
    ///   - directory: what relative paths are resolved against.
    /// - Throws: `SpecError` listing every problem.
    public func loadEntry(yaml: String, section: Namespace, origin: String, directory: URL) throws -> RegistryEntry {
        let definitions: [String: any ComponentDefinition]
        switch section {
        case .backbone: definitions = catalog.backbones
        case .dataset: definitions = catalog.datasets.mapValues { $0 }
        case .head: definitions = catalog.heads
        case .subgroup, .task: preconditionFailure("loadEntry reads backbones, datasets and heads")
        }
        let schema = SchemaType.variant(VariantSchema(
            variants: definitions.keys.sorted().map { ($0, ObjectSchema(definitions[$0]!.options)) }, optionsKey: "options"))
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else {
                throw SpecError(diagnostics: [SpecDiagnostic(kind: .syntax, location: SpecLocation(file: origin, line: 1, column: 1),
                                                             keyPath: "", message: "no options given")])
            }
            node = composed
        } catch let error as YamlError {
            throw SpecError(diagnostics: [Self.syntaxDiagnostic(error, file: origin)])
        }
        var validator = SchemaValidator(file: origin, directory: directory, environment: environment, catalog: catalog)
        let value = validator.validate(node, as: schema)
        if !validator.diagnostics.isEmpty { throw SpecError(diagnostics: validator.diagnostics) }
        guard let value, let kind = value["kind"]?.stringValue, let definition = definitions[kind] else {
            preconditionFailure("a validated entry has a known kind")
        }
        let entry = RegistryEntry(kind: kind, options: value["options"]?.objectValue ?? [:])
        let problems = definition.check(entry.options)
        if !problems.isEmpty {
            throw SpecError(diagnostics: problems.map {
                SpecDiagnostic(kind: .badValue, location: SpecLocation(file: origin, line: 1, column: 1), keyPath: $0.path ?? "", message: $0.message)
            })
        }
        return entry
    }
}

extension SpecLoader {
    /// Validates a YAML mapping written outside a spec (an executor's `--profile` file) against
    /// `fields`, as the spec's own sections are: unknown keys with a suggestion, wrong types, each
    /// with its line and column.
    /// - Parameters:
    ///   - yaml: the mapping.
    ///   - fields: what it may hold.
    ///   - origin: how messages name the file.
    ///   - directory: what relative paths are resolved against.
    /// - Returns: the values, keyed by their Swift (lowerCamelCase) names.
    /// - Throws: `SpecError` listing every problem.
    public func loadOptions(yaml: String, fields: [SchemaField], origin: String, directory: URL) throws -> [String: ParameterValue] {
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: yaml) else { return [:] }
            node = composed
        } catch let error as YamlError {
            throw SpecError(diagnostics: [Self.syntaxDiagnostic(error, file: origin)])
        }
        var validator = SchemaValidator(file: origin, directory: directory, environment: environment, catalog: catalog)
        let value = validator.convert(node, as: .object(ObjectSchema(fields)), path: "")
        if !validator.diagnostics.isEmpty { throw SpecError(diagnostics: validator.diagnostics) }
        return value?.objectValue ?? [:]
    }
}
