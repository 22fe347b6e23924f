import Foundation
import Logging
import Pipeline
import Results

/// Runs stages in this process: runner → temporary folder → commit to the cache → record rows.
///
/// Each stage runs under a per-key file lock, so two processes needing the same stage compute
/// it once; after taking the lock it looks in the cache again (the other may have finished).
public struct LocalExecutor: StageExecutor {
    /// The artifact cache.
    public let cache: ArtifactCache
    /// The results store.
    public let store: ResultStore
    /// The run that records executions and rows.
    public let runID: Int64
    /// The runners.
    public let runners: StageRunnerRegistry
    /// Where to log.
    public let logger: Logger
    /// Kinds of the stages that may be inputs (otherwise read from their saved descriptors).
    public let knownKinds: [StageKey: StageKind]
    /// Stages another process committed while this one waited for their lock.
    let committedElsewhere = KeySet()

    /// Creates an executor.
    public init(cache: ArtifactCache, store: ResultStore, runID: Int64, runners: StageRunnerRegistry, logger: Logger,
                knownKinds: [StageKey: StageKind] = [:]) {
        self.cache = cache
        self.store = store
        self.runID = runID
        self.runners = runners
        self.logger = logger
        self.knownKinds = knownKinds
    }

    /// Computes, commits and records `stage`.
    /// - Throws: the runner's error, a cache or store error, `CancellationError`.
    public func execute(_ stage: Stage, threads: Int, cancellation: CancellationFlag) throws {
        guard let runner = runners.runner(for: stage.kind) else {
            throw EngineError.noRunner(kind: stage.kind.rawValue, stage: stage.label)
        }
        let began = Date()
        do {
            try cache.withLock(stage.key) {
                if case .present(let folder) = cache.lookup(stage.key, kind: stage.kind) {
                    // Another process committed it while we waited for the lock.
                    committedElsewhere.insert(stage.key)
                    try recordIfMissing(stage, artifact: folder)
                    try record(stage, .cached, seconds: nil, error: nil)
                    return
                }
                try cancellation.check()
                try record(stage, .running, seconds: nil, error: nil)
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
                    let context = StageContext(stage: stage, outputDirectory: pending.directory, inputs: inputs,
                                               threads: threads, cancellation: cancellation, logger: logger)
                    let outputs = try runner.run(context)
                    try cancellation.check()
                    try StageOutputsFile.write(outputs, to: pending.directory)
                    try cache.commit(pending)
                    try store.recordOutputs(outputs, stageKey: stage.key.rawValue, runID: runID)
                } catch {
                    cache.abandon(pending)
                    throw error
                }
                try record(stage, .succeeded, seconds: Date().timeIntervalSince(began), error: nil)
            }
        } catch is CancellationError {
            try? record(stage, .interrupted, seconds: Date().timeIntervalSince(began), error: nil)
            throw CancellationError()
        } catch {
            try? record(stage, .failed, seconds: Date().timeIntervalSince(began), error: "\(error)")
            throw error
        }
    }

    /// Records a cached stage's rows from its artifact when the store lacks them (the process
    /// was killed between commit and record).
    /// - Returns: whether anything was recorded.
    @discardableResult
    func recordIfMissing(_ stage: Stage, artifact: URL) throws -> Bool {
        guard try !store.hasOutputs(stageKey: stage.key.rawValue) else { return false }
        let outputs = try StageOutputsFile.read(from: artifact)
        try store.recordOutputs(outputs, stageKey: stage.key.rawValue, runID: runID)
        return true
    }

    func record(_ stage: Stage, _ status: StageStatus, seconds: Double?, error: String?) throws {
        try store.recordStageExecution(StageExecutionRecord(
            runID: runID, stageKey: stage.key.rawValue, kind: stage.kind.rawValue,
            parametersJSON: stage.parameters.canonicalJSON, status: status, seconds: seconds, errorMessage: error))
    }
}

/// A thread-safe set of stage keys.
final class KeySet: @unchecked Sendable {
    private let lock = NSLock()
    private var keys: Set<StageKey> = []

    func insert(_ key: StageKey) {
        lock.lock()
        keys.insert(key)
        lock.unlock()
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return keys.count
    }
}
