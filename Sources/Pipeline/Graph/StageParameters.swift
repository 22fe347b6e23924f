/// The parameters each built-in stage kind receives: the contract between the compiler and the
/// stage runners. A runner decodes them with `try stage.parameters.decode(ProbeParameters.self)`.
///
/// Everything in these structs enters the stage key. Files appear as `FileReference`s (path plus
/// content digest): the digest makes the key change when the content changes, the path tells
/// the runner where to read.

/// A file or folder the spec points at, with the digest that stands for its content.
public struct FileReference: Sendable, Hashable, Codable {
    /// Absolute path.
    public var path: String
    /// SHA-256 of the content (for a folder: of its files' names and digests); for data roots
    /// whose content enters through the manifest instead, the string `"path-only"`.
    public var digest: String
}

/// `manifest`: reads a dataset into a sample list. No inputs.
public struct ManifestParameters: Sendable, Hashable, Codable {
    /// Adapter kind (`phantom`, `chexpert`, `mura`, `csv`).
    public var adapter: String
    /// Adapter options as written (paths made absolute).
    public var options: [String: ParameterValue]
    /// Digests of every file option (by option name), so editing a label CSV re-runs the manifest.
    public var files: [String: FileReference]
}

/// `embed`: runs a backbone over every sample of a manifest. Input `manifest`.
///
/// It always produces both CLS and mean-pooled patch tokens (one forward pass gives both), so
/// tasks that need different features share one embedding stage.
public struct EmbedParameters: Sendable, Hashable, Codable {
    /// Backbone kind (`dinov2`, `precomputed`, `pixels`, `vit-tiny-random`).
    public var backbone: String
    /// Backbone options as written (paths made absolute).
    public var options: [String: ParameterValue]
    /// Digests of the weight/embedding files (a model folder: one digest over its files).
    public var files: [String: FileReference]
}

/// A subgroup filter: its name (for messages and coordinates) and its conditions; both enter the key.
public struct SubgroupFilter: Sendable, Hashable, Codable {
    /// Subgroup name, e.g. `female`.
    public var name: String
    /// Attribute conditions; empty = every sample.
    public var conditions: [String: ParameterValue]
}

/// `split`: patient-disjoint train/validation/test indices. Input `manifest` only, so every
/// backbone shares the split.
///
/// The test set is the same for every `trainFilter` and `fraction` of a seed: the filter keeps
/// training and validation patients matching it, the fraction subsamples training patients
/// (nested: the 1% set of a seed lies inside its 10% set).
public struct SplitParameters: Sendable, Hashable, Codable {
    /// Training fraction in (0, 1].
    public var fraction: Double
    /// Seed of the patient split and the fraction draw.
    public var seed: Int
    /// Filter on training and validation samples.
    public var trainFilter: SubgroupFilter
    /// Validation share of patients when the dataset has no official split.
    public var validationRatio: Double
    /// Test share of patients when the dataset has no official split.
    public var testRatio: Double
    /// Labels to stratify by and to keep at least one positive of in each fraction.
    public var stratifyLabels: [String]
}

/// Training settings of a probe head, with the paper's defaults filled in.
public struct HeadParameters: Sendable, Hashable, Codable {
    /// `mlp` or `linear`.
    public var kind: HeadKind
    /// Hidden widths (empty for linear).
    public var hidden: [Int]
    /// Dropout after each hidden layer.
    public var dropout: Double
    /// Mini-batch size.
    public var batchSize: Int
    /// Adam learning rate.
    public var learningRate: Double
    /// Adam weight decay.
    public var weightDecay: Double
    /// Epoch limit.
    public var maxEpochs: Int
    /// Early-stopping patience in epochs.
    public var earlyStopPatience: Int
    /// Learning-rate plateau patience in epochs.
    public var plateauPatience: Int

    /// Fills `spec`'s absent fields with the paper's defaults (512/256, 0.2, 64, 1e-4, 1e-6, 500, 10, 2).
    public init(_ spec: HeadSpec) {
        kind = spec.kind
        hidden = spec.kind == .linear ? [] : (spec.hidden ?? [512, 256])
        dropout = spec.kind == .linear ? 0 : (spec.dropout ?? 0.2)
        batchSize = spec.batchSize ?? 64
        learningRate = spec.learningRate ?? 1e-4
        weightDecay = spec.weightDecay ?? 1e-6
        maxEpochs = spec.maxEpochs ?? 500
        earlyStopPatience = spec.earlyStopPatience ?? 10
        plateauPatience = spec.plateauPatience ?? 2
    }
}

/// `probe`: trains a head on the training split and scores the whole test set (predictions are
/// part of the artifact). Inputs `embed`, `split`.
public struct ProbeParameters: Sendable, Hashable, Codable {
    /// Head and training settings.
    public var head: HeadParameters
    /// Label columns.
    public var labels: [String]
    /// Multilabel or multiclass.
    public var target: ClassificationTarget
    /// Which embedding features feed the head.
    public var features: FeatureKind
    /// Seed of initialisation, shuffling and dropout.
    public var seed: Int
}

/// `metric`: scores a probe's test predictions on one test subgroup. Inputs `probe`, `manifest`.
public struct MetricParameters: Sendable, Hashable, Codable {
    /// Metrics to compute.
    public var metrics: [Metric]
    /// Label columns.
    public var labels: [String]
    /// Multilabel or multiclass.
    public var target: ClassificationTarget
    /// Image- or study-level scoring.
    public var aggregate: Aggregation
    /// Which test samples count.
    public var testFilter: SubgroupFilter
    /// Whether to record per-sample predictions.
    public var recordPredictions: Bool
}

/// `bootstrap`: replicates of a metric on one test subgroup. Inputs `probe`, `manifest`.
public struct BootstrapParameters: Sendable, Hashable, Codable {
    /// The metric resampled.
    public var metric: Metric
    /// Label columns.
    public var labels: [String]
    /// Multilabel or multiclass.
    public var target: ClassificationTarget
    /// Image- or study-level scoring.
    public var aggregate: Aggregation
    /// Which test samples count.
    public var testFilter: SubgroupFilter
    /// Number of replicates.
    public var replicates: Int
    /// Resampling seed.
    public var seed: Int
}

/// One Mann–Whitney comparison: replicates of two training subgroups on one test subgroup.
public struct Comparison: Sendable, Hashable, Codable {
    /// First training subgroup; its replicates are the input named `bootstrap.<first>.<test>`.
    public var first: String
    /// Second training subgroup.
    public var second: String
    /// Test subgroup.
    public var test: String
}

/// `compare`: a family of Mann–Whitney U tests (two-sided, tie-corrected, exact or asymptotic as
/// scipy's `method="auto"` chooses), optionally Holm-corrected across the family.
/// Inputs `bootstrap.<train>.<test>` for every pair involved.
public struct CompareParameters: Sendable, Hashable, Codable {
    /// The comparisons of the family.
    public var comparisons: [Comparison]
    /// Correction across the family.
    public var correction: Correction
}

/// `retrieval`: Precision@k by cosine similarity. Inputs `embed`, `manifest`.
public struct RetrievalParameters: Sendable, Hashable, Codable {
    /// The k values.
    public var k: [Int]
    /// Labels/attributes a candidate must share with the query to be relevant.
    public var relevance: [String]
    /// Features compared.
    public var features: FeatureKind
    /// Query set: a subgroup filter, a listed file, or every sample.
    public var queries: SampleSelection
    /// Candidate set.
    public var candidates: SampleSelection
}

/// A resolved sample set.
public struct SampleSelection: Sendable, Hashable, Codable {
    /// A filter (every sample when empty and `file` is nil).
    public var filter: SubgroupFilter?
    /// A file listing sample ids or image paths, one per line.
    public var file: FileReference?
}
