import Foundation
import Pipeline

/// What the tasks of one stage kind ask Slurm for, and how many stages each runs.
struct TaskResources: Sendable, Hashable, Codable {
    var partition: String?
    var account: String?
    var qos: String?
    /// Whole seconds (Slurm rounds up to minutes).
    var timeLimitSeconds: Int
    /// Per node, in MiB; nil takes the cluster's default.
    var memoryMegabytes: Int?
    var cpus: Int
    /// Generic resources, e.g. `gpu:1`.
    var gres: String?
    var extraArguments: [String]
    /// Shell lines run before xrbench in each task (`module load ...`).
    var setup: String?
    /// Stages one task runs, one after the other.
    var stagesPerTask: Int
    /// Nodes not to run on (after a node failure there).
    var excludedNodes: [String] = []
}

/// A Slurm profile: the spec's `executors.slurm` section and the `--profile` file (its fields win).
///
/// Resource fields (`partition`, `account`, `qos`, `time`, `memory`, `cpus`, `gres`,
/// `extra_args`, `setup`, `pack`) apply to every stage kind, and `kinds.<kind>` overrides them
/// for one kind. `time` is one task's limit, whatever it packs.
public struct SlurmProfile: Sendable, Hashable {
    /// Resources of the kinds without an entry of their own.
    var defaults: TaskResources
    /// Per-kind overrides, already merged over `defaults`.
    var kinds: [String: TaskResources]
    /// Whether `pack` was given for the kind (or everywhere); otherwise a kind that takes every
    /// thread (embedding) runs one stage per task.
    var packGiven: Set<String>
    var packGivenEverywhere: Bool
    /// Array tasks that fill one embedding stage's shards before one task assembles it.
    var shardTasks: Int
    /// At most this many tasks of one array run at once (`%N`); nil: no cap of ours.
    var arrayThrottle: Int?
    /// A cap on tasks per array below the cluster's `MaxArraySize`.
    var maxArrayTasks: Int?
    /// Retries of a stage after a timeout, an out-of-memory kill, a node failure or a crash.
    var retries: Int
    /// Resubmissions after preemption (not counted as retries).
    var requeues: Int
    /// A retry after TIMEOUT asks for this much more time; after OUT_OF_MEMORY, this much more memory.
    var timeFactor: Double
    var memoryFactor: Double
    /// Poll every `pollInterval` seconds while tasks change, growing to `maxPollInterval`.
    var pollInterval: Double
    var maxPollInterval: Double
    /// `auto` (sacct where the cluster keeps accounting), `sacct` or `squeue` (with exit markers).
    var accounting: String
    /// How long the driver waits out a status source that does not answer before it gives up on
    /// the tasks it cannot see (seconds).
    var statusGrace: Double
    /// The xrbench binary the tasks run; nil: this process's own.
    var binary: String?
    /// Stages the driver holds at once (the scheduler's budget).
    var maxInFlight: Int

    /// The fields every stage kind can set, at the top level and under `kinds.<kind>`.
    static let resourceFields: [SchemaField] = [
        SchemaField("partition", .string()),
        SchemaField("account", .string()),
        SchemaField("qos", .string()),
        SchemaField("time", .string()),
        SchemaField("memory", .string()),
        SchemaField("cpus", .integer(.atLeastOne)),
        SchemaField("gres", .string()),
        SchemaField("extra_args", .list(.string())),
        SchemaField("setup", .string()),
        SchemaField("pack", .integer(.atLeastOne)),
    ]

    /// Every field of a profile.
    static let fields: [SchemaField] = resourceFields + [
        SchemaField("kinds", .dictionary(.object(ObjectSchema(resourceFields)), defines: nil)),
        SchemaField("shard_tasks", .integer(.atLeastOne)),
        SchemaField("array_throttle", .integer(.atLeastOne)),
        SchemaField("max_array_tasks", .integer(.atLeastOne)),
        SchemaField("retries", .integer(.nonNegative)),
        SchemaField("requeues", .integer(.nonNegative)),
        SchemaField("time_factor", .number(NumberRange(lower: 1, lowerInclusive: false))),
        SchemaField("memory_factor", .number(NumberRange(lower: 1, lowerInclusive: false))),
        SchemaField("poll_interval", .number(.positive)),
        SchemaField("max_poll_interval", .number(.positive)),
        SchemaField("accounting", .string(choices: ["auto", "sacct", "squeue"])),
        SchemaField("status_grace", .number(.positive)),
        SchemaField("binary", .string()),
        SchemaField("max_in_flight", .integer(.atLeastOne)),
    ]

    /// Reads a validated profile (fields keyed by their lowerCamelCase names).
    /// - Throws: `SlurmExecutorError.badProfile` for a time or memory that does not parse.
    init(_ values: [String: ParameterValue]) throws {
        defaults = try Self.resources(values, over: TaskResources(
            timeLimitSeconds: 3600, cpus: 1, extraArguments: [], stagesPerTask: 8), path: "")
        packGivenEverywhere = values["pack"] != nil
        var kinds: [String: TaskResources] = [:]
        var packGiven: Set<String> = []
        for (kind, entry) in values["kinds"]?.objectValue ?? [:] {
            let fields = entry.objectValue ?? [:]
            kinds[kind] = try Self.resources(fields, over: defaults, path: "kinds.\(kind).")
            if fields["pack"] != nil { packGiven.insert(kind) }
        }
        self.kinds = kinds
        self.packGiven = packGiven
        shardTasks = values["shardTasks"]?.integerValue ?? 16
        arrayThrottle = values["arrayThrottle"]?.integerValue
        maxArrayTasks = values["maxArrayTasks"]?.integerValue
        retries = values["retries"]?.integerValue ?? 2
        requeues = values["requeues"]?.integerValue ?? 5
        timeFactor = values["timeFactor"]?.doubleValue ?? 2
        memoryFactor = values["memoryFactor"]?.doubleValue ?? 2
        pollInterval = values["pollInterval"]?.doubleValue ?? 10
        maxPollInterval = max(pollInterval, values["maxPollInterval"]?.doubleValue ?? 180)
        accounting = values["accounting"]?.stringValue ?? "auto"
        statusGrace = values["statusGrace"]?.doubleValue ?? 3600
        binary = values["binary"]?.stringValue
        maxInFlight = values["maxInFlight"]?.integerValue ?? 4096
    }

    /// The resources of `kind`; a kind whose stages take every thread runs one per task unless
    /// the profile packs it explicitly.
    func resources(for kind: StageKind, threads: ThreadNeed) -> TaskResources {
        var resources = kinds[kind.rawValue] ?? defaults
        if threads == .all && !packGiven.contains(kind.rawValue) && !packGivenEverywhere { resources.stagesPerTask = 1 }
        return resources
    }

    private static func resources(_ values: [String: ParameterValue], over base: TaskResources, path: String) throws -> TaskResources {
        var resources = base
        if let text = values["partition"]?.stringValue { resources.partition = text }
        if let text = values["account"]?.stringValue { resources.account = text }
        if let text = values["qos"]?.stringValue { resources.qos = text }
        if let text = values["time"]?.stringValue {
            guard let seconds = parseSlurmTime(text) else {
                throw SlurmExecutorError.badProfile(field: path + "time", value: text,
                                                    expected: "a Slurm time: minutes, MM:SS, HH:MM:SS, D-HH or D-HH:MM:SS")
            }
            resources.timeLimitSeconds = seconds
        }
        if let text = values["memory"]?.stringValue {
            guard let megabytes = parseMemory(text) else {
                throw SlurmExecutorError.badProfile(field: path + "memory", value: text, expected: "a size such as 512M, 4G or 1T (MiB without a unit)")
            }
            resources.memoryMegabytes = megabytes
        }
        if let count = values["cpus"]?.integerValue { resources.cpus = count }
        if let text = values["gres"]?.stringValue { resources.gres = text }
        if let list = values["extraArgs"]?.listValue { resources.extraArguments = list.compactMap(\.stringValue) }
        if let text = values["setup"]?.stringValue { resources.setup = text }
        if let count = values["pack"]?.integerValue { resources.stagesPerTask = count }
        return resources
    }
}

/// Seconds in a Slurm time: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`; nil otherwise or when zero.
func parseSlurmTime(_ text: String) -> Int? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    var days = 0
    var clock = Substring(trimmed)
    if let dash = trimmed.firstIndex(of: "-") {
        guard let value = Int(trimmed[..<dash]), value >= 0 else { return nil }
        days = value
        clock = trimmed[trimmed.index(after: dash)...]
    }
    let parts = clock.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
    guard !parts.isEmpty, parts.count <= 3, parts.allSatisfy({ ($0 ?? -1) >= 0 }) else { return nil }
    let numbers = parts.map { $0! }
    let seconds: Int
    if trimmed.contains("-") {
        // After a day count the fields are hours[:minutes[:seconds]].
        let padded = numbers + [Int](repeating: 0, count: 3 - numbers.count)
        seconds = padded[0] * 3600 + padded[1] * 60 + padded[2]
    } else {
        switch numbers.count {
        case 1: seconds = numbers[0] * 60
        case 2: seconds = numbers[0] * 60 + numbers[1]
        default: seconds = numbers[0] * 3600 + numbers[1] * 60 + numbers[2]
        }
    }
    let total = days * 86_400 + seconds
    return total > 0 ? total : nil
}

/// MiB in `512`, `512M`, `4G`, `4GB`, `1T`, `2048K`; nil otherwise or when zero.
func parseMemory(_ text: String) -> Int? {
    var digits = text.trimmingCharacters(in: .whitespaces).uppercased()
    if digits.hasSuffix("B") { digits.removeLast() }
    let scales: [Character: Double] = ["K": 1.0 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024]
    var scale = 1.0
    if let last = digits.last, let unit = scales[last] {
        scale = unit
        digits.removeLast()
    }
    guard let value = Double(digits), value > 0 else { return nil }
    return max(1, Int((value * scale).rounded(.up)))
}
