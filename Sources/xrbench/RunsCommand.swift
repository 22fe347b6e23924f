import ArgumentParser
import Engine
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

            With --sync, first collects the Slurm runs that were detached (or whose driver was
            killed): each spec is run again with the slurm executor, which waits for its jobs and
            records their results.

            Examples:
              xrbench runs
              xrbench runs --last 3
              xrbench runs --db other/xrbench.sqlite --failed
              xrbench runs --sync --cache /shared/xrbench
            """)

        @OptionGroup var database: DatabaseOption

        @Option(name: .long, help: "Show only the most recent N runs.")
        var last: Int?

        @Flag(name: .long, help: "Show only runs with failed stages.")
        var failed = false

        @Flag(name: .long, help: "First collect detached Slurm runs of the cache: wait for their jobs and record the results.")
        var sync = false

        @Option(name: .long, help: ArgumentHelp("Artifact cache folder (for --sync).", valueName: "DIR"))
        var cache: String = ".xrbench/cache"

        func validate() throws {
            if let last, last < 1 { throw ValidationError("--last must be at least 1, not \(last).") }
        }

        func run() throws {
            let collectedAll = sync ? collect() : true
            var runs = try database.openReader().runs()
            if failed { runs = runs.filter { !$0.failedStages.isEmpty } }
            if let last { runs = Array(runs.suffix(last)) }
            if runs.isEmpty, failed {
                print("no run has failed stages")
                return
            }
            FileHandle.standardOutput.write(Data(RunSummary.report(runs).utf8))
            if !collectedAll { throw ExitCode.failure }
        }

        /// Runs every detached spec of the cache again, which waits for its jobs and records them.
        /// - Returns: whether every collected run succeeded.
        private func collect() -> Bool {
            let configuration = EngineConfiguration(
                cacheDirectory: URL(fileURLWithPath: cache), databasePath: URL(fileURLWithPath: database.db),
                registry: makeRegistry(), executor: "slurm", observer: nil, engineVersion: xrbenchVersion)
            let collected = Engine.collectDetachedRuns(configuration: configuration)
            if collected.isEmpty { print("no detached Slurm runs in \(cache)") }
            var failed = false
            for (run, report) in collected {
                switch report {
                case .success(let report):
                    FileHandle.standardOutput.write(Data((report.summary + "\n").utf8))
                    failed = failed || report.exitCode != 0
                case .failure(let error):
                    FileHandle.standardError.write(Data("xrbench: \(run.spec.path): \(error)\n".utf8))
                    failed = true
                }
            }
            if failed { FileHandle.standardError.write(Data("xrbench: some collected runs did not succeed (see above)\n".utf8)) }
            return !failed
        }
    }
}
