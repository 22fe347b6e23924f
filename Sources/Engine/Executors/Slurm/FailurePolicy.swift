import Cluster
import Foundation

/// What a finished task means for one of its items.
enum ItemDecision: Sendable, Equatable {
    /// Its artifact (or, for a shard part, its shards) is in the cache.
    case succeeded
    /// For good; the message goes to `stage_execution.error_message`.
    case failed(String)
    /// Submit again with these resources (counts against the profile's `retries`).
    case retry(TaskResources, reason: String)
    /// Submit again as it was, after a preemption (counts against `requeues`).
    case requeue
}

/// What the driver found about one item of a finished task.
struct ItemEvidence: Sendable {
    /// A whole stage: its artifact is committed. A shard part: its task exited 0.
    var committed: Bool
    /// The error the stage threw on the node (its file under `errors/`), if any.
    var stageError: String?
    /// Submissions so far (retries included, requeues not) and requeues.
    var attempts: Int
    var requeues: Int
}

/// Tells the Slurm end states apart and decides, per item, between success, a retry with more
/// time or memory or without a failed node, a requeue, and failure.
///
/// A stage that threw (its error file exists) is not retried: the same inputs give the same
/// error. A task that died without saying why (a signal, a crash, a node that could not see the
/// cache) is retried as it was, or without its node; TIMEOUT with `time_factor` times the time,
/// OUT_OF_MEMORY with `memory_factor` times the memory; NODE_FAIL and BOOT_FAIL without the
/// node. PREEMPTED is requeued without counting as a retry. CANCELLED (by someone else) and
/// DEADLINE fail.
struct FailurePolicy: Sendable {
    var retries: Int
    var requeues: Int
    var timeFactor: Double
    var memoryFactor: Double
    /// Memory a task without `memory` gets, per CPU (the cluster's `DefMemPerCPU`), to scale from.
    var defaultMemoryPerCPU: Int?

    /// The decision for one item of a task that ended with `status`.
    /// - Parameters:
    ///   - where: `Slurm job 12_3 on node vm`, for messages.
    ///   - log: the task's log file.
    ///   - logTail: the last line of its log, shown when nothing better says why it failed.
    func decide(_ evidence: ItemEvidence, status: TaskStatus, resources: TaskResources, isShardPart: Bool,
                where place: String, log: String, logTail: String?) -> ItemDecision {
        if evidence.committed { return .succeeded }
        let suffix = " [\(place); log: \(log)]"
        if let error = evidence.stageError { return .failed(error + suffix) }
        let state = Self.describe(status, resources: resources)
        let tail = logTail.map { ": \($0)" } ?? ""
        func retry(_ next: TaskResources, _ reason: String) -> ItemDecision {
            guard evidence.attempts <= retries else {
                return .failed("\(state)\(tail), on attempt \(evidence.attempts) of \(retries + 1)\(suffix)")
            }
            return .retry(next, reason: reason)
        }
        switch status.state {
        case .completed:
            if isShardPart { return .succeeded }
            return .failed("the task completed but the stage's artifact is not in the cache as the driver sees it; "
                           + "the cache must be on a file system that the nodes share with the driver\(suffix)")
        case .failed:
            var next = resources
            let exit = status.exitCode?.status
            if exit == TaskScript.unsharedStatus || exit == ExitMarkers.markerWriteFailureStatus, let node = Self.node(of: status.nodeList) {
                // This node does not see the cache: another may.
                next.excludedNodes = Array(Set(next.excludedNodes + [node])).sorted()
            }
            return retry(next, "\(state)\(tail)")
        case .timeout:
            var next = resources
            next.timeLimitSeconds = Self.scaledTime(resources.timeLimitSeconds, by: timeFactor)
            return retry(next, "TIMEOUT after \(BatchJobRequest.formattedTime(seconds: resources.timeLimitSeconds)); "
                         + "now \(BatchJobRequest.formattedTime(seconds: next.timeLimitSeconds))")
        case .outOfMemory:
            var next = resources
            let current = resources.memoryMegabytes ?? (defaultMemoryPerCPU ?? 1024) * resources.cpus
            next.memoryMegabytes = Int((Double(current) * memoryFactor).rounded(.up))
            return retry(next, "OUT_OF_MEMORY with \(current) MiB; now \(next.memoryMegabytes!) MiB")
        case .nodeFail, .bootFail:
            var next = resources
            if let node = Self.node(of: status.nodeList) { next.excludedNodes = Array(Set(next.excludedNodes + [node])).sorted() }
            return retry(next, "\(state) on \(status.nodeList ?? "an unknown node")")
        case .preempted:
            guard evidence.requeues < requeues else {
                return .failed("PREEMPTED \(evidence.requeues + 1) times; raise `requeues` in the Slurm profile or use a partition "
                               + "that is not preempted\(suffix)")
            }
            return .requeue
        case .cancelled(let user):
            return .failed("CANCELLED" + (user.map { " by uid \($0)" } ?? "") + " outside this run (scancel)\(suffix)")
        case .deadline:
            return .failed("DEADLINE: the job's deadline passed before it could finish\(suffix)")
        default:
            return .failed("\(state)\(tail)\(suffix)")
        }
    }

    /// A node list that names one node (`vm`), nil for ranges (`node[01-02]`).
    static func node(of list: String?) -> String? {
        guard let list, !list.isEmpty, !list.contains("["), !list.contains(",") else { return nil }
        return list
    }

    /// `time` × `factor`, rounded up to whole minutes (Slurm's unit).
    static func scaledTime(_ seconds: Int, by factor: Double) -> Int {
        let scaled = Int((Double(seconds) * factor).rounded(.up))
        return (scaled + 59) / 60 * 60
    }

    /// `FAILED with exit status 1`, `TIMEOUT`, `OUT_OF_MEMORY`, `CANCELLED by uid 0`.
    static func describe(_ status: TaskStatus, resources: TaskResources) -> String {
        switch status.state {
        case .failed:
            guard let code = status.exitCode else { return "FAILED" }
            if code.signal != 0 { return "FAILED, killed by signal \(code.signal)" }
            switch code.status {
            case TaskScript.unsharedStatus: return "FAILED: the node could not see the cache or the xrbench binary"
            case ExitMarkers.markerWriteFailureStatus: return "FAILED: the node could not write into the cache (not shared?)"
            default: return "FAILED with exit status \(code.status)"
            }
        default:
            return status.state.description
        }
    }
}

extension BatchJobRequest {
    /// `1:30:00`-style text of a number of seconds, for messages.
    static func formattedTime(seconds: Int) -> String {
        let hours = seconds / 3600, minutes = seconds % 3600 / 60, rest = seconds % 60
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }
}
