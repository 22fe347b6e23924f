import ArgumentParser
import Foundation
import Results

extension XRBench {
    /// `xrbench query SQL`: read-only SQL over the results database.
    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Query the results database (read-only: statements that would write are refused).",
            discussion: """
            Examples:
              xrbench query "SELECT backbone, fraction, avg(value) FROM result WHERE metric = 'auroc' GROUP BY 1, 2"
              xrbench query "SELECT * FROM run" --format csv
            """)

        @Argument(help: "One SQL statement.")
        var sql: String

        @Option(name: .long, help: "table, csv, json or markdown.")
        var format: QueryFormat = .table

        @Option(name: .long, help: ArgumentHelp("Results database.", valueName: "FILE"))
        var database: String = "results/xrbench.sqlite"

        func run() throws {
            let table = try reportingEngineErrors {
                try ResultStore.openReadOnly(path: URL(fileURLWithPath: database)).query(sql)
            }
            print(table.formatted(format), terminator: "")
        }
    }

    /// `xrbench runs`: runs with their status and failed stages.
    struct Runs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List recorded runs, their stage counts and failed stages with their errors.")

        @Option(name: .long, help: ArgumentHelp("Results database.", valueName: "FILE"))
        var database: String = "results/xrbench.sqlite"

        func run() throws {
            let runs = try reportingEngineErrors {
                try ResultStore.openReadOnly(path: URL(fileURLWithPath: database)).runs()
            }
            print(RunSummary.report(runs), terminator: "")
        }
    }
}

extension QueryFormat: ExpressibleByArgument {}
