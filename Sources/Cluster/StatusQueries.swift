import Foundation

/// What one status query said about one job or array task.
public struct TaskStatus: Sendable, Hashable {
    public var task: TaskID
    public var state: JobState
    /// The exit status or signal, once the task finished (pending tasks have none).
    public var exitCode: ExitCode?
    /// Slurm's reason: why it is pending (`Priority`, `PartitionTimeLimit`) or how it ended.
    public var reason: String?
    /// Where it ran, e.g. `node[01-02]`; `nil` while pending.
    public var nodeList: String?

    public init(task: TaskID, state: JobState, exitCode: ExitCode? = nil, reason: String? = nil, nodeList: String? = nil) {
        self.task = task
        self.state = state
        self.exitCode = exitCode
        self.reason = reason
        self.nodeList = nodeList
    }

    /// Pending reasons that waiting does not clear: the request itself exceeds a per-job limit
    /// or names something that does not exist (a cluster with `EnforcePartLimits=NO` accepts such
    /// jobs and leaves them pending), or a dependency failed. Only an administrator changing the
    /// limits would start them, so an executor cancels such a task and reports the reason.
    /// (A partition that is down, or a job held by an administrator, can still start later.)
    public static let unsatisfiablePendingReasons: Set<String> = [
        "PartitionTimeLimit", "PartitionNodeLimit", "PartitionConfig",
        "InvalidAccount", "InvalidQOS", "DependencyNeverSatisfied",
        "QOSMaxWallDurationPerJobLimit", "AssocMaxWallDurationPerJobLimit",
        "QOSMaxCpuPerJobLimit", "QOSMaxMemoryPerJob", "QOSMaxGRESPerJob",
    ]

    /// Whether the task is pending for a reason that will not clear by waiting.
    public var isStuck: Bool {
        state == .pending && reason.map(Self.unsatisfiablePendingReasons.contains) == true
    }
}

/// One poll's answer, looked up by task.
///
/// A job array cancelled before any of its tasks started is reported by its job id alone
/// (measured on Slurm 22.05: `squeue --array` and `sacct` both print `10`, ArrayTaskID `N/A`, and
/// no line per task), so a task without a line of its own takes its array's line.
public struct StatusSnapshot: Sendable, Hashable {
    public let statuses: [TaskID: TaskStatus]

    /// - Parameter statuses: one query's answer; a later line for the same task wins.
    public init(_ statuses: [TaskStatus]) {
        self.statuses = Dictionary(statuses.map { ($0.task, $0) }, uniquingKeysWith: { $1 })
    }

    /// The status of `task`, its array's when it has no line of its own, or `nil` when the
    /// source does not list it (not known yet to `sacct`, forgotten by `squeue`).
    public subscript(task: TaskID) -> TaskStatus? {
        if let status = statuses[task] { return status }
        guard task.arrayIndex != nil, let array = statuses[TaskID(job: task.job)] else { return nil }
        var status = array
        status.task = task
        return status
    }
}

/// The `sacct` query: one call for every job of a run, found by the run's job name.
///
/// `-X` keeps one line per job or task (not its steps). A pending array part that has not been
/// split into tasks prints as `12_[4-7%2]` and is expanded. Measured on Slurm 22.05: a pending job
/// appears in `sacct` only once the controller has sent it to slurmdbd, which for a held job
/// (or one pending on a partition limit) had not happened minutes later, so a submitted task that
/// `sacct` does not list is not yet known, not lost.
public enum SacctQuery {
    /// The columns requested, in order.
    public static let fields = ["JobID", "JobIDRaw", "State", "ExitCode", "Reason", "NodeList", "Elapsed"]

    /// - Parameters:
    ///   - jobName: the run's job name.
    ///   - since: jobs eligible since then; `sacct` otherwise shows only jobs since midnight.
    ///   - timeZone: the zone `sacct` reads times in (the machine's).
    public static func arguments(jobName: String, since: Date, timeZone: TimeZone = .current) -> [String] {
        ["--name=\(jobName)", "--allocations", "--parsable2", "--noheader",
         "--starttime=\(slurmTimestamp(since, timeZone: timeZone))", "--format=\(fields.joined(separator: ","))"]
    }

    /// Parses `sacct --parsable2 --noheader` output in `fields` order.
    /// - Throws: `SlurmError.unparsableOutput` naming the line that does not have the columns or
    ///   whose job id cannot be read.
    public static func parse(_ text: String, command: String = "sacct") throws -> [TaskStatus] {
        var statuses: [TaskStatus] = []
        for line in text.split(whereSeparator: \.isNewline) where !line.isEmpty {
            let columns = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard columns.count == fields.count, let tasks = TaskID.parseAll(columns[0]) else {
                throw SlurmError.unparsableOutput(command: command, line: String(line),
                                                  expected: "\(fields.count) '|'-separated columns: \(fields.joined(separator: "|"))")
            }
            let state = JobState(slurmName: columns[2])
            let exitCode = state == .pending ? nil : ExitCode(sacct: columns[3])
            let nodes = columns[5] == "None assigned" || columns[5].isEmpty ? nil : columns[5]
            for task in tasks {
                statuses.append(TaskStatus(task: task, state: state, exitCode: exitCode,
                                           reason: nonEmpty(columns[4]), nodeList: nodes))
            }
        }
        return statuses
    }
}

/// The `squeue` query: one call for every job of a run still known to the controller (pending,
/// running, and finished within `MinJobAge`), found by the run's job name.
public enum SqueueQuery {
    /// The `--Format` fields; `:0|` means no padding and a `|` after the value.
    public static let format = "JobArrayID:0|,ArrayJobID:0|,ArrayTaskID:0|,JobID:0|,State:0|,Reason:0|,NodeList:0|,exit_code:0"

    public static func arguments(jobName: String) -> [String] {
        ["--noheader", "--array", "--states=all", "--name=\(jobName)", "--Format=\(format)"]
    }

    /// Parses the output of `arguments(jobName:)`.
    /// - Throws: `SlurmError.unparsableOutput` naming a line without the eight columns.
    public static func parse(_ text: String, command: String = "squeue") throws -> [TaskStatus] {
        var statuses: [TaskStatus] = []
        for line in text.split(whereSeparator: \.isNewline) where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let columns = line.split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard columns.count == 8, let tasks = TaskID.parseAll(columns[0]) else {
                throw SlurmError.unparsableOutput(command: command, line: String(line),
                                                  expected: "8 '|'-separated columns (\(format))")
            }
            let state = JobState(slurmName: columns[4])
            let exitCode = state.isFinished ? ExitCode(waitStatus: columns[7]) : nil
            for task in tasks {
                statuses.append(TaskStatus(task: task, state: state, exitCode: exitCode,
                                           reason: nonEmpty(columns[5]), nodeList: nonEmpty(columns[6])))
            }
        }
        return statuses
    }
}

/// `2026-12-06T06:24:33` in `timeZone`, the form `sacct --starttime` reads.
func slurmTimestamp(_ date: Date, timeZone: TimeZone) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = timeZone
    let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    func two(_ value: Int?) -> String { let value = value ?? 0; return value < 10 ? "0\(value)" : "\(value)" }
    return "\(parts.year ?? 1970)-\(two(parts.month))-\(two(parts.day))T\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second))"
}

private func nonEmpty(_ text: String) -> String? {
    text.isEmpty || text == "None" || text == "(null)" ? nil : text
}
