import Cluster
import Foundation
import Testing

@Suite struct CommandRunnerTests {
    @Test func capturesOutputStatusAndInput() async throws {
        let runner = ProcessCommandRunner()
        let output = try await runner.run(CommandInvocation("sh", ["-c", "cat; echo oops >&2; exit 4"], standardInput: "line\n"))
        #expect(output == CommandOutput(status: 4, standardOutput: "line\n", standardError: "oops\n"))
    }

    @Test func aMissingProgramSaysWhereItLooked() async throws {
        let runner = ProcessCommandRunner(searchPath: ["/nonexistent/bin"])
        await #expect {
            _ = try await runner.run(CommandInvocation("sbatch", ["--version"]))
        } throws: { error in
            guard case SlurmError.commandNotFound(let command, let path) = error else { return false }
            return command == "sbatch" && path == ["/nonexistent/bin"] && "\(error)".contains("slurm-client")
        }
    }

    @Test func aHangingCommandIsStoppedAtTheTimeLimit() async throws {
        let runner = ProcessCommandRunner(timeout: .milliseconds(300))
        let started = ContinuousClock.now
        await #expect {
            _ = try await runner.run(CommandInvocation("sleep", ["30"]))
        } throws: { error in
            guard case SlurmError.commandTimedOut = error else { return false }
            return true
        }
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test func largeOutputDoesNotBlock() async throws {
        // 2 MB: far more than a pipe buffer.
        let output = try await ProcessCommandRunner().run(CommandInvocation("head", ["-c", "2000000", "/dev/zero"]))
        #expect(output.status == 0)
        #expect(output.standardOutput.utf8.count == 2_000_000)
    }

    @Test func commandLinesAreShownQuoted() {
        #expect(CommandInvocation("sbatch", ["--job-name=a b", "--wrap=it's"]).description
                == "sbatch '--job-name=a b' '--wrap=it'\\''s'")
    }
}
