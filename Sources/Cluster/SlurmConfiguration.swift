import Foundation

/// The settings of a Slurm cluster that an executor needs, read from `scontrol show config`.
public struct SlurmConfiguration: Sendable, Hashable {
    /// Every `Key = Value` line of the output; the first occurrence of a key wins (the main
    /// configuration comes before the cgroup and MPI sections).
    public let values: [String: String]

    /// Parses the output of `scontrol show config`.
    /// - Throws: `SlurmError.unparsableOutput` when the output has none of the keys every
    ///   Slurm version prints (`SLURM_VERSION`, `MaxArraySize`).
    public init(parsing text: String, command: String = "scontrol show config") throws {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let equals = line.range(of: " = ") ?? line.range(of: "=") else { continue }
            let key = line[..<equals.lowerBound].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, !key.contains(" ") else { continue }
            let value = line[equals.upperBound...].trimmingCharacters(in: .whitespaces)
            if values[key] == nil { values[key] = value }
        }
        for required in ["SLURM_VERSION", "MaxArraySize"] where values[required] == nil {
            throw SlurmError.unparsableOutput(command: command, line: String(text.prefix(80)),
                                              expected: "a `\(required) = ...` line")
        }
        self.values = values
    }

    /// The value of `key`, or `nil` when absent or `(null)`.
    public subscript(key: String) -> String? {
        guard let value = values[key], value != "(null)", value != "N/A" else { return nil }
        return value
    }

    /// `SLURM_VERSION`, e.g. `22.05.8`.
    public var version: String { self["SLURM_VERSION"] ?? "unknown" }
    public var clusterName: String? { self["ClusterName"] }

    /// One more than the largest array index sbatch accepts.
    public var maxArraySize: Int { integer("MaxArraySize") ?? 1001 }
    /// The most jobs (array tasks count once started) the controller keeps at once.
    public var maxJobCount: Int { integer("MaxJobCount") ?? 10000 }

    /// `AccountingStorageType`, e.g. `accounting_storage/slurmdbd`.
    public var accountingStorageType: String { self["AccountingStorageType"] ?? "accounting_storage/none" }
    /// Whether `sacct` can answer: jobs are stored through slurmdbd.
    public var accountingEnabled: Bool { accountingStorageType != "accounting_storage/none" }

    /// How long a finished job stays visible to `squeue` (`MinJobAge`).
    public var minJobAge: Duration { duration("MinJobAge") ?? .seconds(300) }
    /// Between SIGTERM and SIGKILL when a job is cancelled or runs out of time.
    public var killWait: Duration { duration("KillWait") ?? .seconds(30) }
    /// Extra minutes a job may run past its limit (`OverTimeLimit`).
    public var overTimeLimit: Duration { duration("OverTimeLimit") ?? .zero }
    /// The client commands' timeout per message to the controller.
    public var messageTimeout: Duration { duration("MessageTimeout") ?? .seconds(10) }
    /// Memory given to a job that asks for none, per CPU, in MiB (`DefMemPerCPU`).
    public var defaultMemoryPerCPUMegabytes: Int? { integer("DefMemPerCPU") }
    /// Whether a job ended by a node failure or preemption is requeued by default (`JobRequeue`).
    public var requeuesByDefault: Bool { self["JobRequeue"] == "1" }
    public var preemptMode: String? { self["PreemptMode"] }
    public var proctrackType: String? { self["ProctrackType"] }
    public var taskPlugins: [String] { (self["TaskPlugin"] ?? "").split(separator: ",").map(String.init) }

    /// How a job that exceeds `--mem` is stopped on this cluster.
    public var memoryEnforcement: MemoryEnforcement {
        if taskPlugins.contains("task/cgroup") && self["ConstrainRAMSpace"] == "yes" { return .cgroup }
        if (self["JobAcctGatherParams"] ?? "").contains("OverMemoryKill") { return .polling }
        return .none
    }

    private func integer(_ key: String) -> Int? {
        guard let value = self[key] else { return nil }
        return Int(value.split(separator: " ").first ?? "")
    }

    /// `300 sec`, `0 min`, `10 sec` or a bare number of seconds.
    private func duration(_ key: String) -> Duration? {
        guard let value = self[key] else { return nil }
        let parts = value.split(separator: " ")
        guard let number = parts.first.flatMap({ Int($0) }) else { return nil }
        switch parts.count > 1 ? String(parts[1]) : "sec" {
        case "min": return .seconds(60 * number)
        case "hour", "hours": return .seconds(3600 * number)
        default: return .seconds(number)
        }
    }
}

/// How a cluster stops a job that uses more memory than it asked for.
public enum MemoryEnforcement: String, Sendable, Hashable {
    /// The kernel's OOM killer inside the job's cgroup; the job ends `OUT_OF_MEMORY`.
    case cgroup
    /// Slurm samples usage and kills the step (`JobAcctGatherParams=OverMemoryKill`); measured on
    /// Slurm 22.05 the job then ends `FAILED` (reason JobLaunchFailure), not `OUT_OF_MEMORY`.
    case polling
    /// Nothing stops it.
    case none
}
