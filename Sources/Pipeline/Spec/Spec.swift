import Foundation

/// A validated experiment spec with its included registries merged in.
///
/// Backbones, datasets and heads are entries of kinds the `Catalog` defines, with their options
/// opaque here (validated against the kind's schema); tasks likewise carry their kind's fields
/// as an options map. Pipeline knows no kind by name.
public struct Spec: Sendable {
    /// The experiment's name (a results coordinate).
    public var experiment: String
    /// Free text for readers.
    public var description: String?
    /// Every backbone defined by the spec or its includes, by name.
    public var backbones: [String: RegistryEntry]
    /// Every dataset defined by the spec or its includes, by name.
    public var datasets: [String: RegistryEntry]
    /// Heads: one per head kind of the catalog, named after it with default options, plus the
    /// defined ones.
    public var heads: [String: RegistryEntry]
    /// Subgroup filters: the built-ins plus any defined ones.
    public var subgroups: [String: SubgroupSpec]
    /// Display names of labels in tables and figures (label → name), from `labels:` sections.
    public var labelDisplayNames: [String: String]
    /// The tasks, in spec order.
    public var tasks: [TaskSpec]
    /// Tables to render from the results.
    public var tables: [TableDeclaration]
    /// Figures to render from the results.
    public var figures: [FigureDeclaration]
    /// Test-sample count below which a value is a small sample: tables and figures mark it and
    /// the run summary warns (`small_sample:`, default 30).
    public var smallSample: Int = Spec.defaultSmallSample
    /// The default small-sample threshold.
    public static let defaultSmallSample = 30
    /// The spec file.
    public var file: URL
    /// SHA-256 of the spec's and every included file's text, in load order (a run's provenance).
    public var digest: String
    /// Where each key path was written, for errors found after validation (missing files, ...).
    public var locations: [String: SpecLocation]
    /// Environment variables used at each key path, to explain where a path came from.
    public var variableUses: [String: [VariableUse]]
    /// Executor profiles from the `executors:` section, by executor name; fields keyed by their
    /// Swift (lowerCamelCase) names, validated against the executor's schema.
    public var executors: [String: [String: ParameterValue]] = [:]

    /// Where `keyPath` was written (the spec file's first line when it is not known).
    public func location(of keyPath: String) -> SpecLocation {
        if let location = locations[keyPath] { return location }
        // Fall back on the nearest enclosing key path that has a location.
        var path = keyPath
        while let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) {
            path = String(path[..<cut])
            if let location = locations[path] { return location }
        }
        return SpecLocation(file: SpecLoader.displayPath(file), line: 1, column: 1)
    }
}

/// A named backbone, dataset or head: its kind and its kind-specific options (validated against
/// the kind's schema, opaque here).
public struct RegistryEntry: Sendable, Hashable, Codable {
    /// Adapter, backbone or head kind, e.g. `chexpert`, `dinov2`, `mlp`.
    public var kind: String
    /// Kind-specific options with their YAML names; paths are absolute.
    public var options: [String: ParameterValue]
    /// The name tables and figures show (default: the entry's name).
    public var display: String?
    /// Datasets: what an unreadable image does, `fail` (the default: every one is listed, the
    /// embedding fails) or `skip` (left out of every split, recorded as a sample issue).
    public var onError: String?

    /// Creates an entry.
    public init(kind: String, options: [String: ParameterValue] = [:], display: String? = nil, onError: String? = nil) {
        self.kind = kind
        self.options = options
        self.display = display
        self.onError = onError
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
    /// Predicted probability against observed frequency, per backbone (15 equal-width bins).
    case reliabilityDiagram = "reliability-diagram"
    /// Validation score and losses per epoch, per backbone.
    case trainingCurves = "training-curves"
    /// Example test images of a segmentation task with their ground truth and prediction.
    case segmentationExamples = "segmentation-examples"
}

/// What a table shows.
public enum TableKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A metric's values (the default).
    case metric
    /// Convergence speedups against a reference backbone, from the training curves (also drawn
    /// as a figure).
    case convergence
}

/// `significance:` of a table: mark cells not significantly different from the column's best.
public struct SignificanceDeclaration: Sendable, Hashable, Codable {
    /// α (default 0.05).
    public var alpha: Double?
    /// `holm` (default) or `none`.
    public var correction: String?
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
    /// Whether cells show the number of seeds (and test samples) behind them.
    public var showCount: Bool?
    /// Whether (and how) to mark cells not significantly different from their column's best.
    public var significance: SignificanceDeclaration?
    /// Metric values (default) or convergence speedups.
    public var kind: TableKind?
    /// Convergence tables: the backbone whose best validation score is the threshold.
    public var reference: String?
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
