import ArgumentParser
import Engine
import Foundation

extension XRBench {
    /// `xrbench stage ...`: one stage at a time.
    struct StageCommands: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stage",
            abstract: "Work with single stages.",
            discussion: """
            A stage runs on its own, by key, in a separate process: it reads its inputs from the
            cache and records into the results database (the seam for cluster executors).

            Example:
              xrbench stage run 3fa9c01d22e4
            """,
            subcommands: [RunStage.self])
    }

    /// `xrbench stage run KEY`: runs one planned stage in this process.
    struct RunStage: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run one planned stage by key (or a unique key prefix, as `plan` prints it).",
            discussion: """
            The stage must have been planned (by `xrbench plan` or `xrbench run`) with the same cache,
            and its inputs must be in the cache. Its artifact is committed to the cache and its rows
            recorded in the database, exactly as `run` would: the unit a cluster job executes.

            Example:
              xrbench stage run 3fa9c01d22e4
            """)

        @Argument(help: ArgumentHelp("Stage key or unique prefix.", valueName: "KEY"))
        var key: String

        @OptionGroup var options: EngineOptions

        func run() throws {
            let report = try reportingEngineErrors {
                try Engine.runStage(key: key, configuration: options.configuration(progress: false))
            }
            let state = report.wasCached ? "was already cached" : String(format: "ran in %.2f s", report.seconds)
            print("\(report.stage.label) [\(report.stage.key.short)] \(state) (run \(report.runID))")
        }
    }

    /// `xrbench cache ...`: cache maintenance.
    struct CacheCommands: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cache",
            abstract: "Maintain the artifact cache.",
            discussion: """
            Example:
              xrbench cache gc --dry-run
            """,
            subcommands: [CollectGarbage.self])
    }

    /// `xrbench cache gc`: removes artifacts nothing refers to.
    struct CollectGarbage: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove cached artifacts that no recorded stage refers to.",
            discussion: """
            Kept: every stage the database recorded (run, cached or with rows) and, with --keep,
            every stage of the given specs (when several databases share one cache).

            Examples:
              xrbench cache gc --dry-run
              xrbench cache gc --keep Experiments/demo.yaml
            """)

        @Option(name: .long, help: ArgumentHelp("Also keep the stages of this spec (repeatable).", valueName: "SPEC"))
        var keep: [String] = []

        @Flag(name: .long, help: "List what would be removed without removing it.")
        var dryRun = false

        @OptionGroup var options: EngineOptions

        func run() throws {
            let report = try reportingEngineErrors {
                try Engine.collectGarbage(configuration: options.configuration(progress: false),
                                          keeping: keep.map { URL(fileURLWithPath: $0) }, dryRun: dryRun)
            }
            for entry in report.removed { print("\(dryRun ? "would remove" : "removed") \(entry.kind)/\(entry.key.short)") }
            print("\(report.removed.count) artifacts \(dryRun ? "to remove" : "removed"), \(report.kept) kept"
                  + (report.temporaries > 0 ? ", \(report.temporaries) stale temporary folders removed" : ""))
        }
    }
}
