import Foundation
import GRDB

/// The results database: one facade over SQLite that never hands out GRDB's `Database`.
///
/// Opens the file in WAL mode through a `DatabasePool`, with a busy timeout so that several
/// processes writing at once wait for each other instead of failing with "database is
/// locked"; every write is one `IMMEDIATE` transaction (it takes the write lock when it
/// begins, so a transaction never has to upgrade a read lock, which a busy timeout cannot
/// rescue). The schema migrates on open.
public final class ResultStore: Sendable {
    /// The database file.
    public let path: URL
    private let pool: DatabasePool

    /// The database path used when none is given: `results/xrbench.sqlite`.
    public static let defaultPath = URL(fileURLWithPath: "results/xrbench.sqlite")

    /// How long a writer waits for another process's write transaction before failing.
    public static let defaultBusyTimeout: TimeInterval = 300

    /// Opens (creating it and its folder when missing) and migrates the database at `path`.
    /// - Parameters:
    ///   - path: the SQLite file.
    ///   - busyTimeout: seconds to wait for a lock held by another connection or process.
    /// - Throws: `ResultsError.cannotCreateDirectory`, `ResultsError.cannotOpen`.
    public init(path: URL = ResultStore.defaultPath, busyTimeout: TimeInterval = ResultStore.defaultBusyTimeout) throws {
        self.path = path
        let folder = path.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ResultsError.cannotCreateDirectory(path: folder.path, reason: error.localizedDescription)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.label = "xrbench-results"
        do {
            pool = try DatabasePool(path: path.path, configuration: configuration)
        } catch {
            throw ResultsError.cannotOpen(path: path.path, reason: Self.reason(error))
        }
        try migrate()
    }

    /// Applies pending migrations, tolerating another process that migrates at the same time.
    ///
    /// GRDB decides which migrations are pending before taking the write lock, so two processes
    /// opening a fresh file together can both try migration v1; the loser's transaction fails
    /// ("table run already exists") and rolls back. Checking again then finds it applied.
    private func migrate() throws {
        let migrator = Schema.migrator
        var lastError: (any Error)?
        for _ in 0..<5 {
            do {
                try migrator.migrate(pool)
                return
            } catch {
                lastError = error
                let completed = (try? pool.read { try migrator.hasCompletedMigrations($0) }) ?? false
                if completed { return }
            }
        }
        throw ResultsError.cannotOpen(path: path.path, reason: "migrating the schema: " + Self.reason(lastError!))
    }

    /// Opens the database at `path` read-only, for queries, listings and rendering.
    /// - Throws: `ResultsError.databaseNotFound`, `ResultsError.cannotOpen`.
    public static func openReadOnly(path: URL = ResultStore.defaultPath) throws -> ResultReader {
        try ResultReader(path: path)
    }

    // MARK: - Runs and stage executions

    /// Records the start of a run.
    /// - Returns: the new run's id.
    /// - Throws: `ResultsError.writeFailed`.
    public func beginRun(_ run: RunRecord) throws -> Int64 {
        try write("recording the start of a run of \(run.experiment)") { db in
            var record = RunTableRecord(
                id: nil, specDigest: run.specDigest, experiment: run.experiment, engineVersion: run.engineVersion,
                gitCommit: run.gitCommit, host: run.host, startedAt: run.startedAt, endedAt: nil, status: .running)
            try record.insert(db)
            return record.id!
        }
    }

    /// Records how and when a run ended.
    /// - Throws: `ResultsError.unknownRun` when no run has `id`; `ResultsError.writeFailed`.
    public func finishRun(id: Int64, status: RunStatus, endedAt: Date) throws {
        let updated = try write("recording the end of run \(id)") { db in
            try db.execute(literal: "UPDATE run SET status = \(status.rawValue), ended_at = \(endedAt) WHERE id = \(id)")
            return db.changesCount
        }
        if updated == 0 { throw ResultsError.unknownRun(id: id, path: path.path) }
    }

    /// Records (or replaces) what happened to one stage within one run.
    ///
    /// Keyed by `(runID, stageKey)`: recording it again, say `running` then `succeeded`,
    /// replaces the earlier row.
    /// - Throws: `ResultsError.writeFailed` (unknown run id, parameters that are not JSON, a
    ///   failed stage without an error message).
    public func recordStageExecution(_ execution: StageExecutionRecord) throws {
        try write("recording stage \(execution.stageKey) (\(execution.kind)) in run \(execution.runID)") { db in
            let now = Date()
            try db.execute(literal: """
                INSERT INTO stage_execution
                    (run_id, stage_key, kind, parameters, status, seconds, error_message, recorded_at)
                VALUES (\(execution.runID), \(execution.stageKey), \(execution.kind), \(execution.parametersJSON),
                        \(execution.status.rawValue), \(execution.seconds), \(execution.errorMessage), \(now))
                ON CONFLICT (run_id, stage_key) DO UPDATE SET
                    kind = excluded.kind, parameters = excluded.parameters, status = excluded.status,
                    seconds = excluded.seconds, error_message = excluded.error_message,
                    recorded_at = excluded.recorded_at
                """)
        }
    }

    // MARK: - Stage outputs

    /// Records everything a finished stage produced, in one transaction, idempotently:
    /// recording the same stage key twice leaves exactly one copy of its rows (the latest).
    /// - Parameters:
    ///   - outputs: the rows to record.
    ///   - stageKey: the stage that produced them.
    ///   - runID: the run that recorded them.
    /// - Throws: `ResultsError.writeFailed` naming the schema rule a row breaks; nothing of the
    ///   stage is recorded then.
    /// - Complexity: O(rows) inserts in a single transaction.
    public func recordOutputs(_ outputs: StageOutputs, stageKey: String, runID: Int64) throws {
        try write("recording the outputs of stage \(stageKey)") { db in
            // The output tables cascade from stage_output: deleting the anchor drops every old row.
            try db.execute(literal: "DELETE FROM stage_output WHERE stage_key = \(stageKey)")
            try StageOutputTableRecord(stageKey: stageKey, runID: runID, recordedAt: Date()).insert(db)
            for row in outputs.results {
                try ResultTableRecord(stageKey: stageKey, row: row).insert(db)
            }
            for row in outputs.bootstrapReplicates {
                try BootstrapReplicateTableRecord(stageKey: stageKey, row: row).insert(db)
            }
            for row in outputs.statisticalTests {
                try StatisticalTestTableRecord(stageKey: stageKey, row: row).insert(db)
            }
            for row in outputs.predictions {
                try PredictionTableRecord(stageKey: stageKey, row: row).insert(db)
            }
        }
    }

    /// Whether outputs of this stage are recorded (so a cached stage needs no re-recording).
    public func hasOutputs(stageKey: String) throws -> Bool {
        try read("looking up stage \(stageKey)") { db in
            try StageOutputTableRecord.exists(db, key: stageKey)
        }
    }

    /// The recorded outputs of a stage, or nil when none are recorded.
    /// Rows come back in the order they were recorded.
    public func outputs(stageKey: String) throws -> StageOutputs? {
        try read("reading the outputs of stage \(stageKey)") { db in
            guard try StageOutputTableRecord.exists(db, key: stageKey) else { return nil }
            func rows<Record: FetchableRecord & TableRecord>(_ type: Record.Type) throws -> [Record] {
                try Record.fetchAll(db, sql: "SELECT * FROM \(Record.databaseTableName) WHERE stage_key = ? ORDER BY id",
                                    arguments: [stageKey])
            }
            return StageOutputs(
                results: try rows(ResultTableRecord.self).map(\.row),
                bootstrapReplicates: try rows(BootstrapReplicateTableRecord.self).map(\.row),
                statisticalTests: try rows(StatisticalTestTableRecord.self).map(\.row),
                predictions: try rows(PredictionTableRecord.self).map(\.row))
        }
    }

    /// Every stage key the database refers to: stages with recorded outputs and stages any run
    /// executed or took from the cache. `xrbench cache gc` keeps exactly these artifacts.
    public func referencedStageKeys() throws -> Set<String> {
        try read("listing the recorded stage keys") { db in
            Set(try String.fetchAll(db, sql: """
                SELECT stage_key FROM stage_output
                UNION SELECT stage_key FROM stage_execution
                """))
        }
    }

    // MARK: - Plumbing

    /// Runs `body` in one IMMEDIATE transaction, turning SQLite errors into `ResultsError`.
    private func write<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var value: T?
                try db.inTransaction(.immediate) {
                    value = try body(db)
                    return .commit
                }
                return value!
            }
        } catch {
            throw ResultsError.writeFailed(path: path.path, operation: operation, reason: Self.reason(error))
        }
    }

    private func read<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch {
            throw ResultsError.readFailed(path: path.path, operation: operation, reason: Self.reason(error))
        }
    }

    /// SQLite's own message, without GRDB's statement dump.
    static func reason(_ error: any Error) -> String {
        if let databaseError = error as? DatabaseError {
            return databaseError.message ?? databaseError.resultCode.description
        }
        if let resultsError = error as? ResultsError { return resultsError.description }
        return "\(error)"
    }
}
