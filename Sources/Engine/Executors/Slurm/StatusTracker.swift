import Cluster
import Foundation

/// One status query per poll cycle for every live task of the run, and what to make of tasks
/// the query does not list.
///
/// The source is `sacct` where the cluster keeps accounting (and the profile does not say
/// `accounting: squeue`), else `squeue`. Tasks always write exit markers, and a marker settles a
/// task at once (sacct lags the controller by seconds). A task `sacct` has not listed for a
/// minute (it can miss pending jobs for longer) is looked for with `squeue` in the next cycle;
/// a task neither `squeue` nor a marker knows ended without a trace (killed, then forgotten
/// after `MinJobAge`): with accounting, `sacct` is asked in the next cycle; without, it counts
/// as failed. When `sacct` fails (slurmdbd down) the tracker uses `squeue` and tries `sacct`
/// again every five minutes; while no source answers it waits, and only after `grace` seconds
/// without an answer does it give up on the tasks it cannot see.
struct StatusTracker: Sendable {
    /// Whether `sacct` may be asked.
    let accountingAvailable: Bool
    /// Seconds without an answer about a task before giving up on it.
    let grace: Double
    /// Seconds `sacct` may miss a task before `squeue` is asked.
    var sacctLag: Double = 60
    /// Seconds after submission before a task `squeue` does not list counts as gone.
    var queueSlack: Double = 20

    /// When `sacct` first failed (nil once it answers again), and when it last failed.
    private var accountingDownSince: Date?
    private var accountingFailedAt: Date?
    private var unlistedSince: [TaskID: Date] = [:]
    private var lastSeen: [TaskID: Date] = [:]
    private var askQueueNext = false
    private var askAccountingNext = false
    /// Queries made, by source.
    private(set) var queries: [String: Int] = [:]

    init(accountingAvailable: Bool, grace: Double) {
        self.accountingAvailable = accountingAvailable
        self.grace = grace
    }

    /// The source of the next query.
    func source(at now: Date, markers: URL) -> StatusSource {
        guard accountingAvailable, !askQueueNext else { return .queueAndMarkers(directory: markers) }
        if askAccountingNext { return .accounting }
        if let failed = accountingFailedAt, now.timeIntervalSince(failed) < 300 { return .queueAndMarkers(directory: markers) }
        return .accounting
    }

    /// What one poll learnt.
    struct Answer: Sendable {
        /// Tasks with a state (finished or not); a finished one is settled.
        var statuses: [TaskID: TaskStatus] = [:]
        /// Tasks no source could tell about for longer than the grace period, with why.
        var abandoned: [TaskID: String] = [:]
        /// Whether any query answered.
        var answered = false
    }

    /// Runs one query and reads the markers.
    /// - Parameters:
    ///   - query: runs the status command for a source (through the rate-limited client).
    ///   - live: the tasks waited for, with when they were submitted.
    ///   - markers: every marker found (the journal's marker folders).
    mutating func poll(live: [TaskID: Date], markers: [TaskID: ExitMarkers.Marker], markerFolder: URL, now: Date = Date(),
                       query: (StatusSource) throws -> [TaskStatus]) -> Answer {
        var answer = Answer()
        let source = source(at: now, markers: markerFolder)
        let isAccounting = source == .accounting
        askQueueNext = false
        askAccountingNext = false
        var listed: [TaskStatus] = []
        var failure: String?
        do {
            listed = try query(source)
            queries[isAccounting ? "sacct" : "squeue", default: 0] += 1
            answer.answered = true
            if isAccounting {
                accountingDownSince = nil
                accountingFailedAt = nil
            }
        } catch let error as SlurmError {
            queries[isAccounting ? "sacct" : "squeue", default: 0] += 1
            failure = "\(error)"
            // Any failure of sacct (slurmdbd down, a database error) sends the next queries to squeue.
            if isAccounting {
                if accountingDownSince == nil { accountingDownSince = now }
                accountingFailedAt = now
            }
        } catch {
            failure = "\(error)"
        }
        let snapshot = StatusSnapshot(listed)
        for (task, submitted) in live {
            let status = answer.answered ? snapshot[task] : nil
            if let status, status.state.isFinished {
                answer.statuses[task] = status
                unlistedSince[task] = nil
            } else if let marker = markers[task] {
                answer.statuses[task] = TaskStatus(task: task, state: marker.exitStatus == 0 ? .completed : .failed,
                                                   exitCode: ExitCode(status: marker.exitStatus, signal: 0),
                                                   reason: "exit marker", nodeList: marker.host ?? status?.nodeList)
                unlistedSince[task] = nil
            } else if let status {
                answer.statuses[task] = status
                unlistedSince[task] = nil
            } else if answer.answered {
                let since = unlistedSince[task] ?? now
                unlistedSince[task] = since
                if isAccounting {
                    if now.timeIntervalSince(since) >= sacctLag { askQueueNext = true }
                } else if now.timeIntervalSince(submitted) >= queueSlack {
                    if accountingAvailable && accountingDownSince == nil && now.timeIntervalSince(since) < sacctLag {
                        askAccountingNext = true
                    } else if accountingAvailable, let down = accountingDownSince, now.timeIntervalSince(down) < grace {
                        // slurmdbd is down and squeue forgot the task: wait for accounting to come back.
                    } else {
                        unlistedSince[task] = nil
                        answer.statuses[task] = TaskStatus(task: task, state: .failed, exitCode: nil,
                                                           reason: "ended without a trace (no exit marker; squeue no longer lists it)")
                    }
                }
            }
            if answer.statuses[task] != nil {
                lastSeen[task] = now
            } else if now.timeIntervalSince(lastSeen[task] ?? submitted) >= grace {
                answer.abandoned[task] = failure ?? "no status source lists it"
            }
        }
        return answer
    }
}
