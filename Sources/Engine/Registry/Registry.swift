import Evaluation
import Pipeline

/// Everything a build of xrbench can run: backbone families, dataset adapters, head kinds, task
/// kinds with their stage runners, metrics and executors, each registered once by name.
///
/// In the manner of mlx-swift-lm's model-type registry: a registration is one value that carries
/// the option schema (which spec validation, the docs' option tables and `xrbench kinds` read),
/// the digest policy of its path options, its plan-time checks, and its factory or runners.
/// `catalog` is the spec language's view of it. Adding a kind is one file and one `register`
/// line; a test target can register its own kinds into a copy of `standard`.
///
/// ```swift
/// var registry = Registry.standard
/// registry.register(backbone: MyBackboneFamily())
/// let configuration = EngineConfiguration(registry: registry)
/// ```
public struct Registry: Sendable {
    /// Backbone families by name.
    public private(set) var backbones: [String: any BackboneFamily] = [:]
    /// Dataset adapters by name.
    public private(set) var datasets: [String: any DatasetAdapter] = [:]
    /// Head kinds by name.
    public private(set) var heads: [String: any HeadKind] = [:]
    /// Task kinds by name.
    public private(set) var tasks: [String: any TaskKind] = [:]
    /// Executors by name.
    public private(set) var executors: [String: any ExecutorKind] = [:]
    /// Metrics and metric families (`Evaluation.MetricCatalog`): what runners resolve names in.
    public private(set) var metrics = MetricCatalog()
    /// The runner of every stage kind.
    public private(set) var runners = StageRunnerRegistry()

    /// An empty registry (see `standard` for the built-in kinds).
    public init() {}

    /// Adds (or replaces, by name) a backbone family.
    public mutating func register(backbone family: any BackboneFamily) {
        backbones[family.name] = family
    }

    /// Adds (or replaces, by name) a dataset adapter.
    public mutating func register(dataset adapter: any DatasetAdapter) {
        datasets[adapter.name] = adapter
    }

    /// Adds (or replaces, by name) a head kind.
    public mutating func register(head kind: any HeadKind) {
        heads[kind.name] = kind
    }

    /// Adds (or replaces, by name) a task kind and the runners of its stage kinds.
    public mutating func register(task kind: any TaskKind) {
        tasks[kind.name] = kind
        for runner in kind.runners { runners.register(runner) }
    }

    /// Adds a metric (a name may be registered once).
    public mutating func register(metric: any Metric) {
        metrics.register(metric)
    }

    /// Adds a family of metrics (`precision@k`).
    public mutating func register(metricFamily family: MetricCatalog.Family) {
        metrics.register(family)
    }

    /// Adds (or replaces, by name) an executor.
    public mutating func register(executor kind: any ExecutorKind) {
        executors[kind.name] = kind
    }

    /// Adds (or replaces, by kind) the runner of one stage kind (the shared `manifest` and
    /// `embed` kinds, or a stand-in in tests).
    public mutating func register(runner: any StageRunner) {
        runners.register(runner)
    }

    /// Removes the runner of `kind`: its stages then plan as blocked (a build that cannot
    /// compute them).
    public mutating func removeRunner(for kind: StageKind) {
        runners.remove(kind)
    }

    /// The spec language's view: every kind's schema, checks and compile step.
    public var catalog: Catalog {
        let catalog = metrics
        let exactNames = Set(metrics.spellings.filter { !$0.isFamily }.map(\.name))
        let spellings = metrics.spellings.map { spelling -> MetricSpelling in
            // A family's pattern (`precision@k`) stands for every member in tables; a member is
            // any name the catalog resolves to a metric of the family's input.
            MetricSpelling(spelling: spelling.name, input: spelling.input, displayName: spelling.displayName,
                           higherIsBetter: spelling.direction == .higherIsBetter,
                           matches: { @Sendable name in
                               name == spelling.name
                                   || (spelling.isFamily && !exactNames.contains(name) && catalog.metric(named: name)?.input == spelling.input)
                           })
        }
        return Catalog(backbones: backbones.mapValues { $0 }, datasets: datasets.mapValues { $0 }, heads: heads.mapValues { $0 },
                       tasks: tasks.mapValues { $0 }, metrics: spellings, executors: executors.mapValues(\.options))
    }

    /// Code versions and thread needs per stage kind, for the compiler.
    public var compileOptions: CompileOptions { runners.compileOptions }
}
