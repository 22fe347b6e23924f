import ArgumentParser
import Engine
import Foundation

extension XRBench {
    /// `xrbench stage`: work on single stages.
    struct StageCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stage",
            abstract: "Work on single stages of a planned spec (the unit a cluster job runs).",
            subcommands: [RunStage.self]
        )
    }

    /// `xrbench stage run KEY`.
    struct RunStage: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Run one stage by key, reading its inputs from the cache and recording its rows.",
            discussion: """
            The stage must have been planned (`xrbench plan` or `xrbench run` saves every stage's
            descriptor in the cache) and its inputs must be cached. A unique key prefix is enough.
            A stage already in the cache is not recomputed.

            Examples:
              xrbench plan Experiments/demo.yaml | grep embed
              xrbench stage run 3fa9c0d21b7e
              xrbench stage run 3fa9c0d21b7e --cache /scratch/xrbench-cache --db results/cluster.sqlite
            """
        )

        @Argument(help: ArgumentHelp("The stage key or a unique prefix of it.", valueName: "KEY"))
        var key: String

        @OptionGroup var options: EngineOptions

        func run() throws {
            try failing {
                let report = try Engine.runStage(key: key, configuration: options.configuration(progress: false))
                print("\(report.stage.label) [\(report.stage.key.short)]: "
                      + (report.wasCached ? "already cached" : String(format: "computed in %.1f s", report.seconds))
                      + " (run \(report.runID))")
            }
        }
    }

    /// `xrbench cache`: the artifact cache.
    struct CacheCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cache",
            abstract: "Manage the artifact cache.",
            subcommands: [CollectGarbage.self]
        )
    }

    /// `xrbench cache gc`.
    struct CollectGarbage: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove cached artifacts that no recorded stage (and no --keep spec) refers to.",
            discussion: """
            Artifacts of every stage any run in the database executed, took from the cache or
            recorded rows for are kept, as are the stages of the specs given with --keep (useful
            when several databases share one cache). Temporary folders of dead processes go too.

            Examples:
              xrbench cache gc --dry-run
              xrbench cache gc --keep Experiments/demo.yaml --cache .xrbench/cache --db results/xrbench.sqlite
            """
        )

        @Option(name: .long, help: ArgumentHelp("A spec whose stages are kept (repeatable).", valueName: "SPEC"))
        var keep: [String] = []

        @Flag(name: .long, help: "Report what would be removed without removing it.")
        var dryRun = false

        @OptionGroup var options: EngineOptions

        func run() throws {
            try failing {
                let report = try Engine.collectGarbage(configuration: options.configuration(progress: false),
                                                       keeping: keep.map { URL(fileURLWithPath: $0) }, dryRun: dryRun)
                for entry in report.removed {
                    print("\(dryRun ? "would remove" : "removed") \(entry.kind.rawValue) \(entry.key.short)")
                }
                print("\(report.removed.count) artifacts \(dryRun ? "to remove" : "removed"), \(report.kept) kept"
                      + (report.temporaries > 0 ? ", \(report.temporaries) stale temporary folders removed" : ""))
            }
        }
    }
}
