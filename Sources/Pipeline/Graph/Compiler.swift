import Foundation

/// Settings that shape compiled stages without being part of the spec.
public struct CompileOptions: Sendable {
    /// Code version per stage kind (from the runner registry); absent kinds use 1.
    public var codeVersions: [StageKind: Int]
    /// Thread need per stage kind; absent kinds use the defaults (`embed`, `manifest`: all; others: 1).
    public var threadNeeds: [StageKind: ThreadNeed]

    /// Creates options.
    public init(codeVersions: [StageKind: Int] = [:], threadNeeds: [StageKind: ThreadNeed] = [:]) {
        self.codeVersions = codeVersions
        self.threadNeeds = threadNeeds
    }

    func version(_ kind: StageKind) -> Int { codeVersions[kind] ?? 1 }

    func threads(_ kind: StageKind) -> ThreadNeed {
        threadNeeds[kind] ?? ((kind == .embed || kind == .manifest) ? .all : .count(1))
    }
}

/// A spec compiled into its stage graph.
public struct CompiledSpec: Sendable {
    /// The validated spec.
    public var spec: Spec
    /// Every stage, shared stages once.
    public var graph: StageGraph
}

/// Expands a spec's task matrices into stages and shares what can be shared: one manifest per
/// dataset, one embedding per (backbone, dataset), one split per (dataset, fraction, seed,
/// training filter) used by every backbone, one probe per distinct training configuration.
public struct Compiler {
    let options: CompileOptions
    let digester: FileDigester
    var stages: [Stage] = []
    var manifests: [String: Stage] = [:]
    var embeddings: [String: Stage] = [:]
    var diagnostics: [SpecDiagnostic] = []

    /// Creates a compiler.
    /// - Parameters:
    ///   - options: code versions and thread needs per kind.
    ///   - digester: content digests of the files the spec points at (memoised).
    public init(options: CompileOptions = CompileOptions(), digester: FileDigester) {
        self.options = options
        self.digester = digester
    }

    /// Compiles `spec` into a graph.
    /// - Throws: `SpecError` listing every file the spec points at that is missing (with where it
    ///   was written and which environment variables built its path); `GraphError` on an
    ///   inconsistent graph (a compiler bug, reported rather than trusted).
    public static func compile(_ spec: Spec, options: CompileOptions = CompileOptions(), digester: FileDigester) throws -> CompiledSpec {
        var compiler = Compiler(options: options, digester: digester)
        for task in spec.tasks { compiler.expand(task, in: spec) }
        if !compiler.diagnostics.isEmpty { throw SpecError(diagnostics: compiler.diagnostics) }
        return CompiledSpec(spec: spec, graph: try StageGraph(compiler.stages))
    }

    mutating func add(_ stage: Stage) -> Stage {
        stages.append(stage)
        return stage
    }

    // MARK: Shared stages

    mutating func manifest(_ name: String, in spec: Spec) -> Stage? {
        if let existing = manifests[name] { return existing }
        guard let entry = spec.datasets[name] else { return nil }
        let fields = SpecSchema.datasetKinds.first { $0.name == entry.kind }?.schema.fields ?? []
        guard let files = references(for: entry, fields: fields, keyPath: "datasets.\(name)", in: spec) else { return nil }
        let parameters = ManifestParameters(adapter: entry.kind, options: entry.options, files: files)
        let stage = add(Stage(kind: .manifest, codeVersion: options.version(.manifest), parameters: encode(parameters),
                              threads: options.threads(.manifest), label: "manifest \(name)"))
        manifests[name] = stage
        return stage
    }

    mutating func embedding(backbone: String, dataset: String, in spec: Spec) -> (embed: Stage, manifest: Stage)? {
        let manifest = self.manifest(dataset, in: spec)
        if let existing = embeddings["\(backbone)\u{0}\(dataset)"], let manifest { return (existing, manifest) }
        guard let entry = spec.backbones[backbone] else { return nil }
        let fields = SpecSchema.backboneKinds.first { $0.name == entry.kind }?.schema.fields ?? []
        guard let files = references(for: entry, fields: fields, keyPath: "backbones.\(backbone)", in: spec), let manifest else { return nil }
        let parameters = EmbedParameters(backbone: entry.kind, options: entry.options, files: files)
        let stage = add(Stage(kind: .embed, codeVersion: options.version(.embed), parameters: encode(parameters),
                              inputs: ["manifest": manifest.key], threads: options.threads(.embed),
                              label: "embed \(backbone) × \(dataset)"))
        embeddings["\(backbone)\u{0}\(dataset)"] = stage
        return (stage, manifest)
    }

    /// Digests of an entry's path options. Files enter by content; a model folder by the digest
    /// of its files; a data root by path alone (its images enter through the manifest's output).
    mutating func references(for entry: RegistryEntry, fields: [SchemaField], keyPath: String, in spec: Spec) -> [String: FileReference]? {
        var result: [String: FileReference] = [:]
        var complete = true
        for field in fields {
            guard case .path(let kind) = field.type, let path = entry.options[field.name]?.stringValue else { continue }
            let optionPath = "\(keyPath).\(field.name)"
            do {
                switch kind {
                case .file:
                    result[field.name] = FileReference(path: path, digest: try digester.digest(ofFile: path))
                case .directory where entry.kind == "dinov2":
                    result[field.name] = FileReference(path: path, digest: try digester.digest(ofDirectory: path))
                case .directory:
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                        throw FileDigestError(path: path, problem: "is not an existing folder")
                    }
                    result[field.name] = FileReference(path: path, digest: "path-only")
                }
            } catch {
                complete = false
                missing(error, keyPath: optionPath, in: spec)
            }
        }
        return complete ? result : nil
    }

    mutating func fileReference(_ path: String, keyPath: String, in spec: Spec) -> FileReference? {
        do {
            return FileReference(path: path, digest: try digester.digest(ofFile: path))
        } catch {
            missing(error, keyPath: keyPath, in: spec)
            return nil
        }
    }

    /// Records a missing-file diagnostic once per key path, explaining the variables behind it.
    mutating func missing(_ error: Error, keyPath: String, in spec: Spec) {
        guard !diagnostics.contains(where: { $0.keyPath == keyPath }) else { return }
        var message = "\(error)"
        if let uses = spec.variableUses[keyPath], !uses.isEmpty {
            let explained = uses.map { use -> String in
                if use.isSet { return "\(use.name) is set" }
                return "\(use.name) is not set, so its default \"\(use.defaultValue ?? "")\" was used"
            }
            message += " (the path comes from " + explained.joined(separator: "; ") + ")"
        }
        let location = spec.locations[keyPath] ?? SpecLocation(file: SpecLoader.displayPath(spec.file), line: 1, column: 1)
        diagnostics.append(SpecDiagnostic(kind: .missingFile, location: location, keyPath: keyPath, message: message))
    }

    func encode<Value: Encodable>(_ value: Value) -> ParameterValue {
        do {
            return try ParameterValue(encoding: value)
        } catch {
            preconditionFailure("stage parameters are finite by validation: \(error)")
        }
    }

    func filter(_ name: String, in spec: Spec) -> SubgroupFilter {
        SubgroupFilter(name: name, conditions: spec.subgroups[name]?.conditions ?? [:])
    }
}
