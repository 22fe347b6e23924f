import Foundation

/// Why `sbatch` refused a submission, read from its error message.
public enum SubmissionRefusal: String, Sendable, Hashable {
    case invalidPartition
    case invalidAccount
    case invalidQOS
    /// No node can ever satisfy the request (memory, CPUs, GRES or features).
    case resourcesUnavailable
    case invalidArray
    case invalidTimeLimit
    case other
}

/// An error from running a Slurm command, saying what went wrong and what to do about it.
public enum SlurmError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The program is on none of the search path's directories.
    case commandNotFound(command: String, searchPath: [String])
    /// The program exists but could not be started.
    case launchFailed(command: String, reason: String)
    /// The program did not finish within the runner's time limit and was terminated.
    case commandTimedOut(command: String, after: Duration)
    /// `slurmctld` does not answer.
    case controllerUnreachable(command: String, detail: String)
    /// The cluster stores no accounting (`AccountingStorageType=accounting_storage/none`), so
    /// `sacct` cannot answer.
    case accountingDisabled(command: String)
    /// Accounting is configured but `slurmdbd` (or its database) does not answer.
    case accountingUnreachable(command: String, detail: String)
    /// `sbatch` refused the job.
    case submissionRefused(reason: SubmissionRefusal, command: String, detail: String)
    /// Any other non-zero exit.
    case commandFailed(command: String, status: Int32, detail: String)
    /// The command succeeded but printed something this client cannot read.
    case unparsableOutput(command: String, line: String, expected: String)
    /// A request field the client refuses before running anything.
    case invalidRequest(field: String, value: String, expected: String)
    /// The exit-marker directory cannot be listed.
    case markerDirectoryUnreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .commandNotFound(let command, let searchPath):
            return "\(command) not found on the search path (\(searchPath.joined(separator: ":"))): "
                + "run on a machine with Slurm's client commands (a login node; Debian: apt-get install slurm-client), "
                + "or add their directory to PATH"
        case .launchFailed(let command, let reason):
            return "could not start `\(command)`: \(reason)"
        case .commandTimedOut(let command, let after):
            return "`\(command)` did not finish within \(after) and was stopped: the controller may be overloaded "
                + "or unreachable; check `scontrol ping`, and poll less often"
        case .controllerUnreachable(let command, let detail):
            return "`\(command)`: the Slurm controller does not answer (\(detail)); check `scontrol ping` and "
                + "SlurmctldHost in slurm.conf, or wait for the controller to come back"
        case .accountingDisabled(let command):
            return "`\(command)`: this cluster keeps no job accounting (AccountingStorageType=accounting_storage/none), "
                + "so sacct cannot answer; use squeue with exit-marker files instead"
        case .accountingUnreachable(let command, let detail):
            return "`\(command)`: slurmdbd or its database does not answer (\(detail)); jobs keep running, "
                + "so wait and query again, or use squeue with exit-marker files meanwhile"
        case .submissionRefused(let reason, let command, let detail):
            return "sbatch refused the job (`\(command)`): \(detail); " + Self.advice(for: reason)
        case .commandFailed(let command, let status, let detail):
            return "`\(command)` failed with status \(status): \(detail.isEmpty ? "(no message)" : detail)"
        case .unparsableOutput(let command, let line, let expected):
            return "`\(command)` printed \"\(line)\", expected \(expected); is this a Slurm version the client supports (22.05 or later)?"
        case .invalidRequest(let field, let value, let expected):
            return "invalid \(field) \"\(value)\": expected \(expected)"
        case .markerDirectoryUnreadable(let path, let reason):
            return "cannot list the exit-marker directory \(path) (\(reason)): create it before submitting, "
                + "on a filesystem that the nodes and this machine share"
        }
    }

    private static func advice(for reason: SubmissionRefusal) -> String {
        switch reason {
        case .invalidPartition: return "name a partition that `sinfo -s` lists, or leave it out for the default"
        case .invalidAccount: return "name an account you belong to (`sacctmgr show associations user=$USER`)"
        case .invalidQOS: return "name a QOS your association allows (`sacctmgr show associations user=$USER format=qos`)"
        case .resourcesUnavailable: return "ask for no more memory, CPUs or GPUs than one node of the partition has (`sinfo -N -l`)"
        case .invalidArray: return "keep array indices below MaxArraySize (`scontrol show config`); split the array into chunks"
        case .invalidTimeLimit: return "ask for no more time than the partition's limit (`sinfo -o '%P %l'`)"
        case .other: return "see the message above"
        }
    }

    /// The error a failed command's output stands for.
    ///
    /// - Parameters:
    ///   - command: the command line, for the message.
    ///   - output: what the command printed; its standard error decides the case.
    public static func classify(command: String, output: CommandOutput) -> SlurmError {
        let message = output.standardError + output.standardOutput
        let detail = errorLine(of: message)
        if message.contains("Unable to contact slurm controller") || message.contains("is DOWN")
            || message.contains("Slurm backup controller in standby mode") {
            return .controllerUnreachable(command: command, detail: detail)
        }
        if message.contains("Slurm accounting storage is disabled") {
            return .accountingDisabled(command: command)
        }
        if message.contains("Problem talking to the database") || message.contains("persistent connection") {
            return .accountingUnreachable(command: command, detail: detail)
        }
        if command.hasPrefix("sbatch"), let reason = refusal(in: message) {
            return .submissionRefused(reason: reason, command: command, detail: detail)
        }
        return .commandFailed(command: command, status: output.status, detail: detail)
    }

    private static func refusal(in message: String) -> SubmissionRefusal? {
        let table: [(String, SubmissionRefusal)] = [
            ("Invalid partition name specified", .invalidPartition),
            ("Invalid account", .invalidAccount),
            ("Invalid qos specification", .invalidQOS),
            ("Requested node configuration is not available", .resourcesUnavailable),
            ("More processors requested than permitted", .resourcesUnavailable),
            ("Memory required by task is not available", .resourcesUnavailable),
            ("Invalid generic resource (gres) specification", .resourcesUnavailable),
            ("Invalid job array specification", .invalidArray),
            ("Requested time limit is invalid", .invalidTimeLimit),
        ]
        for (text, reason) in table where message.contains(text) { return reason }
        return message.contains("Batch job submission failed") ? .other : nil
    }

    /// The line that says what failed: the last `error:` line (sbatch prints the submission
    /// failure last), else the first non-empty line.
    private static func errorLine(of message: String) -> String {
        let lines = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.allSatisfy { $0 == "*" } }
        if let failure = lines.last(where: { $0.contains("error") }) {
            return failure.replacingOccurrences(of: "sbatch: error: ", with: "")
        }
        return lines.first ?? ""
    }
}
