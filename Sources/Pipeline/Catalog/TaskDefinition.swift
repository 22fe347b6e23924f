/// A kind of task (`classification`, `retrieval`, ...), as the spec language and the compiler
/// see it: its fields, its matrix axes, the checks across its fields and how it turns into
/// stages. The engine registers it together with the runners of its stage kinds.
public protocol TaskDefinition: Sendable {
    /// The `kind:` value.
    var name: String { get }
    /// One line for the docs and `xrbench kinds`.
    var summary: String { get }
    /// Its fields besides `name`, `kind`, `description`, `display` and `matrix`.
    var fields: [SchemaField] { get }
    /// Its matrix axes besides `backbone` and `dataset`.
    var axes: [SchemaField] { get }
    /// Checks across fields that the schema alone cannot express (a comparison naming a
    /// subgroup the task does not train on), run when the spec loads.
    /// - Returns: problems with key paths relative to the task.
    func check(_ task: TaskSpec, in spec: Spec) -> [SpecProblem]
    /// How many stages `compile` will add for `task`, counted from its matrix without building
    /// anything (shared stages counted wherever they are added). Specs beyond the compile
    /// limit are refused with this count before any stage is built.
    func stageCount(_ task: TaskSpec) -> Int
    /// What the task needs the embeddings of each of its (backbone, dataset) cells to store
    /// besides CLS and mean-pooled tokens (patch tokens, intermediate blocks); the embedding
    /// stage a cell shares with other tasks stores what all of them need.
    func embeddingOutputs(_ task: TaskSpec, in spec: Spec) -> EmbeddingOutputs
    /// The same, for tasks whose needs depend on other kinds (a probe task whose heads read
    /// patch tokens, see `HeadDefinition`); by default the catalog-free answer above.
    func embeddingOutputs(_ task: TaskSpec, in spec: Spec, catalog: Catalog) -> EmbeddingOutputs
    /// Adds the task's stages for every cell of its matrix. Checks that need files or the
    /// datasets' fields (labels, attributes) report through `graph.report`.
    func compile(_ task: TaskSpec, into graph: inout GraphBuilder)
}

extension TaskDefinition {
    /// CLS and mean-pooled tokens only.
    public func embeddingOutputs(_ task: TaskSpec, in spec: Spec) -> EmbeddingOutputs { .pooled }

    /// What the catalog-free `embeddingOutputs` says.
    public func embeddingOutputs(_ task: TaskSpec, in spec: Spec, catalog: Catalog) -> EmbeddingOutputs {
        embeddingOutputs(task, in: spec)
    }

    /// No checks across fields.
    public func check(_ task: TaskSpec, in spec: Spec) -> [SpecProblem] { [] }

    /// The shared stages (manifests, embeddings) and one stage per cell of the matrix.
    public func stageCount(_ task: TaskSpec) -> Int {
        StageCount.sum([StageCount.sharedStages(task.matrix), task.matrix.cellCount])
    }
}
