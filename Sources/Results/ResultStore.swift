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
        configuration.prepareDatabase { db in
            // In WAL mode NORMAL still survives any process crash (kill -9 included); only a power
            // loss can drop the last commits. It spares an fsync per transaction.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try Self.openPool(path: path, configuration: configuration, busyTimeout: busyTimeout)
        try migrate()
    }

    /// Opens the pool, retrying while another process holds the lock.
    ///
    /// Opening a pool switches the file to WAL, which needs the database briefly to itself; when
    /// two processes open a fresh file at the same moment, SQLite answers the loser `SQLITE_BUSY`
    /// at once instead of waiting through the busy timeout. Retrying with a short pause until the
    /// timeout expires makes concurrent `xrbench run`s on one new database both succeed.
    private static func openPool(path: URL, configuration: Configuration, busyTimeout: TimeInterval) throws -> DatabasePool {
        let deadline = Date().addingTimeInterval(busyTimeout)
        var pause: TimeInterval = 0.02
        while true {
            do {
                return try DatabasePool(path: path.path, configuration: configuration)
            } catch let error as DatabaseError
                        where (error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED) && Date() < deadline {
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 0.5)
            } catch {
                throw ResultsError.cannotOpen(path: path.path, reason: Self.reason(error))
            }
        }
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
                gitCommit: run.gitCommit, host: run.host, startedAt: run.startedAt, endedAt: nil, status: .running,
                processID: getpid(), specPath: run.specPath)
            try record.insert(db)
            return record.id!
        }
    }

    /// Marks as `interrupted` the runs still `running` on `host` whose process no longer exists
    /// (killed with `kill -9`, or the machine went down), with their `running` stage rows.
    /// A run whose process id was reused by another process stays `running`: the check errs on
    /// the side of leaving a live run alone.
    /// - Returns: the ids of the runs marked.
    /// - Throws: `ResultsError.writeFailed`.
    @discardableResult
    public func markRunsOfEndedProcesses(host: String) throws -> [Int64] {
        try write("marking runs whose process has ended") { db in
            let candidates = try Row.fetchAll(db, sql: """
                SELECT id, pid FROM run WHERE status = 'running' AND host = ? AND pid IS NOT NULL
                """, arguments: [host])
            var marked: [Int64] = []
            for row in candidates {
                let id: Int64 = row["id"], pid: Int32 = row["pid"]
                guard pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
                try db.execute(literal: "UPDATE run SET status = 'interrupted' WHERE id = \(id) AND status = 'running'")
                try db.execute(literal: """
                    UPDATE stage_execution SET status = 'interrupted' WHERE run_id = \(id) AND status = 'running'
                    """)
                marked.append(id)
            }
            return marked
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
        do {
            try recordStageExecutions([execution])
        } catch ResultsError.writeFailed(let path, _, let reason) {
            throw ResultsError.writeFailed(
                path: path, operation: "recording stage \(execution.stageKey) (\(execution.kind)) in run \(execution.runID)",
                reason: reason)
        }
    }

    /// Records (or replaces) many stage executions in one transaction: a re-run that takes a
    /// thousand stages from the cache records them at once instead of paying a commit each.
    /// - Throws: `ResultsError.writeFailed`; then none of them is recorded.
    public func recordStageExecutions(_ executions: [StageExecutionRecord]) throws {
        try write("recording \(executions.count) stage executions") { db in
            let now = Date()
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO stage_execution
                    (run_id, stage_key, kind, parameters, status, seconds, error_message, recorded_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (run_id, stage_key) DO UPDATE SET
                    kind = excluded.kind, parameters = excluded.parameters, status = excluded.status,
                    seconds = excluded.seconds, error_message = excluded.error_message,
                    recorded_at = excluded.recorded_at
                """)
            for execution in executions {
                try upsert.execute(arguments: [
                    execution.runID, execution.stageKey, execution.kind, execution.parametersJSON,
                    execution.status.rawValue, execution.seconds, execution.errorMessage, now,
                ])
            }
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
            // Replicates and predictions can number hundreds of thousands: one prepared statement
            // each, without record encoding (three times faster).
            let insertReplicate = try db.cachedStatement(sql: """
                INSERT INTO bootstrap_replicate (stage_key, experiment, task, backbone, dataset, head, features,
                    fraction, seed, shots, train_subgroup, test_subgroup, label, metric, replicate, value)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for row in outputs.bootstrapReplicates {
                let at = row.coordinates
                try insertReplicate.execute(arguments: [
                    stageKey, at.experiment, at.task, at.backbone, at.dataset, at.head, at.features, at.fraction,
                    at.seed, at.shots, at.trainSubgroup, at.testSubgroup, at.label, row.metric, row.replicate, row.value,
                ])
            }
            let insertEpoch = try db.cachedStatement(sql: """
                INSERT INTO training_curve (stage_key, experiment, task, backbone, dataset, head, features, fraction, seed,
                    shots, train_subgroup, epoch, train_loss, validation_loss, validation_metric, validation_value,
                    learning_rate, is_best)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for row in outputs.trainingCurves {
                let at = row.coordinates
                try insertEpoch.execute(arguments: [
                    stageKey, at.experiment, at.task, at.backbone, at.dataset, at.head, at.features, at.fraction, at.seed,
                    at.shots, at.trainSubgroup, row.epoch, row.trainingLoss, row.validationLoss, row.validationMetric,
                    row.validationValue, row.learningRate, row.isBest,
                ])
            }
            for row in outputs.statisticalTests {
                try StatisticalTestTableRecord(stageKey: stageKey, row: row).insert(db)
            }
            let insertPrediction = try db.cachedStatement(sql: """
                INSERT INTO prediction (stage_key, sample_id, label, score, target) VALUES (?, ?, ?, ?, ?)
                """)
            for row in outputs.predictions {
                try insertPrediction.execute(arguments: [stageKey, row.sampleID, row.label, row.score, row.target])
            }
            let insertIssue = try db.cachedStatement(sql: """
                INSERT INTO sample_issue (stage_key, dataset, sample_id, patient_id, file, line, severity, message)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for issue in outputs.sampleIssues {
                try insertIssue.execute(arguments: [stageKey, issue.dataset, issue.sampleID, issue.patientID, issue.file, issue.line,
                                                    issue.severity.rawValue, issue.message])
            }
            let insertScore = try db.cachedStatement(sql: """
                INSERT INTO segmentation_score (stage_key, sample_id, patient_id, class, dice, iou, positive)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            for score in outputs.segmentationScores {
                try insertScore.execute(arguments: [stageKey, score.sampleID, score.patientID, score.className, score.dice,
                                                    score.iou, score.positive])
            }
        }
    }

    /// Whether outputs of this stage are recorded (so a cached stage needs no re-recording).
    public func hasOutputs(stageKey: String) throws -> Bool {
        try read("looking up stage \(stageKey)") { db in
            try StageOutputTableRecord.exists(db, key: stageKey)
        }
    }

    /// Which of `stageKeys` have recorded outputs: one query for a whole plan.
    public func stageKeysWithOutputs(among stageKeys: some Collection<String>) throws -> Set<String> {
        try read("looking up \(stageKeys.count) stages") { db in
            var found = Set<String>()
            // Chunks stay under SQLite's limit on bound parameters.
            let keys = Array(stageKeys)
            for start in stride(from: 0, to: keys.count, by: 500) {
                let chunk = Array(keys[start..<min(start + 500, keys.count)])
                let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                found.formUnion(try String.fetchAll(
                    db, sql: "SELECT stage_key FROM stage_output WHERE stage_key IN (\(placeholders))",
                    arguments: StatementArguments(chunk)))
            }
            return found
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
                predictions: try rows(PredictionTableRecord.self).map(\.row),
                trainingCurves: try rows(TrainingCurveTableRecord.self).map(\.row),
                segmentationScores: try rows(SegmentationScoreTableRecord.self).map(\.row))
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

    func read<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
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
