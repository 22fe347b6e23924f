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
            cache and commits its artifact there (what a cluster job runs).

            Example:
              xrbench stage run 3fa9c01d22e4
            """,
            subcommands: [RunStage.self])
    }

    /// `xrbench stage run KEY…`: computes planned stages in this process.
    struct RunStage: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Compute planned stages by key (or unique key prefix, as `plan` prints it) and commit their artifacts.",
            discussion: """
            The stages must have been planned (by `xrbench plan` or `xrbench run`) with the same cache,
            and their inputs must be in the cache; several keys run in the order given. Each artifact,
            with the rows to record in its outputs.json, is committed to the cache; the results database
            is not opened: the `xrbench run` that planned the stages records them, as it does for stages
            computed by cluster jobs (this command is what such a job runs).

            A Slurm task runs it with --keep-going (every stage is tried), --errors (each failed
            stage's error in DIR/KEY.txt, for the driver) and, for one part of an embedding's shards,
            --shard-part INDEX/COUNT (fills shards INDEX, INDEX+COUNT, ... and commits no artifact).

            Examples:
              xrbench stage run 3fa9c01d22e4 91bb07c4a2d0
              xrbench stage run --shard-part 2/8 5d0c8e21b7aa
            """)

        @Argument(help: ArgumentHelp("Stage keys or unique prefixes.", valueName: "KEY"))
        var keys: [String]

        @OptionGroup var options: EngineOptions

        @Flag(name: .long, help: "Run every stage even after one failed; exit 1 if any failed.")
        var keepGoing = false

        @Option(name: .long, help: ArgumentHelp("Write each failed stage's error into DIR/KEY.txt.", valueName: "DIR"))
        var errors: String?

        @Option(name: .long, help: ArgumentHelp("Fill only this part of an embedding stage's shards (no artifact).", valueName: "INDEX/COUNT"))
        var shardPart: String?

        func validate() throws {
            guard !keys.isEmpty else { throw ValidationError("Give at least one stage key.") }
            if let shardPart {
                guard EmbeddingShardPart(parsing: shardPart) != nil else {
                    throw ValidationError("--shard-part must be INDEX/COUNT with 0 <= INDEX < COUNT, not \(shardPart).")
                }
                guard keys.count == 1 else { throw ValidationError("--shard-part takes one embedding stage key.") }
            }
        }

        func run() throws {
            var failures = 0
            for key in keys {
                do {
                    let report: StageRunReport
                    if let part = shardPart.flatMap(EmbeddingShardPart.init(parsing:)) {
                        report = try Engine.fillEmbeddingShards(key: key, part: part, configuration: options.configuration(progress: false))
                    } else {
                        report = try Engine.runStage(key: key, configuration: options.configuration(progress: false))
                    }
                    let state = report.wasCached ? "was already cached"
                        : String(format: "%@ in %.2f s", shardPart.map { "filled shard part \($0)" } ?? "ran", report.seconds)
                    print("\(report.stage.label) [\(report.stage.key.short)] \(state)")
                } catch {
                    failures += 1
                    FileHandle.standardError.write(Data("xrbench: \(error)\n".utf8))
                    if let errors { writeError("\(error)", key: key, folder: errors) }
                    if !keepGoing { throw ExitCode.failure }
                }
            }
            if failures > 0 { throw ExitCode.failure }
        }

        /// Saves a failed stage's error where the Slurm driver reads it (`DIR/KEY.txt`).
        private func writeError(_ message: String, key: String, folder: String) {
            let directory = URL(fileURLWithPath: folder)
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try? Data(message.utf8).write(to: directory.appendingPathComponent("\(key).txt"), options: .atomic)
        }
    }

    /// `xrbench cache ...`: cache maintenance.
    struct CacheCommands: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cache",
            abstract: "Maintain the artifact cache.",
            discussion: """
            Examples:
              xrbench cache du
              xrbench cache gc --dry-run
            """,
            subcommands: [CacheUsageCommand.self, CollectGarbage.self])
    }

    /// `xrbench cache du`: what the cache holds.
    struct CacheUsageCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "du",
            abstract: "Show what the cache holds: artifacts and bytes per stage kind, the embedding store per backbone.",
            discussion: """
            Example:
              xrbench cache du --cache /scratch/xrbench
            """)

        @OptionGroup var options: EngineOptions

        func run() throws {
            let usage = try reportingEngineErrors { try Engine.cacheUsage(configuration: options.configuration(progress: false)) }
            func size(_ bytes: Int64) -> String {
                ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file)
            }
            let nameWidth = max(4, usage.entries.map(\.name.count).max() ?? 0)
            print("what".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  artifacts        size  images")
            for entry in usage.entries {
                print(entry.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                      + String(entry.count).leftPadded(11) + size(entry.bytes).leftPadded(12)
                      + (entry.images.map { String($0).leftPadded(8) } ?? ""))
            }
            let total = usage.entries.reduce(Int64(0)) { $0 + $1.bytes }
            print("total: \(size(total))" + (usage.freeBytes.map { "; \(size($0)) free on the cache's file system" } ?? ""))
        }
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

extension String {
    /// The string right-aligned in `width` columns.
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
