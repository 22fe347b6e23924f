#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import Pipeline
import Results

/// Computes one stage in this process and commits its artifact: runner → temporary folder →
/// `outputs.json` → commit. It never touches the results database, so it is the same code
/// whether the driver runs it (the local executor) or a job on another machine does
/// (`xrbench stage run KEY`).
///
/// Each stage runs under a per-key file lock, so two processes needing the same stage compute
/// it once; after taking the lock it looks in the cache again (the other may have finished).
public struct StageComputation: Sendable {
    /// The artifact cache.
    public let cache: ArtifactCache
    /// The runners and the kinds they look up.
    public let registry: Registry
    /// Where to log.
    public let logger: Logger

    /// Creates the computation.
    public init(cache: ArtifactCache, registry: Registry, logger: Logger) {
        self.cache = cache
        self.registry = registry
        self.logger = logger
    }

    /// Computes and commits `stage` unless its artifact is already committed.
    /// - Parameters:
    ///   - knownKinds: kinds of the stages that may be inputs (others are read from their saved
    ///     descriptors).
    /// - Throws: `EngineError.noRunner`, `EngineError.inputNotCached`, the runner's error, a cache
    ///   error, `CancellationError`. A failed stage leaves nothing in the cache.
    public func compute(_ stage: Stage, threads: Int, cancellation: CancellationFlag,
                        knownKinds: [StageKey: StageKind] = [:]) throws -> ExecutionOutcome {
        guard let runner = registry.runners.runner(for: stage.kind) else {
            throw EngineError.noRunner(kind: stage.kind.rawValue, stage: stage.label)
        }
        let body = { () throws -> ExecutionOutcome in
            if case .present = cache.lookup(stage.key, kind: stage.kind) { return .committedElsewhere }
            try cancellation.check()
            var inputs: [String: StageInput] = [:]
            for (role, key) in stage.inputs {
                let kind = try knownKinds[key] ?? cache.descriptor(key).kind
                guard case .present(let folder) = cache.lookup(key, kind: kind) else {
                    throw EngineError.inputNotCached(stage: stage.label, role: role, key: key.rawValue)
                }
                inputs[role] = StageInput(key: key, kind: kind, directory: folder)
            }
            let pending = try cache.beginWrite(stage.key, kind: stage.kind)
            do {
                let context = StageContext(stage: stage, outputDirectory: pending.directory, inputs: inputs, threads: threads,
                                           cancellation: cancellation, logger: logger, registry: registry, cacheDirectory: cache.root)
                let outputs = try runner.run(context)
                try cancellation.check()
                try StageOutputsFile.write(outputs, to: pending.directory)
                try cache.commit(pending)
            } catch {
                cache.abandon(pending)
                throw error
            }
            return .computed
        }
        defer { returnFreedMemory() }
        return runner.locksWholeStage ? try cache.withLock(stage.key, body) : try body()
    }
}

/// Hands the heap memory a finished stage freed back to the operating system.
///
/// glibc keeps freed pages in its arenas, and once a large block has been freed it serves later
/// large blocks from the heap instead of mapping them, so without this a process that runs many
/// stages stays as large as the sum of their garbage (measured: a 20,000-image phantom run kept
/// 30 MB after its manifest stage). glibc's `malloc_trim` releases every arena's free pages; it
/// is looked up at run time (the Glibc module does not import `malloc.h`), and elsewhere this
/// does nothing.
func returnFreedMemory() {
    mallocTrim?(0)
}

private typealias MallocTrim = @convention(c) (Int) -> Int32

private let mallocTrim: MallocTrim? = {
    #if canImport(Glibc)
    guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
    return unsafeBitCast(symbol, to: MallocTrim.self)
    #else
    return nil
    #endif
}()

/// `local`: computes stages in this process, side by side under the `--jobs` thread budget.
public struct LocalExecutorKind: ExecutorKind {
    public var name: String { "local" }
    public var summary: String { "stages run in this process, side by side under the --jobs thread budget" }

    /// Creates the kind.
    public init() {}

    public func makeExecutor(_ environment: ExecutorEnvironment) throws -> any Executor {
        LocalExecutor(computation: StageComputation(cache: environment.cache, registry: environment.registry, logger: environment.logger),
                      budget: environment.jobs, stageKinds: environment.stageKinds)
    }
}

/// Runs stages in this process (see `StageComputation`).
public struct LocalExecutor: Executor {
    /// What computes each stage.
    public let computation: StageComputation
    /// The thread budget.
    public let budget: Int
    /// Kinds of the run's stages by key.
    public let stageKinds: [StageKey: StageKind]

    /// Creates an executor.
    public init(computation: StageComputation, budget: Int, stageKinds: [StageKey: StageKind] = [:]) {
        self.computation = computation
        self.budget = budget
        self.stageKinds = stageKinds
    }

    public func execute(_ stage: Stage, threads: Int, cancellation: CancellationFlag) throws -> ExecutionOutcome {
        try computation.compute(stage, threads: threads, cancellation: cancellation, knownKinds: stageKinds)
    }
}
