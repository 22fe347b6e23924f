import Cluster
import Foundation
import Pipeline

extension SlurmDriver {
    /// One poll cycle: one status query for every live task of the journal, then each task
    /// that ended is settled. Driver thread only.
    /// - Returns: whether any task changed state (the back-off then starts over).
    func poll() -> Bool {
        let live = Dictionary(uniqueKeysWithValues: replay.liveTasks.map {
            ($0, Date(timeIntervalSince1970: replay.tasks[$0]!.submittedAt))
        })
        guard !live.isEmpty else { return false }
        statistics.polls += 1
        let markers = (try? ExitMarkers.read(directory: journal.markersFolder)) ?? [:]
        let client = self.client, name = journal.name, since = self.since
        let answer = tracker.poll(live: live, markers: markers, markerFolder: journal.markersFolder) { source in
            try blockingCall {
                switch source {
                case .accounting: try await client.status(jobNames: [name], since: since, source: .accounting)
                case .queueAndMarkers: try await client.queueStatus(jobName: name)
                }
            }
        }
        statistics.statusQueries = tracker.queries
        var changed = false
        var stuck: [(TaskID, TaskStatus)] = []
        for (task, status) in answer.statuses.sorted(by: { $0.key < $1.key }) {
            if lastStates[task] != status.state {
                changed = true
                lastStates[task] = status.state
            }
            if status.state.isFinished {
                settle(task, status: status)
            } else if status.isStuck {
                stuck.append((task, status))
            }
        }
        if !stuck.isEmpty { unstick(stuck) }
        for (task, why) in answer.abandoned.sorted(by: { $0.key < $1.key }) {
            changed = true
            let seconds = Int(profile.statusGrace)
            endTask(task, state: "UNKNOWN", node: nil) { item, _ in
                self.failStage(item.stage, message: SlurmExecutorError.statusUnknown(task: "\(task)", seconds: seconds, detail: why).description)
                return JournalEvent.ItemResult(item: item, result: "failed", message: why)
            }
        }
        return changed
    }

    /// Settles every item of a finished task.
    func settle(_ task: TaskID, status: TaskStatus) {
        guard let record = replay.tasks[task], !record.ended else { return }
        let log = journal.logURL(task)
        let tail = Self.lastLine(of: log)
        let place = "Slurm job \(task)" + (status.nodeList.map { " on \($0)" } ?? "")
        endTask(task, state: status.state.description, node: status.nodeList) { item, history in
            let errorFile = journal.errorFolder(task).appendingPathComponent(item.stage.rawValue + ".txt")
            let stageError = (try? String(contentsOf: errorFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            let committed: Bool
            if item.part == nil {
                if case .present = cache.lookup(item.stage, kind: kind(of: item.stage)) { committed = true } else { committed = false }
            } else {
                committed = status.state == .completed && stageError == nil
            }
            let decision = policy.decide(
                ItemEvidence(committed: committed, stageError: stageError, attempts: history.attempts, requeues: history.requeues),
                status: status, resources: record.resources, isShardPart: item.part != nil, where: place, log: log.path, logTail: tail)
            return apply(decision, to: item, history: history)
        }
        try? FileManager.default.removeItem(at: journal.markersFolder.appendingPathComponent("\(task).exit"))
    }

    /// Acts on a decision and returns what the journal says of it.
    func apply(_ decision: ItemDecision, to item: WorkItem, history: JournalReplay.ItemRecord) -> JournalEvent.ItemResult {
        let label = works[item.stage]?.stage.label ?? item.stage.short
        switch decision {
        case .succeeded:
            replay.items[item]?.result = "succeeded"
            itemSucceeded(item)
            return JournalEvent.ItemResult(item: item, result: "succeeded")
        case .failed(let message):
            replay.items[item]?.result = "failed"
            failStage(item.stage, message: message)
            return JournalEvent.ItemResult(item: item, result: "failed", message: message)
        case .retry(let next, let reason):
            replay.items[item]?.result = "retry"
            replay.items[item]?.next = next
            if let work = works[item.stage] {
                logger.warning("\(label): \(reason); retrying (attempt \(history.attempts + 1) of \(profile.retries + 1))")
                queue.append(Queued(item: item, kind: work.stage.kind, resources: next, cause: .retry))
            }
            return JournalEvent.ItemResult(item: item, result: "retry", message: reason, next: next)
        case .requeue:
            replay.items[item]?.result = "requeue"
            if let work = works[item.stage] {
                logger.warning("\(label): preempted; submitting it again")
                queue.append(Queued(item: item, kind: work.stage.kind, resources: history.resources ?? resources(for: work.stage),
                                    cause: .requeue))
            }
            return JournalEvent.ItemResult(item: item, result: "requeue", message: "PREEMPTED")
        }
    }

    /// Marks a task ended and journals what `result` says of each of its items still run by it.
    func endTask(_ task: TaskID, state: String, node: String?,
                 result: (WorkItem, JournalReplay.ItemRecord) -> JournalEvent.ItemResult) {
        guard let submitted = replay.tasks[task], !submitted.ended else { return }
        replay.tasks[task]!.ended = true
        var event = JournalEvent(.ended)
        event.job = task.job
        event.index = task.arrayIndex
        event.state = state
        event.node = node
        event.items = submitted.items.compactMap { item in
            guard let history = replay.items[item], history.task == task else { return nil }
            return result(item, history)
        }
        record(event)
    }

    /// Tasks pending for a reason waiting does not clear. One whose dependency failed is
    /// cancelled and, when its stage is wanted now (its inputs are committed), submitted again
    /// without the dependency; the others are cancelled and their stages fail with the reason.
    func unstick(_ stuck: [(TaskID, TaskStatus)]) {
        var toCancel: [TaskID] = []
        for (task, status) in stuck {
            let record = replay.tasks[task]!
            let wanted = record.items.filter { works[$0.stage] != nil }
            if status.reason == "DependencyNeverSatisfied" {
                guard !wanted.isEmpty else { continue }
                toCancel.append(task)
                endTask(task, state: "CANCELLED", node: nil) { item, history in
                    if let work = self.works[item.stage] {
                        self.queue.append(Queued(item: item, kind: work.stage.kind, resources: history.resources ?? self.resources(for: work.stage),
                                                 cause: .requeue))
                    }
                    return JournalEvent.ItemResult(item: item, result: "requeue", message: "its dependency failed; submitted again")
                }
            } else {
                toCancel.append(task)
                let message = "Slurm job \(task) would stay pending forever (\(status.reason ?? "?")): the request exceeds a limit of "
                    + "its partition, account or QOS; change the Slurm profile (time, memory, cpus, partition, account, qos)"
                endTask(task, state: "CANCELLED", node: nil) { item, _ in
                    self.failStage(item.stage, message: message)
                    return JournalEvent.ItemResult(item: item, result: "failed", message: message)
                }
            }
        }
        if !toCancel.isEmpty { cancel(toCancel, why: "pending for a reason that will not clear", alreadyEnded: true) }
    }

    /// Cancels tasks with one scancel call (whole arrays where every task of one is meant).
    func cancel(_ tasks: [TaskID], why: String, alreadyEnded: Bool = false) {
        guard !tasks.isEmpty else { return }
        let wanted = Set(tasks)
        var ids: [TaskID] = []
        for (job, members) in Dictionary(grouping: tasks, by: \.job).sorted(by: { $0.key < $1.key }) {
            let all = replay.tasks.keys.filter { $0.job == job }
            if all.allSatisfy(wanted.contains) { ids.append(TaskID(job: job)) } else { ids += members.sorted() }
        }
        let client = self.client, cancelled = ids
        statistics.scancelCalls += 1
        do {
            try blockingCall { try await client.cancel(tasks: cancelled) }
        } catch {
            logger.error("slurm: could not cancel \(ids.map(\.description).joined(separator: " ")): \(error)")
        }
        logger.info("slurm: cancelled \(tasks.count) tasks (\(why))")
        var event = JournalEvent(.cancelled)
        event.cancelledTasks = tasks.map(\.description)
        record(event)
        if !alreadyEnded {
            for task in tasks { replay.tasks[task]?.ended = true }
            for task in tasks {
                for item in replay.tasks[task]?.items ?? [] where replay.items[item]?.task == task { replay.items[item]?.result = "cancelled" }
            }
        }
    }

    /// Ctrl-C: cancels every live task of the journal and releases every waiting thread.
    func cancelEverything() {
        cancel(replay.liveTasks, why: "the run was interrupted")
        markCancelled()
        let waiting = works.values.map(\.waiter)
        works = [:]
        queue = []
        for waiter in waiting { waiter.resolve(.failure(CancellationError())) }
    }

    /// The last non-empty line of a log, shortened, for messages.
    static func lastLine(of url: URL) -> String? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        guard let line = text.split(whereSeparator: \.isNewline).last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
        else { return nil }
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.count > 300 ? String(trimmed.prefix(300)) + "…" : trimmed
    }
}

extension SlurmDriver {
    /// The resources `stage`'s kind asks for in the profile.
    func resources(for stage: Stage) -> TaskResources {
        profile.resources(for: stage.kind, threads: threadNeeds[stage.kind] ?? stage.threads)
    }
}
