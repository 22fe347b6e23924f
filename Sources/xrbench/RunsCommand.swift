import ArgumentParser
import Foundation
import Results

extension XRBench {
    /// `xrbench runs`: the recorded runs, with their failed stages and errors.
    struct Runs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List recorded runs with their stage counts and failed stages' errors.",
            discussion: """
            One line per run (id, experiment, status, start and end, host, engine version, git \
            commit, spec digest), its stages counted by status, then each failed stage with its \
            kind, the first 12 characters of its key and its error. A run killed with kill -9 \
            stays `running`; its next run resumes it.

            Examples:
              xrbench runs
              xrbench runs --last 3
              xrbench runs --db other/xrbench.sqlite --failed
            """)

        @OptionGroup var database: DatabaseOption

        @Option(name: .long, help: "Show only the most recent N runs.")
        var last: Int?

        @Flag(name: .long, help: "Show only runs with failed stages.")
        var failed = false

        func validate() throws {
            if let last, last < 1 { throw ValidationError("--last must be at least 1, not \(last).") }
        }

        func run() throws {
            var runs = try database.openReader().runs()
            if failed { runs = runs.filter { !$0.failedStages.isEmpty } }
            if let last { runs = Array(runs.suffix(last)) }
            if runs.isEmpty, failed {
                print("no run has failed stages")
                return
            }
            FileHandle.standardOutput.write(Data(RunSummary.report(runs).utf8))
        }
    }
}
