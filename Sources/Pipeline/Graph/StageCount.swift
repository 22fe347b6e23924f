/// How many stages a spec will compile to, counted from its matrices alone, so that a spec whose
/// matrix multiplies out to millions of stages is refused before anything is built.
///
/// Counts are upper bounds: stages that tasks share (a dataset's manifest, a split every
/// backbone reads) are counted wherever they are added, as the compiler adds them before the
/// graph keeps one of each. Arithmetic saturates at `Int.max`, so a hostile matrix cannot overflow.
public enum StageCount {
    /// The default of `CompileOptions.maximumStages`: a spec beyond it is refused unless the
    /// limit is raised (`xrbench run/plan --max-stages N`). `xrbench plan` answers in about a
    /// second per 100,000 stages (docs/SPEC.md, `make bench`); specs of the paper's tables have
    /// a few thousand.
    public static let defaultMaximum = 200_000

    /// `a × b × …`, saturating at `Int.max`.
    public static func product(_ factors: some Sequence<Int>) -> Int {
        var result = 1
        for factor in factors {
            let (value, overflow) = result.multipliedReportingOverflow(by: max(0, factor))
            result = overflow ? Int.max : value
        }
        return result
    }

    /// `a + b + …`, saturating at `Int.max`.
    public static func sum(_ terms: some Sequence<Int>) -> Int {
        var result = 0
        for term in terms {
            let (value, overflow) = result.addingReportingOverflow(max(0, term))
            result = overflow ? Int.max : value
        }
        return result
    }

    /// The shared stages of a task's matrix: one manifest per dataset and one embedding per
    /// (backbone, dataset).
    public static func sharedStages(_ matrix: TaskMatrix) -> Int {
        sum([matrix.dataset.count, product([matrix.backbone.count, matrix.dataset.count])])
    }

    /// The count written for people: `102,010`, `more than 9 × 10^18` when it saturated.
    static func formatted(_ count: Int) -> String {
        if count == Int.max { return "more than 9 × 10^18" }
        var digits = Array(String(count))
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: index)
            index -= 3
        }
        return String(digits)
    }
}

extension TaskMatrix {
    /// Values per axis the task sets, `backbone` and `dataset` first, then the others in `order`
    /// (axes absent from `order` last, by name).
    public func axisSizes(order: [String] = []) -> [(axis: String, size: Int)] {
        let rest = axes.keys.filter { $0 != "backbone" && $0 != "dataset" }
            .sorted { (order.firstIndex(of: $0) ?? Int.max, $0) < (order.firstIndex(of: $1) ?? Int.max, $1) }
        return (["backbone", "dataset"] + rest).compactMap { name in axes[name].map { (name, $0.count) } }
    }

    /// The number of values of `axis`, or `absent` when the task does not set it (its default).
    public func size(of axis: String, absent: Int = 1) -> Int {
        axes[axis]?.count ?? absent
    }

    /// The product of every axis' size: the matrix's cell count (saturating).
    public var cellCount: Int {
        StageCount.product(axes.values.map(\.count))
    }
}

extension GraphBuilder {
    /// Diagnostics for a spec whose tasks together would add more than `limit` stages: one per
    /// task, at its `matrix`, naming its count and axis sizes; empty when the spec fits.
    static func sizeDiagnostics(_ spec: Spec, catalog: Catalog, limit: Int) -> [SpecDiagnostic] {
        let counts = spec.tasks.map { task in catalog.tasks[task.kind].map { $0.stageCount(task) } ?? task.matrix.cellCount }
        let total = StageCount.sum(counts)
        guard total > limit else { return [] }
        return zip(spec.tasks, counts).map { task, count in
            let axes = catalog.tasks[task.kind]?.axes.map(\.name) ?? []
            let sizes = task.matrix.axisSizes(order: axes).map { "\($0.axis) \($0.size)" }.joined(separator: " × ")
            let keyPath = task.keyPath("matrix")
            var message = "task \"\(task.name)\" expands to \(StageCount.formatted(count)) stages (\(sizes))"
            if spec.tasks.count > 1 { message += "; the spec's tasks together to \(StageCount.formatted(total))" }
            message += ", more than the limit of \(StageCount.formatted(limit)) stages. Shrink the matrix or split the spec"
                + (total < Int.max ? ", or raise the limit with --max-stages \(total)" : "")
            return SpecDiagnostic(kind: .tooManyStages, location: spec.location(of: keyPath), keyPath: keyPath, message: message)
        }
    }
}
