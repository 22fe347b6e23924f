/// What a spec may name: the kinds of backbones, datasets, heads and tasks, and the metrics,
/// each with its option schema.
///
/// Spec validation, compilation and the option tables in the docs read it. The engine's
/// `Registry` builds it from its registrations: one registration per kind carries the option
/// schema (here), the digest policy of its path options (here, in the schema) and its factory
/// or runners (in the engine). Pipeline itself knows no kind by name.
public struct Catalog: Sendable {
    /// Backbone families by `kind:` name (`dinov2`, `pixels`, ...).
    public var backbones: [String: any ComponentDefinition]
    /// Dataset adapters by `kind:` name (`chexpert`, `csv`, ...).
    public var datasets: [String: any DatasetDefinition]
    /// Head kinds by `kind:` name (`mlp`, `linear`, ...). Every head kind can also be named
    /// directly in a task's `head:` axis, with its default options.
    public var heads: [String: any ComponentDefinition]
    /// Task kinds by `kind:` name (`classification`, `retrieval`, ...).
    public var tasks: [String: any TaskDefinition]
    /// Every metric spelling (`auroc`, `precision@k`, ...).
    public var metrics: [MetricSpelling]
    /// The profile options of each executor (`--executor` name → fields), which a spec's
    /// `executors:` section and a `--profile` file are validated against.
    public var executors: [String: [SchemaField]]

    /// Creates a catalog.
    public init(backbones: [String: any ComponentDefinition] = [:], datasets: [String: any DatasetDefinition] = [:],
                heads: [String: any ComponentDefinition] = [:], tasks: [String: any TaskDefinition] = [:],
                metrics: [MetricSpelling] = [], executors: [String: [SchemaField]] = [:]) {
        self.backbones = backbones
        self.datasets = datasets
        self.heads = heads
        self.tasks = tasks
        self.metrics = metrics
        self.executors = executors
    }

    /// The metric that `name` spells, if any (`precision@10` is the `precision@k` spelling).
    public func metric(named name: String) -> MetricSpelling? {
        metrics.first { $0.matches(name) }
    }

    /// Metric spellings that score `input` (every spelling when `input` is nil).
    public func metrics(for input: String?) -> [MetricSpelling] {
        guard let input else { return metrics }
        return metrics.filter { $0.input == input }
    }
}

/// A kind of backbone, dataset or head, as the spec language sees it.
public protocol ComponentDefinition: Sendable {
    /// The `kind:` value.
    var name: String { get }
    /// One line for the docs and `xrbench kinds`.
    var summary: String { get }
    /// Its options, as written under its entry. Path fields say how their content enters stage
    /// keys (see `PathKind`).
    var options: [SchemaField] { get }
    /// Checks that need several options together or the files they name (a resolution that
    /// must be a multiple of the model's patch size), run before any work.
    /// - Parameter options: the validated options, with their YAML names; paths are absolute.
    /// - Returns: one problem per thing wrong; empty when the options are usable.
    func check(_ options: [String: ParameterValue]) -> [SpecProblem]
}

extension ComponentDefinition {
    /// No cross-option checks.
    public func check(_ options: [String: ParameterValue]) -> [SpecProblem] { [] }
}

/// A dataset adapter, as the spec language sees it.
public protocol DatasetDefinition: ComponentDefinition {
    /// Whether the dataset is generated from its options alone (the phantom), so its manifest
    /// is a pure function of them; otherwise it reads label files and images outside the
    /// cache, and its manifest stage is volatile (it runs on every plan and run, and what
    /// it read keys the stages downstream).
    var generatesData: Bool { get }
    /// The labels and attributes its samples will carry, as far as the options (and, for a CSV,
    /// the file's header) tell before the manifest is built; `nil` when they cannot be known.
    /// Tasks check their labels, relevance names and subgroup attributes against them at plan
    /// time.
    /// - Throws: `SpecProblem` when a file it must read to know (a CSV header) is unusable.
    func fields(_ options: [String: ParameterValue]) throws(SpecProblem) -> DatasetFields?
}

extension DatasetDefinition {
    /// Reads data outside the cache.
    public var generatesData: Bool { false }

    /// Unknown before the manifest is built.
    public func fields(_ options: [String: ParameterValue]) throws(SpecProblem) -> DatasetFields? { nil }
}

/// The label and attribute names a dataset's samples carry, and its segmentation classes.
public struct DatasetFields: Sendable, Hashable {
    /// Label names.
    public var labels: [String]
    /// Attribute names (`sex`, `age`, `view`, ...).
    public var attributes: [String]
    /// Segmentation classes, in mask-plane order; empty for a dataset without masks.
    public var masks: [String]

    /// Creates the field list.
    public init(labels: [String], attributes: [String], masks: [String] = []) {
        self.labels = labels
        self.attributes = attributes
        self.masks = masks
    }

    /// Whether `name` is a label or an attribute (subgroup filters and retrieval relevance
    /// look at both).
    public func contains(_ name: String) -> Bool {
        labels.contains(name) || attributes.contains(name)
    }
}

/// Something wrong with a spec entry (a backbone's, dataset's or head's options, a task's
/// fields), found before any work; the loader adds the file, line and column.
public struct SpecProblem: Error, Sendable, Hashable, CustomStringConvertible {
    /// The key path of what is at fault, relative to the entry (`resolution`,
    /// `comparisons[0][1]`), or nil for the entry as a whole.
    public var path: String?
    /// What is wrong and what to do.
    public var message: String

    /// Creates a problem.
    public init(at path: String?, _ message: String) {
        self.path = path
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// One way of writing a metric in a spec, and what the tables need to know of it.
public struct MetricSpelling: Sendable {
    /// `auroc`, or a pattern with a parameter such as `precision@k`.
    public var spelling: String
    /// What it scores: task kinds accept the metrics of their input (`classification`,
    /// `retrieval`, ...).
    public var input: String
    /// The name tables print (`AUROC`, `P@k`).
    public var displayName: String
    /// Whether larger values are better.
    public var higherIsBetter: Bool
    /// Whether a metric name is this metric (for patterns: `precision@10` is `precision@k`).
    public var matches: @Sendable (String) -> Bool

    /// Creates a spelling.
    public init(spelling: String, input: String, displayName: String, higherIsBetter: Bool,
                matches: (@Sendable (String) -> Bool)? = nil) {
        self.spelling = spelling
        self.input = input
        self.displayName = displayName
        self.higherIsBetter = higherIsBetter
        self.matches = matches ?? { $0 == spelling }
    }
}
