/// The state of a Slurm job or array task, as `squeue` and `sacct` name it.
public enum JobState: Sendable, Hashable, CustomStringConvertible {
    // Not finished.
    case pending
    case running
    case configuring
    /// Finished on the node; Slurm is still cleaning up (epilog, killing stray processes).
    case completing
    case suspended
    /// Put back in the queue (node failure, preemption with requeue, `scontrol requeue`).
    case requeued
    // Finished.
    case completed
    /// The batch script exited non-zero.
    case failed
    case timeout
    /// Killed for exceeding its memory (cgroup OOM killer).
    case outOfMemory
    case nodeFail
    case preempted
    case bootFail
    case deadline
    /// `byUser` is the uid that cancelled it, where `sacct` says (`CANCELLED by 0`).
    case cancelled(byUser: Int?)
    /// A state this client does not know; treated as not finished.
    case other(String)

    /// Reads a state as `squeue --Format=State` or `sacct --format=State` prints it.
    public init(slurmName: String) {
        let name = slurmName.trimmingCharacters(in: .whitespaces)
        if name.hasPrefix("CANCELLED") {
            let byUser = name.split(separator: " ").last.flatMap { Int($0) }
            self = .cancelled(byUser: name.contains(" by ") ? byUser : nil)
            return
        }
        switch name {
        case "PENDING", "PD": self = .pending
        case "RUNNING", "R": self = .running
        case "CONFIGURING", "CF": self = .configuring
        case "COMPLETING", "CG", "STAGE_OUT", "SO", "SIGNALING", "SI": self = .completing
        case "SUSPENDED", "S", "STOPPED", "ST": self = .suspended
        case "REQUEUED", "RQ", "REQUEUE_HOLD", "RH", "REQUEUE_FED", "RF", "SPECIAL_EXIT", "SE": self = .requeued
        case "COMPLETED", "CD": self = .completed
        case "FAILED", "F": self = .failed
        case "TIMEOUT", "TO": self = .timeout
        case "OUT_OF_MEMORY", "OOM": self = .outOfMemory
        case "NODE_FAIL", "NF": self = .nodeFail
        case "PREEMPTED", "PR": self = .preempted
        case "BOOT_FAIL", "BF": self = .bootFail
        case "DEADLINE", "DL": self = .deadline
        default: self = .other(name)
        }
    }

    /// Whether the job has ended for good (it will not run again unless resubmitted or requeued).
    public var isFinished: Bool {
        switch self {
        case .completed, .failed, .timeout, .outOfMemory, .nodeFail, .preempted, .bootFail, .deadline, .cancelled:
            return true
        case .pending, .running, .configuring, .completing, .suspended, .requeued, .other:
            return false
        }
    }

    /// The name Slurm prints.
    public var description: String {
        switch self {
        case .pending: return "PENDING"
        case .running: return "RUNNING"
        case .configuring: return "CONFIGURING"
        case .completing: return "COMPLETING"
        case .suspended: return "SUSPENDED"
        case .requeued: return "REQUEUED"
        case .completed: return "COMPLETED"
        case .failed: return "FAILED"
        case .timeout: return "TIMEOUT"
        case .outOfMemory: return "OUT_OF_MEMORY"
        case .nodeFail: return "NODE_FAIL"
        case .preempted: return "PREEMPTED"
        case .bootFail: return "BOOT_FAIL"
        case .deadline: return "DEADLINE"
        case .cancelled(let user): return user.map { "CANCELLED by \($0)" } ?? "CANCELLED"
        case .other(let name): return name
        }
    }
}

/// How a job's batch script ended: its exit status, or the signal that killed it.
public struct ExitCode: Sendable, Hashable, CustomStringConvertible {
    public var status: Int
    /// 0 when no signal; Slurm reports 125 for a cgroup OOM kill.
    public var signal: Int

    public init(status: Int, signal: Int) {
        self.status = status
        self.signal = signal
    }

    /// Reads `sacct`'s `status:signal` form, e.g. `3:0` or `0:125`.
    public init?(sacct text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let status = Int(parts[0]), let signal = Int(parts[1]) else { return nil }
        self.init(status: status, signal: signal)
    }

    /// Reads `squeue --Format=exit_code`, a raw wait status: `768` is status 3, `15` is SIGTERM.
    public init?(waitStatus text: String) {
        guard let raw = Int(text) else { return nil }
        self.init(status: (raw >> 8) & 0xff, signal: raw & 0x7f)
    }

    public var description: String { "\(status):\(signal)" }
}

/// One unit of work Slurm tracks: a plain job, or one task of a job array.
public struct TaskID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The job id `sbatch --parsable` printed (for an array, the array's id).
    public var job: Int
    /// The array index, or `nil` for a job that is not an array.
    public var arrayIndex: Int?

    public init(job: Int, arrayIndex: Int? = nil) {
        self.job = job
        self.arrayIndex = arrayIndex
    }

    /// `12_3` or `12`, as Slurm prints it.
    public var description: String { arrayIndex.map { "\(job)_\($0)" } ?? "\(job)" }

    public static func < (lhs: TaskID, rhs: TaskID) -> Bool {
        (lhs.job, lhs.arrayIndex ?? -1) < (rhs.job, rhs.arrayIndex ?? -1)
    }

    /// Reads a job id as Slurm prints it: `12`, `12_3`, or a pending array range such as
    /// `12_[4-7%2]` or `12_[1,3,5-6]`, which stands for several tasks. A heterogeneous job
    /// component (`12+1`) is read as job 12.
    /// - Returns: `nil` when `text` is none of these forms.
    public static func parseAll(_ text: String) -> [TaskID]? {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard let underscore = text.firstIndex(of: "_") else {
            let jobText = text.split(separator: "+").first.map(String.init) ?? text
            return Int(jobText).map { [TaskID(job: $0)] }
        }
        guard let job = Int(text[..<underscore]) else { return nil }
        var rest = text[text.index(after: underscore)...]
        if let index = Int(rest) { return [TaskID(job: job, arrayIndex: index)] }
        guard rest.hasPrefix("["), rest.hasSuffix("]") else { return nil }
        rest = rest.dropFirst().dropLast()
        if let percent = rest.firstIndex(of: "%") { rest = rest[..<percent] }
        guard let indices = ArrayIndices(parsing: String(rest)) else { return nil }
        return indices.values.map { TaskID(job: job, arrayIndex: $0) }
    }
}
