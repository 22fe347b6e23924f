import Foundation

/// Where a poll learns the states of a run's tasks.
public enum StatusSource: Sendable, Hashable {
    /// `sacct`, which keeps finished jobs; needs accounting through slurmdbd.
    case accounting
    /// `squeue` plus the exit markers the tasks write into this directory.
    case queueAndMarkers(directory: URL)
}

/// Talks to a Slurm cluster through its commands (`sbatch`, `squeue`, `sacct`, `scancel`,
/// `scontrol`), one child process per call. It keeps no state: an executor holds the job ids.
public struct SlurmClient: Sendable {
    public let runner: any CommandRunner

    /// - Parameter runner: runs the commands; wrap it in a `RateLimitedRunner` to share a rate
    ///   limit between every caller.
    public init(runner: any CommandRunner = ProcessCommandRunner()) {
        self.runner = runner
    }

    /// Whether the controller answers (`scontrol ping`).
    /// - Throws: `SlurmError.commandNotFound` when Slurm's commands are missing, so that
    ///   "no Slurm here" and "Slurm is down" stay apart.
    public func controllerAnswers() async throws -> Bool {
        let output = try await runner.run(CommandInvocation("scontrol", ["ping"]))
        return output.status == 0 && output.standardOutput.contains("is UP")
    }

    /// The cluster's settings (`scontrol show config`).
    /// - Throws: `SlurmError.controllerUnreachable` and the other command errors.
    public func configuration() async throws -> SlurmConfiguration {
        let invocation = CommandInvocation("scontrol", ["show", "config"])
        let output = try await runChecked(invocation)
        return try SlurmConfiguration(parsing: output.standardOutput, command: invocation.description)
    }

    /// Submits `request` and returns its job id (for an array, the array's id).
    /// - Throws: `SlurmError.invalidRequest` before running anything, `.submissionRefused`
    ///   with the reason sbatch gave, `.unparsableOutput` when no job id came back.
    public func submit(_ request: BatchJobRequest) async throws -> Int {
        let invocation = CommandInvocation("sbatch", try request.sbatchArguments(), standardInput: request.script)
        let output = try await runChecked(invocation)
        return try Self.parseJobID(output.standardOutput, command: invocation.description)
    }

    /// Reads `sbatch --parsable` output: `12`, or `12;cluster` on a multi-cluster setup.
    static func parseJobID(_ text: String, command: String) throws -> Int {
        let line = text.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        guard let id = line.split(separator: ";").first.flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) else {
            throw SlurmError.unparsableOutput(command: command, line: line, expected: "a job id (sbatch --parsable)")
        }
        return id
    }

    /// Every task of the run named `jobName`, in one query to `source`.
    /// - Parameters:
    ///   - since: the run's start (or a little before); `sacct` looks no further back.
    /// - Returns: the tasks the source knows; a submitted task missing from it is not known yet
    ///   (sacct) or ended without a marker after `MinJobAge` (squeue).
    public func status(jobName: String, since: Date, source: StatusSource) async throws -> [TaskStatus] {
        switch source {
        case .accounting:
            let invocation = CommandInvocation("sacct", SacctQuery.arguments(jobName: jobName, since: since))
            return try SacctQuery.parse(try await runChecked(invocation).standardOutput, command: invocation.description)
        case .queueAndMarkers(let directory):
            let queue = try await queueStatus(jobName: jobName)
            let markers: [TaskID: ExitMarkers.Marker]
            do {
                markers = try ExitMarkers.read(directory: directory)
            } catch {
                throw SlurmError.markerDirectoryUnreadable(path: directory.path, reason: "\(error)")
            }
            return ExitMarkers.merge(squeue: queue, markers: markers)
        }
    }

    /// Every task of the runs named `jobNames` (a run re-attached to jobs an earlier driver
    /// submitted under its own name), still in one query: both commands take a list of names.
    /// - Precondition: `jobNames` is not empty.
    public func status(jobNames: [String], since: Date, source: StatusSource) async throws -> [TaskStatus] {
        precondition(!jobNames.isEmpty, "give at least one job name")
        return try await status(jobName: jobNames.joined(separator: ","), since: since, source: source)
    }

    /// What the controller knows about the run's tasks (`squeue`): pending, running, and finished
    /// within `MinJobAge`.
    public func queueStatus(jobName: String) async throws -> [TaskStatus] {
        let invocation = CommandInvocation("squeue", SqueueQuery.arguments(jobName: jobName))
        return try SqueueQuery.parse(try await runChecked(invocation).standardOutput, command: invocation.description)
    }

    /// Cancels these jobs (an array id cancels every task of the array).
    public func cancel(jobs: [Int]) async throws {
        guard !jobs.isEmpty else { return }
        _ = try await runChecked(CommandInvocation("scancel", jobs.map(String.init)))
    }

    /// Cancels these array tasks and jobs in one call (`scancel 12_3 12_4 13`).
    public func cancel(tasks: [TaskID]) async throws {
        guard !tasks.isEmpty else { return }
        _ = try await runChecked(CommandInvocation("scancel", tasks.map(\.description)))
    }

    /// Cancels every job of the current user named `jobName` (all of a run's jobs).
    public func cancel(jobName: String) async throws {
        _ = try await runChecked(CommandInvocation("scancel", ["--name=\(jobName)", "--user=\(NSUserName())"]))
    }

    private func runChecked(_ invocation: CommandInvocation) async throws -> CommandOutput {
        let output = try await runner.run(invocation)
        guard output.status == 0 else {
            throw SlurmError.classify(command: invocation.description, output: output)
        }
        return output
    }
}
