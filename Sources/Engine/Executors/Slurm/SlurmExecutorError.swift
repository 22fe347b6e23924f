import Foundation

/// What keeps the Slurm executor from starting, and why a stage failed on the cluster; each
/// says what to do.
public enum SlurmExecutorError: Error, Sendable, CustomStringConvertible, LocalizedError, Equatable {
    /// A profile field that does not parse.
    case badProfile(field: String, value: String, expected: String)
    /// No controller answers, or Slurm's commands are missing.
    case noCluster(detail: String)
    /// The xrbench binary the tasks would run is not there.
    case binaryNotFound(path: String)
    /// Another live driver holds this spec's journal.
    case journalBusy(path: String, holder: String)
    /// The journal cannot be written or read.
    case journal(path: String, problem: String)
    /// A stage that failed on the cluster: the last attempt's state, job, node, error and log.
    case stageFailed(String)
    /// The status of a stage's tasks could not be learnt for longer than the grace period.
    case statusUnknown(task: String, seconds: Int, detail: String)

    public var description: String {
        switch self {
        case .badProfile(let field, let value, let expected):
            return "Slurm profile: \(field) is \"\(value)\"; expected \(expected)"
        case .noCluster(let detail):
            return "--executor slurm: \(detail)"
        case .binaryNotFound(let path):
            return "--executor slurm: the xrbench binary the tasks would run, \(path), is not an executable file; "
                + "set `binary:` in the Slurm profile to a path the nodes can run"
        case .journalBusy(let path, let holder):
            return "another xrbench run (\(holder)) is driving this spec with this cache (journal \(path)); "
                + "wait for it to finish, or stop it (Ctrl-C cancels its jobs) and run again"
        case .journal(let path, let problem):
            return "the Slurm journal \(path): \(problem)"
        case .stageFailed(let message):
            return message
        case .statusUnknown(let task, let seconds, let detail):
            return "no status of Slurm job \(task) for \(seconds) s (\(detail)); check `scontrol ping` and `sacct`, then run again: "
                + "stages whose artifacts were committed meanwhile are not resubmitted"
        }
    }

    /// Same as `description`.
    public var errorDescription: String? { description }
}
