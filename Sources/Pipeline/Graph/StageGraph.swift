import Collections

/// Why a set of stages does not form a valid graph.
public enum GraphError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A stage names an input key no stage in the graph has.
    case missingInput(stage: String, role: String, key: StageKey)
    /// The stages form a cycle; the labels are listed in cycle order, the first repeated at the end.
    case cycle([String])

    /// What is wrong and which stages are involved.
    public var description: String {
        switch self {
        case .missingInput(let stage, let role, let key):
            return "stage \"\(stage)\" needs input \"\(role)\" (key \(key.short)), which no stage in the graph produces"
        case .cycle(let labels):
            return "the stages form a cycle: " + labels.joined(separator: " → ")
        }
    }
}

/// A validated DAG of stages in a deterministic topological order.
public struct StageGraph: Sendable {
    /// Stages in topological order (inputs before the stages that read them).
    public let stages: [Stage]
    /// Position of each key in `stages`.
    public let index: [StageKey: Int]
    /// For each stage position, the positions of the stages that read it.
    public let dependents: [[Int]]

    /// Builds the graph, checking that every input exists and that there is no cycle.
    ///
    /// Stages with equal keys are one stage (the first occurrence is kept), which is how sharing
    /// works: the compiler emits a stage wherever a task needs it and the graph keeps one copy.
    /// - Throws: `GraphError.missingInput` or `GraphError.cycle` (naming the stages in the cycle).
    /// - Complexity: O(stages + edges).
    public init(_ stages: some Sequence<Stage>) throws {
        // Stages are large values: work on positions and copy each kept stage once, at the end.
        let given = Array(stages)
        var position: [StageKey: Int] = [:]   // key → position among the unique stages
        position.reserveCapacity(given.count)
        var unique: [Int] = []                // unique stage → position in `given`
        unique.reserveCapacity(given.count)
        for (offset, stage) in given.enumerated() where position[stage.key] == nil {
            position[stage.key] = unique.count
            unique.append(offset)
        }
        var dependents = [[Int]](repeating: [], count: unique.count)
        var pending = [Int](repeating: 0, count: unique.count)
        for (offset, source) in unique.enumerated() {
            let stage = given[source]
            for role in stage.inputs.keys.sorted() {
                let key = stage.inputs[role]!
                guard let input = position[key] else {
                    throw GraphError.missingInput(stage: stage.label, role: role, key: key)
                }
                dependents[input].append(offset)
                pending[offset] += 1
            }
        }
        // Kahn's algorithm; ties broken by first appearance so the order is deterministic.
        var ready = Deque((0..<unique.count).filter { pending[$0] == 0 })
        var order: [Int] = []
        order.reserveCapacity(unique.count)
        while let next = ready.popFirst() {
            order.append(next)
            for dependent in dependents[next] {
                pending[dependent] -= 1
                if pending[dependent] == 0 { ready.append(dependent) }
            }
        }
        if order.count < unique.count {
            let all = unique.map { given[$0] }
            throw GraphError.cycle(Self.findCycle(all, position: position, remaining: Set((0..<unique.count).filter { pending[$0] > 0 })))
        }
        var rank = [Int](repeating: 0, count: unique.count)   // unique stage → place in `order`
        for (place, stage) in order.enumerated() { rank[stage] = place }
        self.stages = order.map { given[unique[$0]] }
        self.index = position.mapValues { rank[$0] }
        self.dependents = order.map { stage in
            var readers: [Int] = []   // a stage reading one input under two roles is listed once
            for reader in dependents[stage].map({ rank[$0] }).sorted() where readers.last != reader { readers.append(reader) }
            return readers
        }
    }

    /// The stage with `key`, if the graph has it.
    public subscript(key: StageKey) -> Stage? {
        index[key].map { stages[$0] }
    }

    /// Every stage that reads `key` directly or through other stages.
    public func downstream(of key: StageKey) -> Set<StageKey> {
        guard let start = index[key] else { return [] }
        var seen: Set<Int> = []
        var stack = dependents[start]
        while let next = stack.popLast() {
            if seen.insert(next).inserted { stack += dependents[next] }
        }
        return Set(seen.map { stages[$0].key })
    }

    /// Number of stages of each kind.
    public var countsByKind: [StageKind: Int] {
        stages.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 }
    }

    /// Walks input edges from a stuck stage until a stage repeats: that loop is a cycle.
    private static func findCycle(_ stages: [Stage], position: [StageKey: Int], remaining: Set<Int>) -> [String] {
        guard let start = remaining.min() else { return [] }
        var path: [Int] = []
        var seenAt: [Int: Int] = [:]
        var current = start
        while seenAt[current] == nil {
            seenAt[current] = path.count
            path.append(current)
            // Follow an input that is itself stuck: one always exists for a stage in `remaining`.
            guard let next = stages[current].inputs.keys.sorted().compactMap({ position[stages[current].inputs[$0]!] })
                    .first(where: { remaining.contains($0) }) else { break }
            current = next
        }
        // Reversed, the walk follows data flow (input → reader); start at the earliest-listed stage.
        var cycle = Array(path[(seenAt[current] ?? 0)...].reversed())
        if let first = cycle.indices.min(by: { cycle[$0] < cycle[$1] }) {
            cycle = Array(cycle[first...] + cycle[..<first])
        }
        let labels = cycle.map { stages[$0].label }
        return labels + [labels.first ?? ""]
    }
}
