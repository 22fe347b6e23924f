import Foundation

/// Settings that shape compiled stages without being part of the spec.
public struct CompileOptions: Sendable {
    /// Code version per stage kind (from the runner registry); absent kinds use 1.
    public var codeVersions: [StageKind: Int]
    /// Thread need per stage kind; absent kinds use the defaults (`embed`, `manifest`: all; others: 1).
    public var threadNeeds: [StageKind: ThreadNeed]
    /// The most stages a spec may compile to (see `StageCount`); a spec beyond it is refused,
    /// before anything is built, with each task's count and axis sizes.
    public var maximumStages: Int

    /// Creates options.
    public init(codeVersions: [StageKind: Int] = [:], threadNeeds: [StageKind: ThreadNeed] = [:],
                maximumStages: Int = StageCount.defaultMaximum) {
        self.codeVersions = codeVersions
        self.threadNeeds = threadNeeds
        self.maximumStages = maximumStages
    }

    /// The code version of `kind`.
    public func version(_ kind: StageKind) -> Int { codeVersions[kind] ?? 1 }

    /// The thread need of `kind`.
    public func threads(_ kind: StageKind) -> ThreadNeed {
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

/// Builds a spec's stage graph: each task kind's `compile` adds its stages through it, and it
/// shares what can be shared (one manifest per dataset, one embedding per backbone and dataset;
/// stages with equal keys are one stage in the graph).
///
/// It also resolves what a stage key needs from the file system (content digests of files and
/// model folders, by each option's `PathKind`) and runs the plan-time checks of backbones,
/// datasets and heads, so that problems are reported with their position before any work.
public struct GraphBuilder {
    /// The spec being compiled.
    public let spec: Spec
    /// The kinds it may use.
    public let catalog: Catalog
    /// Code versions and thread needs per stage kind.
    public let options: CompileOptions
    let digester: FileDigester
    private(set) var stages: [Stage] = []
    private var manifests: [String: Stage?] = [:]
    private var embeddings: [String: Stage?] = [:]
    private var fieldsOfDataset: [String: DatasetFields?] = [:]
    private var checkedHeads: Set<String> = []
    private var embeddingOutputs: [String: EmbeddingOutputs] = [:]
    private(set) var diagnostics: [SpecDiagnostic] = []

    /// Creates a builder for `spec`.
    public init(spec: Spec, catalog: Catalog, options: CompileOptions = CompileOptions(), digester: FileDigester) {
        self.spec = spec
        self.catalog = catalog
        self.options = options
        self.digester = digester
    }

    /// Compiles `spec` into a graph: every task through its kind's `compile`.
    /// - Throws: `SpecError` listing every problem found (a spec whose matrices expand to more
    ///   than `options.maximumStages` stages, counted before anything is built; missing files
    ///   with the variables behind their paths, options a kind rejects, labels or attributes a
    ///   dataset lacks); `GraphError` on an inconsistent graph (a bug, reported rather than trusted).
    public static func compile(_ spec: Spec, catalog: Catalog, options: CompileOptions = CompileOptions(),
                               digester: FileDigester) throws -> CompiledSpec {
        let tooLarge = sizeDiagnostics(spec, catalog: catalog, limit: options.maximumStages)
        if !tooLarge.isEmpty { throw SpecError(diagnostics: tooLarge) }
        var builder = GraphBuilder(spec: spec, catalog: catalog, options: options, digester: digester)
        // What every embedding must store, over all the tasks that share it.
        for task in spec.tasks {
            guard let outputs = catalog.tasks[task.kind]?.embeddingOutputs(task, in: spec, catalog: catalog), outputs != .pooled else { continue }
            for backbone in task.matrix.backbone {
                for dataset in task.matrix.dataset {
                    builder.embeddingOutputs["\(backbone)\u{0}\(dataset)", default: .pooled].formUnion(outputs)
                }
            }
        }
        for task in spec.tasks {
            guard let definition = catalog.tasks[task.kind] else {
                preconditionFailure("task kind \(task.kind) passed validation but is not in the catalog")
            }
            definition.compile(task, into: &builder)
        }
        if !builder.diagnostics.isEmpty { throw SpecError(diagnostics: builder.diagnostics) }
        return CompiledSpec(spec: spec, graph: try StageGraph(builder.stages))
    }

    // MARK: Adding stages

    /// Adds a stage of `kind` with its code version and thread need from the options.
    /// Adding a stage equal to one already added is harmless: the graph keeps one.
    @discardableResult
    public mutating func add<Parameters: Encodable>(_ kind: StageKind, parameters: Parameters, inputs: [String: StageKey] = [:],
                                                    coordinates: StageCoordinates? = nil, label: String, isVolatile: Bool = false,
                                                    inputFacets: [String: String] = [:], hints: [String: ParameterValue] = [:]) -> Stage {
        var stage = Stage(kind: kind, codeVersion: options.version(kind), parameters: encode(parameters), inputs: inputs,
                          threads: options.threads(kind), coordinates: coordinates, label: label, isVolatile: isVolatile,
                          inputFacets: inputFacets)
        stage.hints = hints
        stages.append(stage)
        return stage
    }

    // MARK: Shared stages

    /// The `manifest` stage of dataset `name`, or nil (with a diagnostic) when its files are missing
    /// or its adapter rejects its options.
    public mutating func manifest(_ name: String) -> Stage? {
        if let existing = manifests[name] { return existing }
        guard let entry = spec.datasets[name], let definition = catalog.datasets[entry.kind] else { return nil }
        var stage: Stage?
        if let files = references(for: entry, definition: definition, keyPath: "datasets.\(name)") {
            stage = add(.manifest, parameters: ManifestParameters(adapter: entry.kind, options: entry.options, files: files,
                                                                  onError: entry.onError == "skip" ? "skip" : nil),
                        label: "manifest \(name)", isVolatile: !definition.generatesData, hints: ["dataset": .string(name)])
        }
        manifests[name] = stage
        return stage
    }

    /// The `embed` stage of `backbone` on `dataset` with its manifest, or nil (with a
    /// diagnostic) when either cannot be built.
    public mutating func embedding(backbone: String, dataset: String) -> (embed: Stage, manifest: Stage)? {
        let manifest = self.manifest(dataset)
        let key = "\(backbone)\u{0}\(dataset)"
        if let existing = embeddings[key] {
            guard let existing, let manifest else { return nil }
            return (existing, manifest)
        }
        guard let entry = spec.backbones[backbone], let definition = catalog.backbones[entry.kind] else { return nil }
        var stage: Stage?
        if let files = references(for: entry, definition: definition, keyPath: "backbones.\(backbone)"), let manifest {
            // An embedding reads only the manifest's images (sample ids and image digests): editing
            // labels changes no embedding key.
            stage = add(.embed, parameters: EmbedParameters(backbone: entry.kind, options: entry.options, files: files,
                                                            outputs: embeddingOutputs[key]),
                        inputs: ["manifest": manifest.key], label: "embed \(backbone) × \(dataset)",
                        inputFacets: ["manifest": ManifestFacet.images])
        }
        embeddings[key] = stage
        guard let stage, let manifest else { return nil }
        return (stage, manifest)
    }

    /// The head named `name` (built in or defined), its options checked by its kind once.
    public mutating func head(_ name: String) -> RegistryEntry? {
        guard let entry = spec.heads[name] else { return nil }
        if checkedHeads.insert(name).inserted, let definition = catalog.heads[entry.kind] {
            reportProblems(definition.check(entry.options), keyPath: "heads.\(name)")
        }
        return entry
    }

    /// The labels and attributes dataset `name`'s samples will carry, when its adapter can tell
    /// before the manifest is built (nil otherwise, or when it could not be read: then reported).
    public mutating func fields(ofDataset name: String) -> DatasetFields? {
        if let known = fieldsOfDataset[name] { return known }
        var fields: DatasetFields?
        if let entry = spec.datasets[name], let definition = catalog.datasets[entry.kind] {
            do {
                fields = try definition.fields(entry.options)
            } catch {
                reportProblems([error], keyPath: "datasets.\(name)")
            }
        }
        fieldsOfDataset[name] = fields
        return fields
    }

    /// The evaluation filter of subgroup `name` (every sample for an unknown name).
    public func subgroupFilter(_ name: String) -> SubgroupFilter {
        SubgroupFilter(name: name, conditions: spec.subgroups[name]?.conditions ?? [:])
    }

    /// Reports, at `keyPath`, every attribute subgroup `name` looks at that dataset `dataset`'s
    /// samples will not have (when the dataset's fields are known before its manifest).
    public mutating func checkSubgroup(_ name: String, on dataset: String, keyPath: String) {
        guard let fields = fields(ofDataset: dataset), let conditions = spec.subgroups[name]?.conditions else { return }
        for attribute in conditions.keys.sorted() where !fields.contains(attribute) {
            let kind = spec.datasets[dataset]?.kind ?? "?"
            report(at: keyPath, "subgroup \"\(name)\" looks at attribute \"\(attribute)\", which the \(kind) dataset \"\(dataset)\" "
                   + "does not provide (it has \(Self.listing(fields.attributes)))"
                   + (kind == "csv" ? "; map a column to it with `attributes: {\(attribute): COLUMN}` in the dataset's entry" : ""))
        }
    }

    /// The file at `path` with its content digest, or nil (reported at `keyPath`) when it is missing.
    public mutating func fileReference(_ path: String, keyPath: String) -> FileReference? {
        do {
            return FileReference(path: path, digest: try digester.digest(ofFile: path))
        } catch {
            missing(error, keyPath: keyPath)
            return nil
        }
    }

    /// Records a problem found while compiling, at the position of `keyPath`.
    public mutating func report(_ kind: DiagnosticKind = .badValue, at keyPath: String, _ message: String, suggestion: String? = nil) {
        guard !diagnostics.contains(where: { $0.keyPath == keyPath && $0.message == message }) else { return }
        diagnostics.append(SpecDiagnostic(kind: kind, location: spec.location(of: keyPath), keyPath: keyPath,
                                          message: message, suggestion: suggestion))
    }

    /// `a, b, c`, or `none` for an empty list.
    public static func listing(_ names: [String]) -> String {
        names.isEmpty ? "none" : names.sorted().joined(separator: ", ")
    }

    // MARK: Files and checks

    /// Digests of an entry's path options by their `PathKind`, then the kind's own checks.
    /// Nil when a file is missing or a check fails (both reported).
    private mutating func references(for entry: RegistryEntry, definition: any ComponentDefinition,
                                     keyPath: String) -> [String: FileReference]? {
        var result: [String: FileReference] = [:]
        var complete = true
        for field in definition.options {
            guard case .path(let kind) = field.type, let path = entry.options[field.name]?.stringValue else { continue }
            let optionPath = "\(keyPath).\(field.name)"
            do {
                switch kind {
                case .file:
                    result[field.name] = FileReference(path: path, digest: try digester.digest(ofFile: path))
                case .directory:
                    result[field.name] = FileReference(path: path, digest: try digester.digest(ofDirectory: path))
                case .dataRoot:
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                        throw FileDigestError(path: path, problem: "is not an existing folder")
                    }
                    result[field.name] = FileReference(path: path, digest: "path-only")
                }
            } catch {
                complete = false
                missing(error, keyPath: optionPath)
            }
        }
        guard complete else { return nil }
        let problems = definition.check(entry.options)
        reportProblems(problems, keyPath: keyPath)
        return problems.isEmpty ? result : nil
    }

    private mutating func reportProblems(_ problems: [SpecProblem], keyPath: String) {
        for problem in problems {
            report(at: problem.path.map { "\(keyPath).\($0)" } ?? keyPath, problem.message)
        }
    }

    /// Records a missing-file diagnostic once per key path, explaining the variables behind it.
    private mutating func missing(_ error: Error, keyPath: String) {
        guard !diagnostics.contains(where: { $0.keyPath == keyPath }) else { return }
        var message = "\(error)"
        if let uses = spec.variableUses[keyPath], !uses.isEmpty {
            let explained = uses.map { use -> String in
                if use.isSet { return "\(use.name) is set" }
                return "\(use.name) is not set, so its default \"\(use.defaultValue ?? "")\" was used"
            }
            message += " (the path comes from " + explained.joined(separator: "; ") + ")"
        }
        diagnostics.append(SpecDiagnostic(kind: .missingFile, location: spec.location(of: keyPath), keyPath: keyPath, message: message))
    }

    private func encode<Value: Encodable>(_ value: Value) -> ParameterValue {
        do {
            return try ParameterValue(encoding: value)
        } catch {
            preconditionFailure("stage parameters are finite by validation: \(error)")
        }
    }
}
