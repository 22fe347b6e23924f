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
        known[.head, default: []].formUnion(Self.builtInHeads.keys)
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

    private func checkTasks(_ spec: ParameterValue, state: inout LoadState) {
        guard let tasks = spec["tasks"]?.listValue else { return }
        func report(_ kind: DiagnosticKind, _ path: String, _ message: String) {
            let location = state.locations[path] ?? SpecLocation(file: state.loadOrder.first.map { Self.displayPath(URL(fileURLWithPath: $0)) } ?? "", line: 1, column: 1)
            state.diagnostics.append(SpecDiagnostic(kind: kind, location: location, keyPath: path, message: message))
        }
        for (index, task) in tasks.enumerated() {
            let path = "tasks[\(index)]"
            if let matrix = task["matrix"]?.objectValue {
                for (axis, values) in matrix {
                    guard let list = values.listValue else { continue }
                    var seen: Set<ParameterValue> = []
                    for (position, value) in list.enumerated() where !seen.insert(value).inserted {
                        report(.badValue, "\(path).matrix.\(axis)[\(position)]", "\(value.canonicalJSON) is listed twice in the \(axis) axis")
                    }
                }
            }
            for side in ["queries", "candidates"] {
                if let set = task[side]?.objectValue, set["subgroup"] != nil, set["file"] != nil {
                    report(.badValue, "\(path).\(side)", "give either `subgroup` or `file`, not both")
                }
            }
            if let comparisons = task["comparisons"]?.listValue {
                let trained = Set(task["matrix"]?["train"]?.listValue?.compactMap(\.stringValue) ?? [])
                for (position, pair) in comparisons.enumerated() {
                    let names = pair.listValue?.compactMap(\.stringValue) ?? []
                    if names.count != 2 {
                        report(.badValue, "\(path).comparisons[\(position)]", "a comparison names exactly two training subgroups, found \(names.count)")
                    }
                    for (slot, name) in names.enumerated() where !trained.contains(name) {
                        report(.badValue, "\(path).comparisons[\(position)][\(slot)]",
                               "\"\(name)\" is not a training subgroup of this task (matrix.train: \(trained.sorted().joined(separator: ", ")))")
                    }
                }
            }
        }
    }

    /// Decodes the validated files into one `Spec`.
    func assemble(top: URL, state: LoadState) throws -> Spec {
        let decoder = JSONDecoder()
        var files: [SpecFile] = []
        for (_, value) in state.values {
            files.append(try decoder.decode(SpecFile.self, from: Data(value.canonicalJSON.utf8)))
        }
        guard let main = files.first else { preconditionFailure("a validated spec has a top-level value") }
        var spec = Spec(
            experiment: main.experiment ?? "", description: main.description,
            backbones: [:], datasets: [:], heads: Self.builtInHeads, subgroups: Self.builtInSubgroups,
            tasks: main.tasks ?? [], tables: main.tables ?? [], figures: main.figures ?? [],
            file: top, digest: "", locations: state.locations, variableUses: [:])
        for file in files {
            spec.backbones.merge(file.backbones ?? [:]) { first, _ in first }
            spec.datasets.merge(file.datasets ?? [:]) { first, _ in first }
            spec.heads.merge(file.heads ?? [:]) { _, defined in defined }
            spec.subgroups.merge(file.subgroups ?? [:]) { _, defined in defined }
        }
        for located in state.variableUses { spec.variableUses[located.keyPath] = located.uses }
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
    var include: [String]?
    var backbones: [String: RegistryEntry]?
    var datasets: [String: RegistryEntry]?
    var heads: [String: HeadSpec]?
    var subgroups: [String: SubgroupSpec]?
    var tasks: [TaskSpec]?
    var tables: [TableDeclaration]?
    var figures: [FigureDeclaration]?
}
