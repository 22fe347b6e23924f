import Foundation
import Results
import Testing

@Suite struct QueryGuardTests {
    /// A database with one recorded stage, and its bytes on disk after a checkpoint.
    private func populatedDatabase() throws -> URL {
        let path = try SampleData.temporaryDatabase()
        let store = try ResultStore(path: path)
        let runID = try store.beginRun(SampleData.run())
        try store.recordOutputs(SampleData.outputs(tag: 7), stageKey: "stage-7", runID: runID)
        try store.recordStageExecution(StageExecutionRecord(runID: runID, stageKey: "stage-7", kind: "metric", parametersJSON: "{}", status: .succeeded))
        return path
    }

    static let writingStatements = [
        "INSERT INTO run (spec_digest, experiment, engine_version, host, started_at) VALUES ('d', 'e', 'v', 'h', 't')",
        "UPDATE result SET value = 1",
        "DELETE FROM result",
        "  -- a comment first\n  DELETE FROM prediction WHERE 1",
        "WITH doomed AS (SELECT id FROM result) DELETE FROM result WHERE id IN doomed",
        "DROP TABLE result",
        "DROP VIEW latest_result",
        "CREATE TABLE scratch (x)",
        "CREATE TEMP TABLE scratch (x)",
        "ALTER TABLE result ADD COLUMN extra TEXT",
        "ATTACH DATABASE '/tmp/xrbench-attached.sqlite' AS other",
        "/* sneaky */ attach ':memory:' AS other",
        "DETACH DATABASE main",
        "PRAGMA user_version = 7",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA main.user_version(7)",
        "PRAGMA query_only = 0",
        "PRAGMA foreign_keys = OFF;",
        "EXPLAIN DELETE FROM result",
        "VACUUM",
        "VACUUM INTO '/tmp/xrbench-vacuum-copy.sqlite'",
        "REINDEX",
        "ANALYZE",
        "REPLACE INTO stage_output (stage_key, run_id, recorded_at) VALUES ('x', 1, 't')",
        "SELECT 1; DELETE FROM result",
    ]

    @Test(arguments: writingStatements)
    func refusesStatementsThatWrite(sql: String) throws {
        let path = try populatedDatabase()
        let reader = try ResultStore.openReadOnly(path: path)
        let before = try reader.query("SELECT (SELECT count(*) FROM result), (SELECT group_concat(value) FROM result), (SELECT count(*) FROM run)")
        let schemaBefore = try reader.query("SELECT sql FROM sqlite_master ORDER BY name")
        do {
            _ = try reader.query(sql)
            Issue.record("`\(sql)` was not refused")
        } catch let error as ResultsError {
            guard case .writeRefused = error else {
                Issue.record("`\(sql)` failed with \(error), not a refusal")
                return
            }
            #expect(error.description.hasPrefix("xrbench query is read-only: `"))
            #expect(error.description.contains("would modify the database; use SELECT"))
        }
        #expect(try reader.query("SELECT (SELECT count(*) FROM result), (SELECT group_concat(value) FROM result), (SELECT count(*) FROM run)") == before)
        #expect(try reader.query("SELECT sql FROM sqlite_master ORDER BY name") == schemaBefore)
        #expect(try reader.query("PRAGMA user_version").rows == [[.integer(0)]])
        #expect(!FileManager.default.fileExists(atPath: "/tmp/xrbench-vacuum-copy.sqlite"))
    }

    @Test func refusalNamesTheStatement() throws {
        let reader = try ResultStore.openReadOnly(path: try populatedDatabase())
        #expect(throws: ResultsError.writeRefused(statement: "DELETE FROM result WHERE metric = 'auroc'")) {
            try reader.query("SELECT 1;\nDELETE FROM result WHERE metric = 'auroc';")
        }
        #expect(ResultsError.writeRefused(statement: "DELETE FROM result").description
            == "xrbench query is read-only: `DELETE FROM result` would modify the database; use SELECT (or a read-only PRAGMA) to read it.")
    }

    @Test func readsAreAllowed() throws {
        let reader = try ResultStore.openReadOnly(path: try populatedDatabase())
        let table = try reader.query("SELECT metric, value, note FROM result ORDER BY metric")
        #expect(table.columns == ["metric", "value", "note"])
        #expect(table.rows == [[.text("auroc"), .real(0.5 + 7.0 / 100), .null],
                               [.text("mcc"), .null, .text("MCC undefined: the test set has one class only")]])
        // Read-only PRAGMAs, CTEs, several statements (the last one's rows come back).
        #expect(try reader.query("PRAGMA table_info(prediction)").rows.count == 6)
        #expect(try reader.query("WITH x AS (SELECT 2 AS two) SELECT two FROM x").rows == [[.integer(2)]])
        #expect(try reader.query("SELECT 1; SELECT 'last' AS which;").rows == [[.text("last")]])
        #expect(try reader.query("SELECT count(*) FROM latest_result").rows == [[.integer(2)]])
        #expect(try reader.query("PRAGMA main.table_info(result);").rows.count == 18)
        #expect(try reader.query("pragma user_version").rows == [[.integer(0)]])
        #expect(try reader.query("EXPLAIN QUERY PLAN SELECT * FROM result WHERE metric = 'auroc'").rows.count >= 1)
    }

    @Test(arguments: ["BEGIN", "COMMIT", "SELECT 1; ROLLBACK", "SAVEPOINT s", "RELEASE s", "END"])
    func transactionControlIsNamedNotExecuted(sql: String) throws {
        let reader = try ResultStore.openReadOnly(path: try populatedDatabase())
        do {
            _ = try reader.query(sql)
            Issue.record("`\(sql)` was accepted")
        } catch let error as ResultsError {
            guard case .invalidQuery(_, let reason) = error else {
                Issue.record("`\(sql)`: \(error)")
                return
            }
            #expect(reason == "transaction control is not needed: each query runs in its own read-only transaction")
        }
        #expect(try reader.query("SELECT count(*) FROM run").rows == [[.integer(1)]])
    }

    @Test func badSQLNamesTheProblem() throws {
        let reader = try ResultStore.openReadOnly(path: try populatedDatabase())
        let cases = [
            ("SELEC * FROM result", "near \"SELEC\": syntax error"),
            ("SELECT * FROM results", "no such table: results"),
            ("SELECT valeu FROM result", "no such column: valeu"),
            ("   ", "there is no SQL statement in it"),
        ]
        for (sql, reason) in cases {
            #expect(throws: ResultsError.invalidQuery(sql: sql, reason: reason)) { try reader.query(sql) }
        }
    }

    @Test func openingAMissingDatabaseReadOnlyIsATypedError() throws {
        let path = try SampleData.temporaryDatabase()
        #expect(throws: ResultsError.databaseNotFound(path: path.path)) { try ResultStore.openReadOnly(path: path) }
        #expect(!FileManager.default.fileExists(atPath: path.path))
    }

    @Test func readerOpensAClosedWALDatabase() throws {
        // After the writer is gone SQLite removes the -wal and -shm files; a read-only reader
        // must still open the file.
        let path = try SampleData.temporaryDatabase()
        do {
            let store = try ResultStore(path: path)
            _ = try store.beginRun(SampleData.run())
        }
        let reader = try ResultStore.openReadOnly(path: path)
        #expect(try reader.query("SELECT count(*) FROM run").rows == [[.integer(1)]])
    }
}
