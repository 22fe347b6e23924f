import Pipeline

/// `classification`: a head trained on frozen embeddings per cell of (backbone, dataset, head,
/// features, fraction, seed, training subgroup), scored on each test subgroup.
public struct ClassificationTask: TaskKind {
    public var name: String { "classification" }
    public var summary: String { "probe heads on frozen embeddings; test metrics per label and macro mean" }
    public var fields: [SchemaField] { ProbeTaskFields.common + [SchemaField("metric", .oneOrList(ProbeTaskFields.metric), required: true)] }
    public var axes: [SchemaField] { ProbeTaskFields.axes(trainAndTestRequired: false) }
    public var runners: [any StageRunner] { [SplitRunner(), ProbeRunner(), MetricRunner(), PairedTestRunner()] }

    /// Creates the task kind.
    public init() {}

    public func stageCount(_ task: TaskSpec) -> Int {
        ProbeTaskCompiler(task: task, fairness: false).stageCount
    }

    /// Few-shot and comparison settings fit the matrix (`ProbeTaskChecks`).
    public func check(_ task: TaskSpec, in spec: Spec) -> [SpecProblem] {
        ProbeTaskChecks.check(task)
    }

    public func compile(_ task: TaskSpec, into graph: inout GraphBuilder) {
        ProbeTaskCompiler(task: task, fairness: false).compile(into: &graph)
    }

    /// Patch tokens when one of the task's heads reads them.
    public func embeddingOutputs(_ task: TaskSpec, in spec: Spec, catalog: Catalog) -> EmbeddingOutputs {
        ProbeTaskFields.embeddingOutputs(task, in: spec, catalog: catalog)
    }

}

/// `fairness`: probes trained per training subgroup, tested per test subgroup, with bootstrap
/// replicates of the metric and Mann–Whitney U tests between training subgroups (the paper's
/// Fig. 4 protocol).
public struct FairnessTask: TaskKind {
    public var name: String { "fairness" }
    public var summary: String { "probes per training subgroup, bootstrap per test subgroup, Mann–Whitney U between training subgroups" }
    public var fields: [SchemaField] {
        ProbeTaskFields.common + [
            SchemaField("metric", .oneOrList(ProbeTaskFields.metric)),
            SchemaField("bootstrap", .object(ObjectSchema([
                SchemaField("replicates", .integer(.atLeastOne)),
                SchemaField("seed", .integer(.nonNegative)),
            ]))),
            SchemaField("comparisons", .list(.list(.reference(.subgroup), minimumCount: 2), minimumCount: 1)),
            SchemaField("correction", .string(choices: Correction.allCases.map(\.rawValue))),
        ]
    }
    public var axes: [SchemaField] { ProbeTaskFields.axes(trainAndTestRequired: true) }
    public var runners: [any StageRunner] {
        [SplitRunner(), ProbeRunner(), MetricRunner(), BootstrapRunner(), CompareRunner(), PairedTestRunner()]
    }

    /// Creates the task kind.
    public init() {}

    /// Each comparison names exactly two of the task's training subgroups; few-shot and
    /// backbone comparison settings fit the matrix (`ProbeTaskChecks`).
    public func check(_ task: TaskSpec, in spec: Spec) -> [SpecProblem] {
        var problems = ProbeTaskChecks.check(task)
        guard let comparisons = try? task.options(as: ProbeTaskOptions.self).comparisons else { return problems }
        let trained = Set(task.matrix.strings("train") ?? [])
        for (position, names) in comparisons.enumerated() {
            if names.count != 2 {
                problems.append(SpecProblem(at: "comparisons[\(position)]", "a comparison names exactly two training subgroups, found \(names.count)"))
            }
            for (slot, name) in names.enumerated() where !trained.contains(name) {
                problems.append(SpecProblem(at: "comparisons[\(position)][\(slot)]",
                                            "\"\(name)\" is not a training subgroup of this task (matrix.train: \(trained.sorted().joined(separator: ", ")))"))
            }
        }
        return problems
    }

    public func stageCount(_ task: TaskSpec) -> Int {
        ProbeTaskCompiler(task: task, fairness: true).stageCount
    }

    public func compile(_ task: TaskSpec, into graph: inout GraphBuilder) {
        ProbeTaskCompiler(task: task, fairness: true).compile(into: &graph)
    }

    /// Patch tokens when one of the task's heads reads them.
    public func embeddingOutputs(_ task: TaskSpec, in spec: Spec, catalog: Catalog) -> EmbeddingOutputs {
        ProbeTaskFields.embeddingOutputs(task, in: spec, catalog: catalog)
    }

}

/// The fields the probe tasks share.
enum ProbeTaskFields {
    /// What the heads of a probe task read beyond pooled rows, together.
    static func embeddingOutputs(_ task: TaskSpec, in spec: Spec, catalog: Catalog) -> EmbeddingOutputs {
        (task.matrix.strings("head") ?? ["mlp"]).reduce(.pooled) { $0.union(catalog.embeddingOutputs(ofHead: $1, in: spec)) }
    }

    static var common: [SchemaField] {
        [
            SchemaField("labels", .list(.string(), minimumCount: 1), required: true),
            SchemaField("target", .string(choices: ClassificationTarget.allCases.map(\.rawValue))),
            SchemaField("aggregate", .string(choices: Aggregation.allCases.map(\.rawValue))),
            SchemaField("split", .object(ObjectSchema([
                SchemaField("validation", .number(.openUnit)),
                SchemaField("test", .number(.openUnit)),
            ]))),
            SchemaField("predictions", .boolean),
            SchemaField("compare", .object(ObjectSchema([
                SchemaField("against", .string(), required: true),
                SchemaField("test", .string(choices: PairedTest.allCases.map(\.rawValue)), required: true),
                SchemaField("replicates", .integer(.atLeastOne)),
                SchemaField("seed", .integer(.nonNegative)),
                SchemaField("correction", .string(choices: Correction.allCases.map(\.rawValue))),
            ]))),
            SchemaField("tries", .integer(.atLeastOne)),
            SchemaField("masks", .list(.string(), minimumCount: 1)),
        ]
    }

    /// A classification metric, or a segmentation metric (`dice`, `iou`, `dice-pos`) of the
    /// heads that segment (checked against the heads when the task compiles).
    static let metric = SchemaType.metric(inputs: ["classification", SegmentationMetricName.dice.input])

    static func axes(trainAndTestRequired: Bool) -> [SchemaField] {
        [
            SchemaField("features", .list(.string(choices: FeatureKind.pooled.map(\.rawValue)), minimumCount: 1)),
            SchemaField("head", .list(.reference(.head), minimumCount: 1)),
            SchemaField("fraction", .list(.number(.unitFraction), minimumCount: 1)),
            SchemaField("shots", .list(.integer(.atLeastOne), minimumCount: 1)),
            SchemaField("seed", .list(.integer(.nonNegative), minimumCount: 1)),
            SchemaField("train", .list(.reference(.subgroup), minimumCount: 1), required: trainAndTestRequired),
            SchemaField("test", .list(.reference(.subgroup), minimumCount: 1), required: trainAndTestRequired),
        ]
    }
}

/// The probe tasks' fields, decoded (Swift names of the YAML keys).
struct ProbeTaskOptions: Decodable {
    struct SplitRatios: Decodable {
        var validation: Double?
        var test: Double?
    }

    struct BootstrapSettings: Decodable {
        var replicates: Int?
        var seed: Int?
    }

    /// `compare:`: paired tests between backbones.
    struct CompareSettings: Decodable {
        /// A backbone of the task, or `all` (every pair).
        var against: String
        var test: PairedTest
        var replicates: Int?
        var seed: Int?
        var correction: Correction?
    }

    var labels: [String]
    var target: ClassificationTarget?
    var aggregate: Aggregation?
    var split: SplitRatios?
    var predictions: Bool?
    /// The mask classes the heads that segment train on (default: every class of the dataset).
    var masks: [String]?
    var metric: [String]?
    var bootstrap: BootstrapSettings?
    var comparisons: [[String]]?
    var correction: Correction?
    var compare: CompareSettings?
    /// Few-shot episodes: the seeds 0..<tries.
    var tries: Int?
}
