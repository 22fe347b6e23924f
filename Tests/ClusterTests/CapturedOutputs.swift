import Cluster
import Foundation
import Synchronization
import TestSupport

/// One command's real output, captured from the one-node test cluster by
/// `scripts/fixtures/slurm_outputs.sh` (a folder with `command`, `stdout`, `stderr`, `status`).
struct CapturedOutput {
    var command: String
    var output: CommandOutput

    /// - Parameter name: `marker/status-final`, `accounting/sbatch-invalid-partition`, ...
    init(_ name: String) throws {
        let folder = fixturesDirectory().appendingPathComponent(name)
        func read(_ file: String) throws -> String {
            try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
        }
        command = try read("command").trimmingCharacters(in: .newlines)
        let status = Int32(try read("status").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        output = CommandOutput(status: status, standardOutput: try read("stdout"), standardError: try read("stderr"))
    }

    /// The job id each role of the captured batch got (`array`, `timeout`, ...).
    static func jobs(_ path: String) throws -> [String: Int] {
        let text = try String(contentsOf: fixturesDirectory().appendingPathComponent(path).appendingPathComponent("jobs"),
                              encoding: .utf8)
        var jobs: [String: Int] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: " ")
            if parts.count == 2, let id = Int(parts[1]) { jobs[String(parts[0])] = id }
        }
        return jobs
    }
}

/// A `CommandRunner` for unit tests that answers from captured real outputs, chosen by program
/// name, and records every invocation. It stands in for the cluster only in the parsing and
/// error-mapping tests; `SlurmIntegrationTests` run the real commands.
final class ReplayRunner: CommandRunner {
    private let answers: [String: CommandOutput]
    private let log = Mutex<[CommandInvocation]>([])

    init(_ answers: [String: CommandOutput]) {
        self.answers = answers
    }

    var invocations: [CommandInvocation] { log.withLock { $0 } }

    func run(_ invocation: CommandInvocation) async throws -> CommandOutput {
        log.withLock { $0.append(invocation) }
        guard let answer = answers[invocation.executable] else {
            throw SlurmError.commandNotFound(command: invocation.executable, searchPath: ["(replay)"])
        }
        return answer
    }
}
