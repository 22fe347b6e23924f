import Pipeline

/// `retrieval`: Precision@k of cosine-similarity retrieval, per (backbone, dataset, features).
public struct RetrievalTask: TaskKind {
    public var name: String { "retrieval" }
    public var summary: String { "Precision@k of cosine-similarity retrieval: relevant when a candidate shares the query's labels/attributes" }

    static let sampleSet = SchemaType.object(ObjectSchema([
        SchemaField("subgroup", .reference(.subgroup)),
        SchemaField("file", .path(.file)),
    ]))

    public var fields: [SchemaField] {
        [
            SchemaField("k", .list(.integer(.atLeastOne), minimumCount: 1), required: true),
            SchemaField("relevance", .oneOrList(.string()), required: true),
            SchemaField("queries", Self.sampleSet),
            SchemaField("candidates", Self.sampleSet),
        ]
    }
    public var axes: [SchemaField] {
        [SchemaField("features", .list(.string(choices: FeatureKind.pooled.map(\.rawValue)), minimumCount: 1))]
    }
    public var runners: [any StageRunner] { [RetrievalRunner()] }

    /// Creates the task kind.
    public init() {}

    struct Options: Decodable {
        struct SampleSet: Decodable {
            var subgroup: String?
            var file: String?
        }

        var k: [Int]
        var relevance: [String]
        var queries: SampleSet?
        var candidates: SampleSet?
    }

    /// A sample set is a subgroup or a file, not both.
    public func check(_ task: TaskSpec, in spec: Spec) -> [SpecProblem] {
        guard let options = try? task.options(as: Options.self) else { return [] }
        return [("queries", options.queries), ("candidates", options.candidates)].compactMap { side, set in
            guard let set, set.subgroup != nil, set.file != nil else { return nil }
            return SpecProblem(at: side, "give either `subgroup` or `file`, not both")
        }
    }

    /// One retrieval stage per (backbone, dataset, features), plus the shared manifests and embeddings.
    public func stageCount(_ task: TaskSpec) -> Int {
        let matrix = task.matrix
        return StageCount.sum([StageCount.sharedStages(matrix),
                               StageCount.product(["backbone", "dataset", "features"].map { matrix.size(of: $0) })])
    }

    public func compile(_ task: TaskSpec, into graph: inout GraphBuilder) {
        let options: Options
        do {
            options = try task.options(as: Options.self)
        } catch {
            preconditionFailure("validated retrieval fields decode: \(error)")
        }
        for dataset in task.matrix.dataset { checkFields(task, options, dataset: dataset, graph: &graph) }
        for backbone in task.matrix.backbone {
            for dataset in task.matrix.dataset {
                guard let (embed, manifest) = graph.embedding(backbone: backbone, dataset: dataset),
                      let queries = selection(task, options.queries, side: "queries", graph: &graph),
                      let candidates = selection(task, options.candidates, side: "candidates", graph: &graph) else { continue }
                for feature in (task.matrix.strings("features") ?? ["cls"]).compactMap(FeatureKind.init(rawValue:)) {
                    let coordinates = StageCoordinates(experiment: graph.spec.experiment, task: task.name, backbone: backbone,
                                                       dataset: dataset, features: feature.rawValue)
                    graph.add(.retrieval, parameters: RetrievalParameters(k: options.k, relevance: options.relevance, features: feature,
                                                                          queries: queries, candidates: candidates),
                              inputs: ["embed": embed.key, "manifest": manifest.key], coordinates: coordinates,
                              label: "retrieval \(task.name) \(backbone) × \(dataset) [\(feature.rawValue)]")
                }
            }
        }
    }

    /// Every relevance name must be a label or attribute of the dataset, and the query and
    /// candidate subgroups must look at attributes it has (when known before its manifest).
    private func checkFields(_ task: TaskSpec, _ options: Options, dataset: String, graph: inout GraphBuilder) {
        guard let fields = graph.fields(ofDataset: dataset) else { return }
        for (index, name) in options.relevance.enumerated() where !fields.contains(name) {
            graph.report(at: task.keyPath("relevance[\(index)]"), "dataset \"\(dataset)\" has no label or attribute \"\(name)\" "
                         + "(labels: \(GraphBuilder.listing(fields.labels)); attributes: \(GraphBuilder.listing(fields.attributes)))",
                         suggestion: closestMatch(to: name, among: fields.labels + fields.attributes))
        }
        for (side, set) in [("queries", options.queries), ("candidates", options.candidates)] {
            if let subgroup = set?.subgroup { graph.checkSubgroup(subgroup, on: dataset, keyPath: task.keyPath("\(side).subgroup")) }
        }
    }

    private func selection(_ task: TaskSpec, _ set: Options.SampleSet?, side: String, graph: inout GraphBuilder) -> SampleSelection? {
        guard let set else { return SampleSelection(filter: nil, file: nil) }
        if let subgroup = set.subgroup {
            return SampleSelection(filter: graph.subgroupFilter(subgroup), file: nil)
        }
        if let file = set.file {
            guard let reference = graph.fileReference(file, keyPath: task.keyPath("\(side).file")) else { return nil }
            return SampleSelection(filter: nil, file: reference)
        }
        return SampleSelection(filter: nil, file: nil)
    }
}
