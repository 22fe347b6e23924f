import Foundation
import Logging
import Pipeline
import Results

/// Where the engine keeps things and how it runs; the CLI fills it from its options.
public struct EngineConfiguration: Sendable {
    /// The artifact cache folder (default `.xrbench/cache`).
    public var cacheDirectory: URL
    /// The results database (default `results/xrbench.sqlite`).
    public var databasePath: URL
    /// Thread budget (`--jobs`; default: active processor count).
    public var jobs: Int
    /// Variables for `${VAR}` in specs (default: the process environment).
    public var environment: [String: String]
    /// Everything this build can run (`Registry.standard` plus whatever a caller registers).
    public var registry: Registry
    /// The executor's name in the registry (`local` by default).
    public var executor: String
    /// A YAML file with the executor's profile (`--profile`), over the spec's `executors:` section.
    public var executorProfile: URL?
    /// Submit everything and return without waiting (`--detach`; executors that run stages elsewhere).
    public var detach: Bool
    /// Progress receiver (default: `StderrProgress`; `nil` for silence).
    public var observer: (any SchedulerObserver)?
    /// Hash every cached artifact on lookup instead of trusting unchanged sizes and times.
    public var verifyArtifacts: Bool
    /// The most stages a spec may compile to (`--max-stages`; default `StageCount.defaultMaximum`).
    public var maximumStages: Int
    /// Install a Ctrl-C handler for the duration of `run` (off in tests).
    public var handlesInterrupts: Bool
    /// Cancels the run when set (the interrupt handler sets it; tests may too).
    public var cancellation: CancellationFlag
    /// Recorded with every run.
    public var engineVersion: String
    /// Where the engine logs.
    public var logger: Logger

    /// Creates a configuration.
    public init(cacheDirectory: URL = URL(fileURLWithPath: ".xrbench/cache"),
                databasePath: URL = ResultStore.defaultPath,
                jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                registry: Registry = .standard,
                executor: String = "local",
                executorProfile: URL? = nil,
                detach: Bool = false,
                observer: (any SchedulerObserver)? = StderrProgress(),
                verifyArtifacts: Bool = false,
                maximumStages: Int = StageCount.defaultMaximum,
                handlesInterrupts: Bool = true,
                cancellation: CancellationFlag = CancellationFlag(),
                engineVersion: String = Engine.version,
                logger: Logger = Logger(label: "xrbench.engine")) {
        self.cacheDirectory = cacheDirectory
        self.databasePath = databasePath
        self.jobs = max(1, jobs)
        self.environment = environment
        self.registry = registry
        self.executor = executor
        self.executorProfile = executorProfile
        self.detach = detach
        self.observer = observer
        self.verifyArtifacts = verifyArtifacts
        self.maximumStages = maximumStages
        self.handlesInterrupts = handlesInterrupts
        self.cancellation = cancellation
        self.engineVersion = engineVersion
        self.logger = logger
    }

    /// The file-digest memo inside the cache folder.
    var digestMemo: URL { cacheDirectory.appendingPathComponent("file-digests.json") }
}

/// The engine's command logic: plan, run, run one stage, collect garbage. The CLI calls these.
public enum Engine {
    /// The engine version recorded with every run.
    public static let version = "0.1.0"

    /// Loads and compiles a spec (validation errors thrown before any work).
    /// - Throws: `SpecError` (every validation problem, every missing file, a spec beyond
    ///   `configuration.maximumStages`), `GraphError`.
    public static func compile(specURL: URL, configuration: EngineConfiguration) throws -> CompiledSpec {
        let catalog = configuration.registry.catalog
        let spec = try SpecLoader(catalog: catalog, environment: configuration.environment).load(specURL)
        let digester = FileDigester(memoURL: configuration.digestMemo)
        // Digests computed before a missing file stopped compilation are worth keeping too.
        defer { try? digester.save() }
        var options = configuration.registry.compileOptions
        options.maximumStages = configuration.maximumStages
        return try GraphBuilder.compile(spec, catalog: catalog, options: options, digester: digester)
    }
}
