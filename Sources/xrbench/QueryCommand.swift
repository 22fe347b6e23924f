import ArgumentParser
import Foundation
import Results

/// The `--db` option shared by the commands that read the results database.
struct DatabaseOption: ParsableArguments {
    // `--database` too, as `xrbench run` spells it.
    @Option(name: [.customLong("db"), .customLong("database")], help: ArgumentHelp("The results database.", valueName: "FILE"))
    var db: String = ResultStore.defaultPath.relativePath

    /// The database opened read-only.
    /// - Throws: `ResultsError.databaseNotFound` naming the path when there is no file.
    func openReader() throws -> ResultReader {
        try ResultReader(path: URL(fileURLWithPath: db))
    }
}

extension QueryFormat: ExpressibleByArgument {}

extension XRBench {
    /// `xrbench query`: read-only SQL over the results database.
    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run read-only SQL over the results database and print the rows.",
            discussion: """
            The database is opened read-only, and every statement is checked before any runs: one \
            that would write (INSERT, UPDATE, DELETE, CREATE, DROP, ATTACH, a PRAGMA that sets \
            something, ...) is refused and nothing runs. Several statements may be separated by `;`; \
            the last one's rows are printed. Tables and views are described in docs/RESULTS.md \
            (`latest_result` holds the current value of every metric).

            Examples:
              xrbench query "SELECT backbone, fraction, round(avg(value), 3) AS auroc FROM latest_result WHERE metric = 'auroc' AND label = '' GROUP BY 1, 2"
              xrbench query --format csv "SELECT * FROM latest_statistical_test WHERE p_value < 0.05" > significant.csv
              xrbench query --db other/xrbench.sqlite --format json "SELECT id, experiment, status FROM run"
            """)

        @Argument(help: ArgumentHelp("The SQL to run (quote it).", valueName: "SQL"))
        var sql: String

        @OptionGroup var database: DatabaseOption

        @Option(name: .long, help: "Output format: table, csv, json or markdown.")
        var format: QueryFormat = .table

        func run() throws {
            let table = try database.openReader().query(sql)
            FileHandle.standardOutput.write(Data(table.formatted(format).utf8))
        }
    }
}
