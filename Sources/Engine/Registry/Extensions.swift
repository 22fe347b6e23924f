import Datasets
import Evaluation
import Foundation
import Imaging
import Logging
import Models
import Pipeline
import Tensor

// The extension points of xrbench. Each kind of extension is a protocol that refines the spec
// language's view of it (`ComponentDefinition`, `TaskDefinition` in Pipeline: option schema,
// digest policy, plan-time checks) with what the engine needs to run it. A registration is one
// value conforming to one of these, added to a `Registry` with one line; nothing else in the
// code switches on its name. docs/EXTENDING.md walks through each.

/// A backbone family (`dinov2`, `pixels`, ...): its options and how to build a backbone.
public protocol BackboneFamily: ComponentDefinition {
    /// Builds the backbone its options describe (already validated against `options`).
    /// - Throws: errors naming the option or file at fault (a model folder that does not load).
    func makeBackbone(_ options: ComponentOptions) throws -> any Backbone
    /// The width of its rows and the patch grid of its tokens, told cheaply from the options
    /// (a model folder's `config.json`), for the storage `xrbench plan` estimates; nil when
    /// it cannot tell or keeps nothing in the embedding store.
    func embeddingShape(_ options: [String: ParameterValue]) -> EmbeddingShape?
}

extension BackboneFamily {
    /// Unknown.
    public func embeddingShape(_ options: [String: ParameterValue]) -> EmbeddingShape? { nil }
}

/// The shape of one image's rows: `dimension` wide, and for a backbone with tokens a patch grid.
public struct EmbeddingShape: Sendable, Hashable {
    /// Width of each row.
    public var dimension: Int
    /// Patch grid of its tokens (rows, columns), nil without tokens.
    public var grid: [Int]?
    /// Number of blocks whose outputs can be stored (`layers` 1...depth), nil when unknown.
    public var depth: Int?
    /// Side of the square input the backbone embeds, in pixels, nil when unknown.
    public var resolution: Int?

    /// Creates a shape.
    public init(dimension: Int, grid: [Int]?, depth: Int? = nil, resolution: Int? = nil) {
        self.dimension = dimension
        self.grid = grid
        self.depth = depth
        self.resolution = resolution
    }

    /// Bytes one image takes in the store: float32 CLS and mean, float16 tokens.
    public func bytesPerImage(_ outputs: EmbeddingOutputs) -> Int {
        let tokens = (grid?.reduce(1, *) ?? 0) * dimension
        return dimension * 8 + (outputs.patchTokens ? tokens * 2 : 0) + outputs.layers.count * tokens * 2
    }
}

/// A backbone ready to embed: images one by one (`ImageBackbone`, whose embeddings the
/// embedding store keeps per image content), or a whole manifest at once (`ManifestBackbone`:
/// embeddings computed elsewhere).
public protocol Backbone {
    /// What the embeddings are, recorded in the artifact (`ViT-B/14 at 518x518`).
    var description: String { get }
}

/// A backbone whose embedding of an image depends on that image alone: the embedding stage
/// stores its rows in shards keyed by image content, so an image is embedded once whatever
/// dataset, split or label file it appears in.
public protocol ImageBackbone: Backbone {
    /// Width of each CLS and mean-pooled row.
    var dimension: Int { get }
    /// The patch grid of token outputs (patch tokens, intermediate blocks), nil when it has no tokens.
    var patchGrid: (height: Int, width: Int)? { get }
    /// Embeds `images`, in order.
    /// - Parameter outputs: what to return besides CLS and mean rows; a backbone without tokens
    ///   throws when asked for them.
    /// - Returns: rows of the images that could be read; the others' problems.
    /// - Throws: errors that concern every image (a model that does not run), `CancellationError`.
    func embed(images: [URL], outputs: EmbeddingOutputs, context: StageContext) throws -> EmbeddingBatch
}

/// A backbone that gives a whole manifest's rows at once, matched by sample id (embeddings
/// computed elsewhere): they are not kept in the embedding store.
public protocol ManifestBackbone: Backbone {
    /// CLS (and, when it has them, mean-pooled) rows of every sample, in manifest order.
    func embeddings(for manifest: Manifest, context: StageContext) throws -> EmbeddingArtifact
}

/// What an image backbone produced for a list of images.
public struct EmbeddingBatch: Sendable {
    /// Positions (in the request) of the images that have rows, ascending.
    public var rows: [Int]
    /// `[rows, D]` CLS features.
    public var cls: [Float]
    /// `[rows, D]` mean-pooled features.
    public var mean: [Float]
    /// `[rows, h, w, D]` final-layer patch tokens, when asked for.
    public var patchTokens: [Float]?
    /// `[rows, h, w, D]` per intermediate block, when asked for.
    public var layers: [Int: [Float]]
    /// Problems of the images that could not be read, by position in the request.
    public var failures: [Int: String]

    /// Creates a batch.
    public init(rows: [Int], cls: [Float], mean: [Float], patchTokens: [Float]? = nil, layers: [Int: [Float]] = [:],
                failures: [Int: String] = [:]) {
        self.rows = rows
        self.cls = cls
        self.mean = mean
        self.patchTokens = patchTokens
        self.layers = layers
        self.failures = failures
    }
}

/// A backbone that is a vision transformer over preprocessed pixels: what `xrbench embed` runs
/// (it writes any of the token outputs, not only CLS and mean).
public protocol TransformerBackbone: ImageBackbone {
    /// The network.
    var model: VisionTransformer { get }
    /// How images become its input.
    var preprocessing: Preprocessing { get }
}

/// A dataset adapter (`chexpert`, `csv`, ...): its options and how to read a manifest.
public protocol DatasetAdapter: DatasetDefinition {
    /// Reads the dataset into a manifest. A generated dataset writes its images into
    /// `context.dataFolder` (inside the artifact) and returns a manifest rooted there.
    /// - Throws: `DatasetError` naming file and line; `RunnerError` for unusable options.
    func manifest(_ options: ComponentOptions, context: DatasetContext) throws -> Manifest
}

/// Where and how an adapter builds its manifest.
public struct DatasetContext: Sendable {
    /// A folder a generated dataset may fill with its images (it becomes part of the artifact).
    public var dataFolder: URL
    /// Threads it may use.
    public var threads: Int

    /// Creates a context.
    public init(dataFolder: URL, threads: Int) {
        self.dataFolder = dataFolder
        self.threads = threads
    }
}

/// A probe head kind (`mlp`, `linear`, `knn`, ...): its options and how it trains and scores.
public protocol HeadKind: ComponentDefinition {
    /// Whether it trains epoch by epoch, so that its probes record a training curve (default
    /// yes; a k-NN vote has nothing to record).
    var trains: Bool { get }
    /// The head's settings with every default filled in: what enters the probe stage's key, so
    /// that two spellings of the same head share their stages.
    /// - Throws: `RunnerError` for options that do not fit.
    func settings(_ options: ComponentOptions) throws -> ParameterValue
    /// Trains on `problem.train` (with `problem.validation` for model selection) and scores
    /// `problem.test`.
    /// - Throws: `EvaluationError` for data that cannot be trained on; `CancellationError`.
    func fit(_ problem: HeadProblem, settings: ParameterValue, context: StageContext) throws -> HeadFit
}

extension HeadKind {
    /// Trains epoch by epoch.
    public var trains: Bool { true }
}

/// What a head trains on: features of the training, validation and test rows.
public struct HeadProblem: Sendable {
    /// Training rows with their targets.
    public var train: ProbeData
    /// Validation rows with their targets.
    public var validation: ProbeData
    /// The `[test, width]` feature rows to score (read on demand from the embedding's shards in
    /// a probe stage: read them chunk by chunk, `FeatureRows.forEachChunk`); empty for heads
    /// that read patch tokens.
    public var test: FeatureRows
    /// Multi-label or multi-class, with the output names.
    public var task: ProbeTask
    /// Seed of initialisation, shuffling and dropout.
    public var seed: UInt64
    /// The patch tokens (and masks) of the same rows, for heads that read them (`HeadDefinition`);
    /// nil otherwise. The pooled features are then empty.
    public var tokens: HeadTokens?

    /// Creates a problem.
    public init(train: ProbeData, validation: ProbeData, test: FeatureRows, task: ProbeTask, seed: UInt64,
                tokens: HeadTokens? = nil) {
        self.train = train
        self.validation = validation
        self.test = test
        self.task = task
        self.seed = seed
        self.tokens = tokens
    }
}

/// The training, validation and test rows of a probe as patch-token grids with their masks, in
/// the order of the problem's `ProbeData` rows.
public struct HeadTokens: Sendable {
    public var train: any PatchTokenSamples
    public var validation: any PatchTokenSamples
    public var test: any PatchTokenSamples

    /// Bundles the three parts.
    public init(train: any PatchTokenSamples, validation: any PatchTokenSamples, test: any PatchTokenSamples) {
        self.train = train
        self.validation = validation
        self.test = test
    }
}

/// A trained head's test scores and what to keep of it.
public struct HeadFit: Sendable {
    /// Row-major `[test, outputs]` probabilities.
    public var probabilities: [Float]
    /// Epochs run, the kept epoch (0 for heads that do not train) and whether training stopped early.
    public var epochs: Int
    public var bestEpoch: Int
    public var stoppedEarly: Bool
    /// Tensors saved as the head's weights (`head.safetensors`), with metadata.
    public var weights: [String: Tensor]
    public var metadata: [String: String]
    /// Every epoch run (training and validation loss, validation score, learning rate); empty
    /// for a head that does not train.
    public var curve: [ProbeEpoch]
    /// What the curve's validation score is (`auroc`, `negative-loss`), nil without a curve.
    public var validationMetric: String?
    /// A segmenting head's hard masks on the test samples and their per-image overlap with the
    /// task's masks (what `dice`, `iou` and `dice-pos` of a probe task are computed from); nil for
    /// a head without a trained segmentation branch.
    public var masks: PatchHeadMaskPredictions?

    /// Creates a fit.
    public init(probabilities: [Float], epochs: Int, bestEpoch: Int, stoppedEarly: Bool,
                weights: [String: Tensor] = [:], metadata: [String: String] = [:],
                curve: [ProbeEpoch] = [], validationMetric: String? = nil, masks: PatchHeadMaskPredictions? = nil) {
        self.masks = masks
        self.curve = curve
        self.validationMetric = validationMetric
        self.probabilities = probabilities
        self.epochs = epochs
        self.bestEpoch = bestEpoch
        self.stoppedEarly = stoppedEarly
        self.weights = weights
        self.metadata = metadata
    }
}

/// A task kind (`classification`, `retrieval`, ...): its spec fields, how it compiles to stages
/// (`TaskDefinition`), and the runners of the stage kinds it adds.
public protocol TaskKind: TaskDefinition {
    /// Runners of its stage kinds. Kinds several tasks share (`probe` for `classification` and
    /// `fairness`) are listed by each; the registry keeps one runner per kind.
    var runners: [any StageRunner] { get }
}

/// An executor kind (`local`, `slurm`, ...): where stages are computed.
public protocol ExecutorKind: Sendable {
    /// The name `--executor` takes.
    var name: String { get }
    /// One line for `xrbench kinds`.
    var summary: String { get }
    /// The fields of its profile (a spec's `executors.<name>` section or a `--profile` file).
    var options: [SchemaField] { get }
    /// Builds the executor for one run.
    /// - Throws: errors saying what is missing (a cluster that does not answer) or which
    ///   profile field is wrong.
    func makeExecutor(_ environment: ExecutorEnvironment) throws -> any Executor
}

extension ExecutorKind {
    /// No profile.
    public var options: [SchemaField] { [] }
}

/// What an executor is built with.
public struct ExecutorEnvironment: Sendable {
    /// The artifact cache (shared with wherever stages run).
    public var cache: ArtifactCache
    /// Everything this build can run.
    public var registry: Registry
    /// The thread budget (`--jobs`).
    public var jobs: Int
    /// Where to log.
    public var logger: Logger
    /// The kind of every stage of the run, by key (so inputs need not be looked up on disk).
    public var stageKinds: [StageKey: StageKind]
    /// The profile: the spec's `executors.<name>` section, with the `--profile` file's fields
    /// over it; validated against the kind's `options`, keyed by Swift (lowerCamelCase) names.
    public var profile: [String: ParameterValue]
    /// The `--profile` file, when one was given.
    public var profileFile: URL?
    /// The spec being run.
    public var specURL: URL?
    /// Set when the run is interrupted (Ctrl-C).
    public var cancellation: CancellationFlag

    /// Creates an environment.
    public init(cache: ArtifactCache, registry: Registry, jobs: Int, logger: Logger, stageKinds: [StageKey: StageKind] = [:],
                profile: [String: ParameterValue] = [:], profileFile: URL? = nil, specURL: URL? = nil,
                cancellation: CancellationFlag = CancellationFlag()) {
        self.cache = cache
        self.registry = registry
        self.jobs = jobs
        self.logger = logger
        self.stageKinds = stageKinds
        self.profile = profile
        self.profileFile = profileFile
        self.specURL = specURL
        self.cancellation = cancellation
    }
}

/// The part of a run an executor is given before the scheduler starts.
public struct ExecutorRun: Sendable {
    /// The run's id in the results store.
    public var runID: Int64
    /// The stages the scheduler may hand over, inputs before readers; inputs outside it are
    /// committed already.
    public var stages: [Stage]

    /// Creates a run.
    public init(runID: Int64, stages: [Stage]) {
        self.runID = runID
        self.stages = stages
    }
}

/// Where stages are computed: the driver (`Engine.run`) hands it ready stages, and it makes each
/// stage's artifact (files and `outputs.json`) exist in the cache, here or elsewhere. It never
/// records into the results database: the driver records every stage's rows from its
/// `outputs.json` and its status, so stages computed on other machines need no database.
///
/// The driver calls `begin` once, then `execute` for each stage as it becomes ready (from
/// several threads at once, while their `threadNeed`s fit in `budget`), then `end` once; or,
/// with `--detach`, `detach` instead of the `execute` calls.
public protocol Executor: Sendable {
    /// The thread budget the scheduler fills: stages start while their thread needs fit in it.
    var budget: Int { get }
    /// How much of `budget` `stage` takes while it is handed over (default: the threads it
    /// declares; an executor that runs stages elsewhere counts each as one).
    func threadNeed(of stage: Stage) -> ThreadNeed
    /// Called once before any other call, with what the run may hand over.
    /// - Throws: what keeps the run from starting (a journal another driver holds).
    func begin(_ run: ExecutorRun) throws
    /// Makes `stage`'s artifact exist in the cache; returns once it is committed.
    /// - Throws: what made the stage fail; `CancellationError` when it stopped on request.
    func execute(_ stage: Stage, threads: Int, cancellation: CancellationFlag) throws -> ExecutionOutcome
    /// Whether `detach` can leave stages running after this process exits.
    var supportsDetach: Bool { get }
    /// Starts every stage of `begin`'s run at once, each after its inputs, and returns without
    /// waiting (`--detach`); a later run collects them.
    /// - Returns: how many stages were left running.
    /// - Throws: `EngineError.cannotDetach` for an executor that computes in this process.
    func detach() throws -> Int
    /// Called once after the last `execute` (or `detach`) returned.
    /// - Parameter interrupted: whether the run was interrupted (Ctrl-C).
    /// - Returns: lines for the run's summary (what the executor did).
    func end(interrupted: Bool) -> [String]
}

extension Executor {
    /// What the stage declares.
    public func threadNeed(of stage: Stage) -> ThreadNeed { stage.threads }
    /// Nothing to prepare.
    public func begin(_ run: ExecutorRun) throws {}
    /// No: stages run in this process.
    public var supportsDetach: Bool { false }
    /// Cannot: stages run in this process.
    public func detach() throws -> Int { throw EngineError.cannotDetach(executor: "\(type(of: self))") }
    /// Nothing to say.
    public func end(interrupted: Bool) -> [String] { [] }
}

/// How an executor got a stage's artifact into the cache.
public enum ExecutionOutcome: Sendable, Equatable {
    /// It computed it.
    case computed
    /// It was in the cache already: another process committed it first (two runs sharing one
    /// cache), or a volatile stage produced content seen before. Recorded as `cached`.
    case committedElsewhere
}
