import ArgumentParser
import Engine
import Foundation
import Logging
import Pipeline
import Results

/// Options shared by the engine commands: where the cache and the results database live.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The artifact cache folder.", valueName: "DIR"))
    var cache: String = ".xrbench/cache"

    @Option(name: .long, help: ArgumentHelp("The results database.", valueName: "FILE"))
    var db: String = ResultStore.defaultPath.path

    @Option(name: .long, help: "Threads for the whole run (a stage declares its share: embedding takes them all). Default: the cores.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .long, help: "Hash every cached artifact on lookup instead of trusting unchanged sizes and times.")
    var verify = false

    @Flag(name: .long, help: "Log each stage's details on standard error.")
    var verbose = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1.") }
    }

    /// The engine configuration with the built-in stage runners.
    func configuration(progress: Bool = true) -> EngineConfiguration {
        var logger = Logger(label: "xrbench")
        logger.logLevel = verbose ? .debug : .warning
        return EngineConfiguration(
            cacheDirectory: URL(fileURLWithPath: cache), databasePath: URL(fileURLWithPath: db), jobs: jobs,
            runners: standardRunners(), observer: progress ? StderrProgress() : nil, verifyArtifacts: verify, logger: logger)
    }
}

/// Prints an engine error as the one-paragraph message it is, and exits non-zero.
func failing(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
