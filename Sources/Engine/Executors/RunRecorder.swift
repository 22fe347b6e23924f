import Foundation
import Pipeline
import Results
import Synchronization

/// The driver's side of every stage: hands it to the executor, then records its rows (from the
/// artifact's `outputs.json`, the same path that re-records a stage a killed run committed but
/// never recorded) and its status. Executors never touch the database.
final class RunRecorder: StageExecutor {
    let executor: any Executor
    let cache: ArtifactCache
    let store: ResultStore
    let runID: Int64
    /// A counter, so an `Atomic`: a contended `Mutex` is invisible to ThreadSanitizer on Linux
    /// (make test-tsan reported this count's updates as a race).
    private let elsewhere = Atomic(0)

    init(executor: any Executor, cache: ArtifactCache, store: ResultStore, runID: Int64) {
        self.executor = executor
        self.cache = cache
        self.store = store
        self.runID = runID
    }

    /// Stages another process committed while this run waited for them.
    var committedElsewhere: Int { elsewhere.load(ordering: .relaxed) }

    func execute(_ stage: Stage, threads: Int, cancellation: CancellationFlag) throws {
        let began = Date()
        do {
            try store.recordStageExecution(execution(stage, .running))
            switch try executor.execute(stage, threads: threads, cancellation: cancellation) {
            case .computed:
                try recordOutputs(of: stage)
                try store.recordStageExecution(execution(stage, .succeeded, seconds: Date().timeIntervalSince(began)))
            case .committedElsewhere:
                elsewhere.add(1, ordering: .relaxed)
                if try !store.hasOutputs(stageKey: stage.key.rawValue) { try recordOutputs(of: stage) }
                try store.recordStageExecution(execution(stage, .cached))
            }
        } catch is CancellationError {
            try? store.recordStageExecution(execution(stage, .interrupted, seconds: Date().timeIntervalSince(began)))
            throw CancellationError()
        } catch {
            try? store.recordStageExecution(execution(stage, .failed, seconds: Date().timeIntervalSince(began), error: "\(error)"))
            throw error
        }
    }

    /// Records the rows in a committed artifact's `outputs.json`.
    /// - Throws: `EngineError.unreadableOutputs` (a corrupt artifact); `ResultsError`.
    func recordOutputs(of stage: Stage) throws {
        let outputs = try StageOutputsFile.read(from: cache.directory(for: stage.key, kind: stage.kind))
        try store.recordOutputs(outputs, stageKey: stage.key.rawValue, runID: runID)
    }

    /// The execution row of `stage` in this run.
    func execution(_ stage: Stage, _ status: StageStatus, seconds: Double? = nil, error: String? = nil) -> StageExecutionRecord {
        StageExecutionRecord(runID: runID, stageKey: stage.key.rawValue, kind: stage.kind.rawValue,
                             parametersJSON: stage.parameters.canonicalJSON, status: status, seconds: seconds, errorMessage: error)
    }
}
