import Pipeline

// The stage kinds of the built-in tasks and their parameters: the contract between each task's
// `compile` and its runners. Everything in these structs enters the stage key.

extension StageKind {
    /// Patient-disjoint train/validation/test indices for (dataset, fraction, seed, training filter).
    public static let split: StageKind = "split"
    /// Trains a head on embeddings and scores the whole test set.
    public static let probe: StageKind = "probe"
    /// Metrics of a probe's test predictions on one test subgroup (records results and predictions).
    public static let metric: StageKind = "metric"
    /// Precision@k by cosine similarity.
    public static let retrieval: StageKind = "retrieval"
    /// Bootstrap replicates of a metric on one test subgroup.
    public static let bootstrap: StageKind = "bootstrap"
    /// Mann–Whitney U tests between bootstrap replicate sets, with optional Holm correction.
    public static let compare: StageKind = "compare"
    /// Paired tests between backbones on the same test samples (DeLong, paired bootstrap).
    public static let pairedTest: StageKind = "paired-test"
}

/// Which embedding features a probe or retrieval uses.
public enum FeatureKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The CLS token.
    case cls
    /// Mean-pooled patch tokens.
    case mean
    /// Their concatenation.
    case clsAndMean = "cls+mean"
    /// The `[h, w, D]` patch-token grid (the patch heads' input; not a `features:` choice: a
    /// head that reads it is compiled with it whatever the axis says).
    case patch

    /// The pooled rows, the choices of the `features:` axes.
    public static let pooled: [FeatureKind] = [.cls, .mean, .clsAndMean]
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
    /// Few-shot: the training part becomes this many samples per class (per binary label: per
    /// value), from distinct patients, drawn from the whole training part with the seed
    /// (`Evaluation.drawFewShot`); nil for an ordinary split. Absent from the key when nil.
    public var shots: Int?
}

/// A head's kind and its settings with every default filled in (see `HeadKind.settings`).
public struct HeadParameters: Sendable, Hashable, Codable {
    /// The head kind (`mlp`, `linear`, ...).
    public var kind: String
    /// Its settings, as the kind resolved them.
    public var settings: ParameterValue
}

/// `probe`: trains a head on the training split and scores the whole test set (predictions are
/// part of the artifact). Inputs `embed`, `split`, and for heads that read patch tokens
/// `manifest` (their masks).
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
    /// For heads that segment: the dataset's mask classes they train on, in this order; nil for
    /// every class (absent from the key when nil, so other probes keep their keys).
    public var maskClasses: [String]? = nil
}

/// `metric`: scores a probe's test predictions on one test subgroup. Inputs `probe`, `manifest`.
public struct MetricParameters: Sendable, Hashable, Codable {
    /// Metric names to compute.
    public var metrics: [String]
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
    /// Whether to record the probe's training curve (`training_curve` rows under the probe's
    /// coordinates: no test subgroup, no label): set on the metric stage of a trained probe's
    /// first test subgroup, so each curve is recorded once. Absent from the key when nil.
    public var trainingCurve: Bool?
}

/// `bootstrap`: replicates of a metric on one test subgroup. Inputs `probe`, `manifest`.
public struct BootstrapParameters: Sendable, Hashable, Codable {
    /// The metric resampled.
    public var metric: String
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

/// A paired test between backbones.
public enum PairedTest: String, Sendable, Hashable, Codable, CaseIterable {
    /// DeLong's test of two AUROCs (fast algorithm of Sun and Xu), per binary label.
    case delong
    /// A paired, patient-clustered bootstrap of the difference of each task metric.
    case pairedBootstrap = "paired-bootstrap"
}

/// Two backbones compared: `first − second`.
public struct BackbonePair: Sendable, Hashable, Codable {
    /// The backbone whose probe's predictions are `group1`.
    public var first: String
    /// The backbone compared against (`group2`).
    public var second: String
}

/// `paired-test`: paired tests between the probes of several backbones on the same test samples
/// of one cell (the split is shared, so the test set is the same), Holm-corrected across the
/// stage's tests when asked. Inputs `probe.<backbone>` for every backbone involved, `manifest`.
public struct PairedTestParameters: Sendable, Hashable, Codable {
    /// The test.
    public var test: PairedTest
    /// Metrics compared (DeLong: `auroc`).
    public var metrics: [String]
    /// Label columns.
    public var labels: [String]
    /// Multilabel or multiclass.
    public var target: ClassificationTarget
    /// Image- or study-level scoring.
    public var aggregate: Aggregation
    /// Which test samples count.
    public var testFilter: SubgroupFilter
    /// The comparisons.
    public var pairs: [BackbonePair]
    /// Paired bootstrap: replicates and resampling seed (nil for DeLong).
    public var replicates: Int?
    public var seed: Int?
    /// Correction across the stage's tests.
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
