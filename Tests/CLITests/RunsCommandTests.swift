import Foundation
import Results
import Testing
import TestSupport

/// `xrbench runs` through the built binary.
@Suite struct RunsCommandTests {
    @Test func listsRunsStageCountsAndFailedStagesWithErrors() throws {
        let folder = try makeTemporaryDirectory()
        let database = folder.appendingPathComponent("results.sqlite")
        try ResultsFixtures.fillRuns(database)
        let key = { ResultsFixtures.key($0).prefix(12) }

        let result = try CLI.run(["runs", "--db", database.path], in: folder)

        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(result.output == """
            run 1  demo  succeeded  started 2023-11-14T22:13:20Z  ended 2023-11-14T22:14:50Z  host testhost  engine 0.1.0  commit 0123abc  spec \(key(7))
              stages: 2 succeeded
            run 2  demo  failed  started 2023-11-14T23:13:20Z  ended 2023-11-14T23:15:00Z  host testhost  engine 0.1.0  commit unknown  spec \(key(8))
              stages: 1 failed, 1 cached, 1 blocked
              failed probe \(key(3)): probe diverged: the loss became NaN; lower the learning rate

            """)
    }

    @Test func filtersFailedAndLastRuns() throws {
        let folder = try makeTemporaryDirectory()
        let database = folder.appendingPathComponent("results.sqlite")
        try ResultsFixtures.fillRuns(database)
        let failed = try CLI.run(["runs", "--db", database.path, "--failed"], in: folder)
        #expect(failed.output.hasPrefix("run 2  demo  failed"))
        #expect(!failed.output.contains("run 1 "))
        let last = try CLI.run(["runs", "--db", database.path, "--last", "1"], in: folder)
        #expect(last.output == failed.output)
        let zero = try CLI.run(["runs", "--db", database.path, "--last", "0"], in: folder)
        #expect(zero.status != 0)
        #expect(zero.errorOutput.contains("--last must be at least 1"))
    }

    @Test func emptyDatabaseSaysSo() throws {
        let folder = try makeTemporaryDirectory()
        let database = folder.appendingPathComponent("results.sqlite")
        _ = try ResultStore(path: database)
        let result = try CLI.run(["runs", "--db", database.path], in: folder)
        #expect(result.status == 0)
        #expect(result.output == "no runs recorded\n")
    }
}
