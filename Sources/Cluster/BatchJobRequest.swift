import Foundation

/// A set of array indices, written as Slurm writes them: `0-9`, `1,3,5-7`.
public struct ArrayIndices: Sendable, Hashable, CustomStringConvertible {
    /// Sorted, without duplicates.
    public let values: [Int]

    /// - Precondition: `values` is not empty and has no negative index.
    public init<S: Sequence<Int>>(_ values: S) {
        let sorted = Array(Set(values)).sorted()
        precondition(!sorted.isEmpty, "an array needs at least one index")
        precondition(sorted[0] >= 0, "array indices are not negative")
        self.values = sorted
    }

    /// Reads `0-9`, `1,3,5-7` or `0-10:2` (a step); `nil` for anything else.
    public init?(parsing text: String) {
        var values: [Int] = []
        for part in text.split(separator: ",") {
            let stepParts = part.split(separator: ":")
            let step = stepParts.count == 2 ? Int(stepParts[1]) : 1
            let bounds = stepParts[0].split(separator: "-")
            guard let step, step > 0, (1...2).contains(bounds.count),
                  let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]), low <= high, low >= 0
            else { return nil }
            values.append(contentsOf: stride(from: low, through: high, by: step))
        }
        guard !values.isEmpty else { return nil }
        self.init(values)
    }

    /// The largest index; sbatch refuses an array whose largest index is not below MaxArraySize.
    public var largest: Int { values[values.count - 1] }

    /// Runs of consecutive indices, written `a-b` (or `a`), joined by commas.
    public var description: String {
        var runs: [String] = []
        var start = values[0], previous = values[0]
        for value in values.dropFirst() {
            if value == previous + 1 { previous = value; continue }
            runs.append(start == previous ? "\(start)" : "\(start)-\(previous)")
            start = value
            previous = value
        }
        runs.append(start == previous ? "\(start)" : "\(start)-\(previous)")
        return runs.joined(separator: ",")
    }
}

/// A batch job (or job array) to submit with `sbatch`.
public struct BatchJobRequest: Sendable, Hashable {
    /// The job name; the status queries and `scancel --name` find the job by it, so an
    /// executor gives each run its own.
    public var name: String
    /// The whole batch script, starting with `#!`.
    public var script: String
    /// Array indices, or `nil` for a single job.
    public var arrayIndices: ArrayIndices?
    /// At most this many array tasks run at once (`%N`).
    public var maxConcurrentTasks: Int?
    /// Standard output path; Slurm expands `%A` (array job id), `%a` (index), `%j` (job id).
    public var outputPath: String?
    /// Standard error path; `nil` sends it to the output file.
    public var errorPath: String?
    public var workingDirectory: String?
    /// Rounded up to whole minutes by Slurm.
    public var timeLimit: Duration?
    /// Memory per node, in MiB.
    public var memoryMegabytes: Int?
    public var cpusPerTask: Int?
    public var partition: String?
    public var account: String?
    public var qos: String?
    /// Generic resources, e.g. `gpu:1`.
    public var gres: String?
    /// Start only after these jobs or array tasks completed successfully (`--dependency=afterok:...`;
    /// a task that fails leaves this job pending with reason `DependencyNeverSatisfied`).
    public var afterSuccessOf: [TaskID]
    /// Start only after these jobs or array tasks ended, however they ended (`afterany`).
    public var afterEndOf: [TaskID]
    /// `true` adds `--requeue`, `false` `--no-requeue`, `nil` keeps the cluster's default.
    public var requeue: Bool?
    /// Nodes not to run on (`--exclude`), e.g. after a node failure.
    public var excludedNodes: [String]
    /// Passed to sbatch last, as given (site-specific options).
    public var extraArguments: [String]

    public init(name: String, script: String, arrayIndices: ArrayIndices? = nil, maxConcurrentTasks: Int? = nil,
                outputPath: String? = nil, errorPath: String? = nil, workingDirectory: String? = nil,
                timeLimit: Duration? = nil, memoryMegabytes: Int? = nil, cpusPerTask: Int? = nil,
                partition: String? = nil, account: String? = nil, qos: String? = nil, gres: String? = nil,
                afterSuccessOf: [TaskID] = [], afterEndOf: [TaskID] = [], requeue: Bool? = nil, excludedNodes: [String] = [],
                extraArguments: [String] = []) {
        self.name = name
        self.script = script
        self.arrayIndices = arrayIndices
        self.maxConcurrentTasks = maxConcurrentTasks
        self.outputPath = outputPath
        self.errorPath = errorPath
        self.workingDirectory = workingDirectory
        self.timeLimit = timeLimit
        self.memoryMegabytes = memoryMegabytes
        self.cpusPerTask = cpusPerTask
        self.partition = partition
        self.account = account
        self.qos = qos
        self.gres = gres
        self.afterSuccessOf = afterSuccessOf
        self.afterEndOf = afterEndOf
        self.requeue = requeue
        self.excludedNodes = excludedNodes
        self.extraArguments = extraArguments
    }

    /// The `sbatch` arguments for this request; the script goes to sbatch's standard input.
    /// - Throws: `SlurmError.invalidRequest` for an empty or unsafe name, a script without `#!`,
    ///   or a non-positive number.
    public func sbatchArguments() throws -> [String] {
        let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard !name.isEmpty, name.count <= 200, name.allSatisfy({ nameCharacters.contains($0) }) else {
            throw SlurmError.invalidRequest(field: "job name", value: name,
                                            expected: "1–200 letters, digits, '-', '_' or '.'")
        }
        guard script.hasPrefix("#!") else {
            throw SlurmError.invalidRequest(field: "batch script", value: String(script.prefix(40)),
                                            expected: "a script whose first line is an interpreter line such as #!/bin/bash")
        }
        for (field, value) in [("memory (MiB)", memoryMegabytes), ("CPUs per task", cpusPerTask),
                               ("concurrent array tasks", maxConcurrentTasks)] {
            if let value, value <= 0 {
                throw SlurmError.invalidRequest(field: field, value: "\(value)", expected: "a positive number")
            }
        }
        var arguments = ["--parsable", "--job-name=\(name)"]
        if let arrayIndices {
            arguments.append("--array=\(arrayIndices)" + (maxConcurrentTasks.map { "%\($0)" } ?? ""))
        }
        if let outputPath { arguments.append("--output=\(outputPath)") }
        if let errorPath { arguments.append("--error=\(errorPath)") }
        if let workingDirectory { arguments.append("--chdir=\(workingDirectory)") }
        if let timeLimit {
            guard timeLimit > .zero else {
                throw SlurmError.invalidRequest(field: "time limit", value: "\(timeLimit)", expected: "a positive duration")
            }
            arguments.append("--time=\(Self.slurmTime(timeLimit))")
        }
        if let memoryMegabytes { arguments.append("--mem=\(memoryMegabytes)M") }
        if let cpusPerTask { arguments.append("--cpus-per-task=\(cpusPerTask)") }
        if let partition { arguments.append("--partition=\(partition)") }
        if let account { arguments.append("--account=\(account)") }
        if let qos { arguments.append("--qos=\(qos)") }
        if let gres { arguments.append("--gres=\(gres)") }
        var dependencies: [String] = []
        if !afterSuccessOf.isEmpty { dependencies.append("afterok:" + afterSuccessOf.map(\.description).joined(separator: ":")) }
        if !afterEndOf.isEmpty { dependencies.append("afterany:" + afterEndOf.map(\.description).joined(separator: ":")) }
        if !dependencies.isEmpty { arguments.append("--dependency=" + dependencies.joined(separator: ",")) }
        if let requeue { arguments.append(requeue ? "--requeue" : "--no-requeue") }
        if !excludedNodes.isEmpty { arguments.append("--exclude=" + excludedNodes.joined(separator: ",")) }
        return arguments + extraArguments
    }

    /// `days-hours:minutes:seconds`, whole seconds rounded up.
    static func slurmTime(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let total = seconds + (attoseconds > 0 ? 1 : 0)
        let days = total / 86_400, hours = total % 86_400 / 3600, minutes = total % 3600 / 60
        return "\(days)-" + [hours, minutes, total % 60].map { $0 < 10 ? "0\($0)" : "\($0)" }.joined(separator: ":")
    }
}

/// Splitting work into job arrays the cluster accepts.
public enum ArrayChunking {
    /// Consecutive ranges of `0..<taskCount`, each submitted as one array whose indices
    /// `0..<range.count` stay below `maxArraySize` (a task adds its chunk's lower bound back).
    ///
    /// - Parameters:
    ///   - taskCount: how many tasks in all.
    ///   - maxArraySize: the cluster's `MaxArraySize` (the largest index is one less).
    ///   - maxTasksPerArray: a smaller cap of the caller's (e.g. to stay well under `MaxJobCount`).
    /// - Precondition: `taskCount >= 0`, `maxArraySize >= 1`.
    /// - Complexity: O(taskCount / chunk size).
    public static func chunks(taskCount: Int, maxArraySize: Int, maxTasksPerArray: Int? = nil) -> [Range<Int>] {
        precondition(taskCount >= 0 && maxArraySize >= 1, "need taskCount >= 0 and maxArraySize >= 1")
        let size = max(1, min(maxArraySize, maxTasksPerArray ?? maxArraySize))
        return stride(from: 0, to: taskCount, by: size).map { $0..<min($0 + size, taskCount) }
    }
}
