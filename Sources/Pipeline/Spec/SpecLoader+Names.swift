import Crypto
import Foundation

extension SpecLoader {
    /// Cross-file checks: duplicate definitions, unknown names, unset variables in what is used,
    /// and task-level rules the schema alone cannot express.
    func checkNames(_ state: inout LoadState) {
        var defined: [Namespace: [String: SpecLocation]] = [:]
        for definition in state.definitions {
            if let first = defined[definition.namespace]?[definition.name] {
                state.diagnostics.append(SpecDiagnostic(
                    kind: .duplicateName, location: definition.location, keyPath: definition.name,
                    message: "\(definition.namespace.rawValue) \"\(definition.name)\" is already defined at \(first)"))
            } else {
                defined[definition.namespace, default: [:]][definition.name] = definition.location
            }
        }
        var known = defined.mapValues { Set($0.keys) }
        known[.head, default: []].formUnion(builtInHeads.keys)
        known[.subgroup, default: []].formUnion(Self.builtInSubgroups.keys)
        var used: [Namespace: Set<String>] = [:]
        for reference in state.references {
            let names = known[reference.namespace] ?? []
            if names.contains(reference.name) {
                used[reference.namespace, default: []].insert(reference.name)
            } else {
                let candidates = names.sorted()
                let listing = candidates.isEmpty ? "none is defined" : "defined: " + candidates.joined(separator: ", ")
                state.diagnostics.append(SpecDiagnostic(
                    kind: .unknownReference, location: reference.location, keyPath: reference.keyPath,
                    message: "unknown \(reference.namespace.rawValue) \"\(reference.name)\" (\(listing))",
                    suggestion: closestMatch(to: reference.name, among: candidates)))
            }
        }
        // One diagnostic per unset variable, at its first use, saying what it should hold (from
        // a `${NAME:?...}` anywhere in the spec) and where else it is needed.
        var unsetUses: [(name: String, location: SpecLocation, keyPath: String)] = []
        var requirements: [String: String] = [:]
        for located in state.variableUses {
            let unresolved = located.uses.filter { !$0.isSet && $0.defaultValue == nil }
            guard !unresolved.isEmpty, isUsed(keyPath: located.keyPath, used: used) else { continue }
            for use in unresolved {
                unsetUses.append((use.name, located.location, located.keyPath))
                if let requirement = use.requirement, requirements[use.name] == nil { requirements[use.name] = requirement }
            }
        }
        var reported: Set<String> = []
        for use in unsetUses where !reported.contains(use.name) {
            reported.insert(use.name)
            let others = unsetUses.filter { $0.name == use.name && $0.location != use.location }
            let elsewhere = others.isEmpty ? "" : " (also needed by " + others.map(\.keyPath).joined(separator: ", ") + ")"
            let message = requirements[use.name].map { "environment variable \(use.name) is not set: it should name \($0); export \(use.name)=..." }
                ?? "environment variable \(use.name) is not set; export \(use.name)=... or write ${\(use.name):-default}"
            state.diagnostics.append(SpecDiagnostic(kind: .unsetVariable, location: use.location, keyPath: use.keyPath,
                                                    message: message + elsewhere))
        }
        if let top = state.values.first?.1 { checkTasks(top, state: &state) }
        // Report in reading order: by file (in load order), then line and column.
        let fileOrder = Dictionary(uniqueKeysWithValues: state.loadOrder.enumerated().map { (Self.displayPath(URL(fileURLWithPath: $1)), $0) })
        state.diagnostics = state.diagnostics.enumerated().sorted { left, right in
            let l = (fileOrder[left.element.location.file] ?? Int.max, left.element.location.line, left.element.location.column, left.offset)
            let r = (fileOrder[right.element.location.file] ?? Int.max, right.element.location.line, right.element.location.column, right.offset)
            return l < r
        }.map(\.element)
    }

    /// Whether a key path lies outside the registry sections, or inside an entry something uses.
    private func isUsed(keyPath: String, used: [Namespace: Set<String>]) -> Bool {
        let sections: [String: Namespace] = ["backbones": .backbone, "datasets": .dataset, "heads": .head, "subgroups": .subgroup]
        let parts = keyPath.split(separator: ".", maxSplits: 2).map(String.init)
        guard let section = parts.first, let namespace = sections[section] else { return true }
        guard parts.count > 1 else { return true }
        return used[namespace]?.contains(parts[1]) ?? false
    }

    /// Checks every task needs whatever its kind: no value listed twice in a matrix axis.
    private func checkTasks(_ spec: ParameterValue, state: inout LoadState) {
        guard let tasks = spec["tasks"]?.listValue else { return }
        for (index, task) in tasks.enumerated() {
            guard let matrix = task["options"]?["matrix"]?.objectValue else { continue }
            for (axis, values) in matrix {
                guard let list = values.listValue else { continue }
                var seen: Set<ParameterValue> = []
                for (position, value) in list.enumerated() where !seen.insert(value).inserted {
                    let path = "tasks[\(index)].matrix.\(axis)[\(position)]"
                    let location = state.locations[path] ?? SpecLocation(file: state.loadOrder.first.map { Self.displayPath(URL(fileURLWithPath: $0)) } ?? "", line: 1, column: 1)
                    state.diagnostics.append(SpecDiagnostic(kind: .badValue, location: location, keyPath: path,
                                                            message: "\(value.canonicalJSON) is listed twice in the \(axis) axis"))
                }
            }
        }
    }

    /// The task kinds' own checks across fields (a comparison naming a subgroup the task does
    /// not train on, ...), run once the spec is assembled.
    /// - Throws: `SpecError` listing every problem, with its position.
    func checkedTasks(_ spec: Spec) throws -> Spec {
        var diagnostics: [SpecDiagnostic] = []
        for task in spec.tasks {
            guard let definition = catalog.tasks[task.kind] else { continue }
            for problem in definition.check(task, in: spec) {
                let keyPath = problem.path.map(task.keyPath) ?? task.keyPath()
                diagnostics.append(SpecDiagnostic(kind: .badValue, location: spec.location(of: keyPath), keyPath: keyPath,
                                                  message: problem.message))
            }
        }
        // A convergence table compares against a backbone its tasks train.
        for (index, table) in spec.tables.enumerated() where table.kind == .convergence {
            let trained = table.tasks.flatMap { name in spec.tasks.first { $0.name == name }?.matrix.backbone ?? [] }
            if let reference = table.reference {
                guard !trained.contains(reference) else { continue }
                let keyPath = "tables[\(index)].reference"
                diagnostics.append(SpecDiagnostic(kind: .badValue, location: spec.location(of: keyPath), keyPath: keyPath,
                                                  message: "\"\(reference)\" is not a backbone of the table's tasks "
                                                      + "(\(Array(Set(trained)).sorted().joined(separator: ", "))); a convergence "
                                                      + "threshold comes from a backbone trained on the same splits"))
            } else {
                let keyPath = "tables[\(index)].kind"
                diagnostics.append(SpecDiagnostic(kind: .badValue, location: spec.location(of: keyPath), keyPath: keyPath,
                                                  message: "a convergence table needs `reference: BACKBONE`, the backbone whose best "
                                                      + "validation score each backbone must reach"))
            }
        }
        if !diagnostics.isEmpty { throw SpecError(diagnostics: diagnostics) }
        return spec
    }

    /// Decodes the validated files into one `Spec`.
    func assemble(top: URL, state: LoadState) throws -> Spec {
        let decoder = JSONDecoder()
        var files: [SpecFile] = []
        for (_, value) in state.values {
            files.append(try decoder.decode(SpecFile.self, from: Data(value.canonicalJSON.utf8)))
        }
        guard let main = files.first else { preconditionFailure("a validated spec has a top-level value") }
        let tasks = try (main.tasks ?? []).enumerated().map { try TaskSpec(validated: $1, index: $0) }
        var spec = Spec(
            experiment: main.experiment ?? "", description: main.description,
            backbones: [:], datasets: [:], heads: builtInHeads, subgroups: Self.builtInSubgroups, labelDisplayNames: [:],
            tasks: tasks, tables: main.tables ?? [], figures: main.figures ?? [],
            file: top, digest: "", locations: state.locations, variableUses: [:])
        spec.smallSample = main.smallSample ?? Spec.defaultSmallSample
        for file in files {
            spec.backbones.merge(file.backbones ?? [:]) { first, _ in first }
            spec.datasets.merge(file.datasets ?? [:]) { first, _ in first }
            spec.heads.merge(file.heads ?? [:]) { _, defined in defined }
            spec.subgroups.merge(file.subgroups ?? [:]) { _, defined in defined }
            spec.labelDisplayNames.merge(file.labels ?? [:]) { first, _ in first }
        }
        for located in state.variableUses { spec.variableUses[located.keyPath] = located.uses }
        spec.executors = main.executors ?? [:]
        var hasher = SHA256()
        for path in state.loadOrder { hasher.update(data: Data((state.texts[path] ?? "").utf8)) }
        spec.digest = hexString(hasher.finalize())
        return spec
    }
}

/// One file's decoded content; every section is optional (registries have no tasks).
struct SpecFile: Decodable {
    var experiment: String?
    var description: String?
    var smallSample: Int?
    var include: [String]?
    var backbones: [String: RegistryEntry]?
    var datasets: [String: RegistryEntry]?
    var heads: [String: RegistryEntry]?
    var subgroups: [String: SubgroupSpec]?
    var labels: [String: String]?
    var tasks: [ParameterValue]?
    var tables: [TableDeclaration]?
    var figures: [FigureDeclaration]?
    var executors: [String: [String: ParameterValue]]?
}
