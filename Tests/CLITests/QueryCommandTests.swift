import Foundation
import Results
import Testing
import TestSupport

/// `xrbench query` through the built binary.
@Suite struct QueryCommandTests {
    @Test func insertIsRefusedAndChangesNothing() throws {
        let folder = try makeTemporaryDirectory()
        let database = folder.appendingPathComponent("results.sqlite")
        try ResultsFixtures.fillRuns(database)
        let before = try ResultReader(path: database).query("SELECT count(*) FROM run").rows

        let result = try CLI.run(["query", "INSERT INTO run (spec_digest, experiment, engine_version, host, started_at) "
                                  + "VALUES ('x', 'x', 'x', 'x', 'x')", "--db", database.path], in: folder)

        #expect(result.status != 0)
        #expect(!result.crashed)
        #expect(result.errorOutput.contains("xrbench query is read-only: `INSERT INTO run"))
        #expect(result.errorOutput.contains("would modify the database"))
        #expect(result.output.isEmpty)
        #expect(try ResultReader(path: database).query("SELECT count(*) FROM run").rows == before)
    }

    @Test func refusesEveryWritingStatementKind() throws {
        let folder = try makeTemporaryDirectory()
        let database = folder.appendingPathComponent("results.sqlite")
        try ResultsFixtures.fillRuns(database)
        for sql in ["DELETE FROM run", "DROP TABLE run", "UPDATE run SET host = 'x'", "PRAGMA user_version = 7",
                    "SELECT 1; DELETE FROM stage_execution"] {
            let result = try CLI.run(["query", sql, "--db", database.path], in: folder)
            #expect(result.status != 0, "\(sql)")
            #expect(result.errorOutput.contains("read-only"), "\(sql): \(result.errorOutput)")
        }
        #expect(try ResultReader(path: database).query("SELECT count(*) FROM stage_execution").rows == [[.integer(5)]])
    }

    @Test func printsEachFormat() throws {
        let folder = try makeTemporaryDirectory()
        let database = folder.appendingPathComponent("results.sqlite")
        try ResultsFixtures.fillRuns(database)
        let sql = "SELECT id, status, git_commit FROM run ORDER BY id"
        func output(_ format: String) throws -> String {
            let result = try CLI.run(["query", sql, "--db", database.path, "--format", format], in: folder)
            #expect(result.status == 0, "\(format): \(result.errorOutput)")
            return result.output
        }
        #expect(try output("table") == """
            id  status     git_commit
            --  ---------  ----------
             1  succeeded  0123abc
             2  failed     NULL
            (2 rows)

            """)
        #expect(try output("csv") == "id,status,git_commit\r\n1,succeeded,0123abc\r\n2,failed,\r\n")
        #expect(try output("json") == """
            [
              {"id": 1, "status": "succeeded", "git_commit": "0123abc"},
              {"id": 2, "status": "failed", "git_commit": null}
            ]

            """)
        #expect(try output("markdown") == """
            | id | status | git_commit |
            | ---: | --- | --- |
            | 1 | succeeded | 0123abc |
            | 2 | failed | NULL |

            """)
        // The default format is the aligned table; `--database` is the long spelling of `--db`.
        let plain = try CLI.run(["query", sql, "--database", database.path], in: folder)
        #expect(plain.output == (try output("table")))
    }

    @Test func invalidSQLIsReportedWithSQLitesReason() throws {
        let folder = try makeTemporaryDirectory()
        let database = folder.appendingPathComponent("results.sqlite")
        try ResultsFixtures.fillRuns(database)
        let result = try CLI.run(["query", "SELECT nope FROM run", "--db", database.path], in: folder)
        #expect(result.status != 0)
        #expect(!result.crashed)
        #expect(result.errorOutput.contains("invalid query `SELECT nope FROM run`: no such column: nope"))
    }

    @Test func unknownFormatIsAUsageError() throws {
        let folder = try makeTemporaryDirectory()
        let result = try CLI.run(["query", "SELECT 1", "--format", "xml"], in: folder)
        #expect(result.status != 0)
        #expect(result.errorOutput.contains("xml"))
    }
}
