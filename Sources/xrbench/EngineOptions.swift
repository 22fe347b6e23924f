import ArgumentParser
import Engine
import Foundation
import Pipeline
import Results

/// Options every engine command shares: where the cache and the database are, how many threads.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Artifact cache folder.", valueName: "DIR"))
    var cache: String = ".xrbench/cache"

    // `--db` as in `query`, `runs` and `tables`; `--database` kept as the long spelling.
    @Option(name: [.customLong("db"), .customLong("database")], help: ArgumentHelp("Results database.", valueName: "FILE"))
    var database: String = "results/xrbench.sqlite"

    @Option(name: .shortAndLong, help: "Thread budget shared by the stages running at once (default: all cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .long, help: "Hash every cached artifact instead of trusting unchanged sizes and modification times.")
    var verify = false

    @Option(name: .long, help: ArgumentHelp("Where stages are computed: local, or slurm (see `xrbench kinds`).", valueName: "NAME"))
    var executor: String = "local"

    @Option(name: .long, help: ArgumentHelp("The executor's profile (YAML; e.g. Slurm partition, time and memory per stage kind), over the spec's `executors:` section.",
                                            valueName: "FILE"))
    var profile: String?

    @Option(name: .long, help: ArgumentHelp("Images per embedding shard: progress is committed every N images.", valueName: "N"))
    var shardImages: Int = 256

    @Option(name: .customLong("max-stages"),
            help: ArgumentHelp("Refuse a spec whose matrices expand to more stages than this.", valueName: "N"))
    var maximumStages: Int = StageCount.defaultMaximum

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1.") }
        guard shardImages >= 1 else { throw ValidationError("--shard-images must be at least 1.") }
        guard maximumStages >= 1 else { throw ValidationError("--max-stages must be at least 1.") }
    }

    /// The engine configuration these options describe.
    func configuration(progress: Bool = true) -> EngineConfiguration {
        EngineConfiguration(
            cacheDirectory: URL(fileURLWithPath: cache), databasePath: URL(fileURLWithPath: database), jobs: jobs,
            registry: makeRegistry(shardImages: shardImages), executor: executor,
            executorProfile: profile.map { URL(fileURLWithPath: $0) }, observer: progress ? StderrProgress() : nil,
            verifyArtifacts: verify, maximumStages: maximumStages, engineVersion: xrbenchVersion)
    }
}

/// Prints engine errors (spec errors list every problem) and exits with status 1.
func reportingEngineErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("xrbench: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
