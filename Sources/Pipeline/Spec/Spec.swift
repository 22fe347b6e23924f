import Foundation

/// A validated experiment spec with its included registries merged in.
public struct Spec: Sendable {
    /// The experiment's name (a results coordinate).
    public var experiment: String
    /// Free text for readers.
    public var description: String?
    /// Every backbone defined by the spec or its includes, by name.
    public var backbones: [String: RegistryEntry]
    /// Every dataset defined by the spec or its includes, by name.
    public var datasets: [String: RegistryEntry]
    /// Probe heads: the built-in `mlp` and `linear` plus any defined ones.
    public var heads: [String: HeadSpec]
    /// Subgroup filters: the built-ins plus any defined ones.
    public var subgroups: [String: SubgroupSpec]
    /// The tasks, in spec order.
    public var tasks: [TaskSpec]
    /// Tables to render from the results.
    public var tables: [TableDeclaration]
    /// Figures to render from the results.
    public var figures: [FigureDeclaration]
    /// The spec file.
    public var file: URL
    /// SHA-256 of the spec's and every included file's text, in load order (a run's provenance).
    public var digest: String
    /// Where each key path was written, for errors found after validation (missing files, ...).
    public var locations: [String: SpecLocation]
    /// Environment variables used at each key path, to explain where a path came from.
    public var variableUses: [String: [VariableUse]]
}

/// A named backbone or dataset: its kind and its kind-specific options (validated, opaque here).
public struct RegistryEntry: Sendable, Hashable, Codable {
    /// Adapter or backbone kind, e.g. `chexpert`, `dinov2`.
    public var kind: String
    /// Kind-specific options with their YAML names; paths are absolute.
    public var options: [String: ParameterValue]

    /// Creates an entry.
    public init(kind: String, options: [String: ParameterValue] = [:]) {
        self.kind = kind
        self.options = options
    }
}

/// Probe head architectures.
public enum HeadKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The paper's MLP: hidden layers with ReLU and dropout.
    case mlp
    /// Logistic regression on the features.
    case linear
}

/// A probe head and its training configuration; absent fields take the paper's defaults.
public struct HeadSpec: Sendable, Hashable, Codable {
    /// Architecture.
    public var kind: HeadKind
    /// Hidden layer widths (MLP only; default 512, 256).
    public var hidden: [Int]?
    /// Dropout probability after each hidden layer (default 0.2).
    public var dropout: Double?
    /// Mini-batch size (default 64).
    public var batchSize: Int?
    /// Adam learning rate (default 1e-4).
    public var learningRate: Double?
    /// Adam weight decay (default 1e-6).
    public var weightDecay: Double?
    /// Epoch limit (default 500).
    public var maxEpochs: Int?
    /// Epochs without validation improvement before stopping (default 10).
    public var earlyStopPatience: Int?
    /// Epochs of plateau before the learning rate halves (default 2).
    public var plateauPatience: Int?

    /// Creates a head spec.
    public init(kind: HeadKind, hidden: [Int]? = nil, dropout: Double? = nil) {
        self.kind = kind
        self.hidden = hidden
        self.dropout = dropout
    }
}

/// A subgroup filter: every condition must hold (attribute → value, list of values, or `{min, max}`).
public struct SubgroupSpec: Sendable, Hashable, Codable {
    /// Conditions by sample attribute; empty means every sample.
    public var conditions: [String: ParameterValue]

    /// Creates a filter.
    public init(_ conditions: [String: ParameterValue]) {
        self.conditions = conditions
    }

    /// Decodes from a single JSON value.
    public init(from decoder: Decoder) throws {
        conditions = try decoder.singleValueContainer().decode([String: ParameterValue].self)
    }

    /// Encodes as a single JSON value.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(conditions)
    }
}

/// What kind of evaluation a task is.
public enum TaskKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Precision@k by cosine similarity of embeddings.
    case retrieval
    /// Probe training and test metrics.
    case classification
    /// Probes trained per subgroup, bootstrapped per test subgroup, compared with Mann–Whitney U.
    case fairness
}

/// Which embedding features a probe or retrieval uses.
public enum FeatureKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The CLS token.
    case cls
    /// Mean-pooled patch tokens.
    case mean
    /// Their concatenation.
    case clsAndMean = "cls+mean"
}

/// Test metrics.
public enum Metric: String, Sendable, Hashable, Codable, CaseIterable {
    /// Area under the ROC curve, per label and macro mean.
    case auroc
    /// Average precision (area under the precision–recall curve), per label and macro mean.
    case auprc
    /// Matthews correlation coefficient.
    case mcc
    /// Fraction of correct predictions.
    case accuracy
    /// Mean recall over the classes present.
    case balancedAccuracy = "balanced-accuracy"
}

/// How labels are organised.
public enum ClassificationTarget: String, Sendable, Hashable, Codable, CaseIterable {
    /// Independent binary labels (BCE loss).
    case multilabel
    /// One label column holding one of several classes (cross-entropy loss).
    case multiclass
}

/// The level at which predictions are scored.
public enum Aggregation: String, Sendable, Hashable, Codable, CaseIterable {
    /// Per image.
    case none
    /// Mean image probability per study (as for MURA).
    case study
}

/// Multiple-comparison correction for a family of tests.
public enum Correction: String, Sendable, Hashable, Codable, CaseIterable {
    /// Raw p-values.
    case none
    /// Holm–Bonferroni step-down.
    case holm
}

/// How a table summarises seeds.
public enum TableSummary: String, Sendable, Hashable, Codable, CaseIterable {
    /// Mean with the 95% interval.
    case meanCI = "mean-ci"
    /// Mean ± standard deviation.
    case meanStd = "mean-std"
    /// Mean alone.
    case mean
}

/// Figure kinds.
public enum FigureKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Box plots of bootstrap replicates per training and test subgroup.
    case fairnessBoxplot = "fairness-boxplot"
    /// Queries with their top-k neighbours.
    case retrievalGallery = "retrieval-gallery"
}

/// A set of samples: a subgroup, or the ids/paths listed in a file (one per line); absent = all.
public struct SampleSetSpec: Sendable, Hashable, Codable {
    /// Subgroup name.
    public var subgroup: String?
    /// A file listing sample ids or image paths.
    public var file: String?
}

/// Held-out ratios used when a dataset has no official split.
public struct SplitRatios: Sendable, Hashable, Codable {
    /// Validation share of patients (default 0.1).
    public var validation: Double?
    /// Test share of patients (default 0.2).
    public var test: Double?
}

/// Bootstrap settings.
public struct BootstrapSpec: Sendable, Hashable, Codable {
    /// Number of replicates (default 200).
    public var replicates: Int?
    /// Resampling seed (default 0).
    public var seed: Int?
}

/// The axes a task is expanded over; absent axes take one default value.
public struct MatrixSpec: Sendable, Hashable, Codable {
    /// Backbone names.
    public var backbone: [String]
    /// Dataset names.
    public var dataset: [String]
    /// Features (default `cls`).
    public var features: [FeatureKind]?
    /// Head names (default `mlp`).
    public var head: [String]?
    /// Training fractions in (0, 1] (default 1).
    public var fraction: [Double]?
    /// Seeds (default 0).
    public var seed: [Int]?
    /// Training subgroups (default `all`).
    public var train: [String]?
    /// Test subgroups (default `all`).
    public var test: [String]?
}

/// One task of a spec.
public struct TaskSpec: Sendable, Hashable, Codable {
    /// Unique name within the experiment (a results coordinate).
    public var name: String
    /// Task kind.
    public var kind: TaskKind
    /// Free text.
    public var description: String?
    /// The axes.
    public var matrix: MatrixSpec
    /// Retrieval: the k values of Precision@k.
    public var k: [Int]?
    /// Retrieval: labels/attributes a candidate must share with the query to be relevant.
    public var relevance: [String]?
    /// Retrieval: query set (default all samples).
    public var queries: SampleSetSpec?
    /// Retrieval: candidate set (default all samples).
    public var candidates: SampleSetSpec?
    /// Probe tasks: label columns.
    public var labels: [String]?
    /// Probe tasks: multilabel (default) or multiclass.
    public var target: ClassificationTarget?
    /// Probe tasks: metrics (fairness default `auroc`).
    public var metric: [Metric]?
    /// Probe tasks: image or study level.
    public var aggregate: Aggregation?
    /// Probe tasks: split ratios when the dataset has no official split.
    public var split: SplitRatios?
    /// Probe tasks: whether per-sample test predictions are recorded (default true).
    public var predictions: Bool?
    /// Fairness: bootstrap settings.
    public var bootstrap: BootstrapSpec?
    /// Fairness: pairs of training subgroups to compare (default every pair in `matrix.train`).
    public var comparisons: [[String]]?
    /// Fairness: multiple-comparison correction (default none).
    public var correction: Correction?
}

/// A table to render from recorded results.
public struct TableDeclaration: Sendable, Hashable, Codable {
    /// File name stem.
    public var name: String
    /// Tasks whose results fill the table.
    public var tasks: [String]
    /// Coordinates laid out down the rows.
    public var rows: [String]
    /// Coordinates laid out across the columns.
    public var columns: [String]
    /// The metric shown.
    public var metric: String?
    /// How seeds are summarised.
    public var summary: TableSummary?
    /// Caption.
    public var caption: String?
}

/// A figure to render from recorded results.
public struct FigureDeclaration: Sendable, Hashable, Codable {
    /// File name stem.
    public var name: String
    /// Figure kind.
    public var kind: FigureKind
    /// The task it draws.
    public var task: String
    /// Caption.
    public var caption: String?
}
