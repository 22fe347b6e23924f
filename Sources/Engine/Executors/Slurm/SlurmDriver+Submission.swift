import Cluster
import Foundation
import Pipeline

extension SlurmDriver {
    /// Takes a stage the scheduler handed over: settles it at once when its artifact is
    /// committed, attaches it to the tasks of an earlier driver still running it, or queues its
    /// items for submission. Driver thread only.
    func admit(_ stage: Stage, waiter: Waiter) {
        if case .present = cache.lookup(stage.key, kind: stage.kind) {
            waiter.resolve(.success(.committedElsewhere))
            return
        }
        var work = StageWork(stage: stage, waiter: waiter, remaining: [], filling: false)
        if let parts = shardPartCount(for: stage) {
            let items = (0..<parts).map { WorkItem(stage: stage.key, part: EmbeddingShardPart(index: $0, count: parts)) }
            work.remaining = Set(items.filter { replay.items[$0]?.result != "succeeded" })
            work.filling = !work.remaining.isEmpty
        }
        if !work.filling { work.remaining = [WorkItem(stage: stage.key, part: nil)] }
        works[stage.key] = work
        for item in work.remaining.sorted() { schedule(item, stage: stage) }
    }

    /// Queues `item` unless a task still running has it (then the next polls settle it).
    func schedule(_ item: WorkItem, stage: Stage) {
        let history = replay.items[item]
        if let task = history?.task, replay.tasks[task]?.ended == false {
            statistics.reattached.insert(task)
            return
        }
        var request = resources(for: stage)
        var cause = SubmissionCause.first
        switch history?.result {
        case "retry"?:
            request = history?.next ?? history?.resources ?? request
            cause = .retry
        case "requeue"?:
            request = history?.resources ?? request
            cause = .requeue
        case nil where history?.attempts ?? 0 > 0:
            // Submitted by a driver that died before the batch was confirmed: as new.
            replay.items[item] = JournalReplay.ItemRecord()
        default:
            // Failed or cancelled in an earlier run: a new run starts its count afresh.
            replay.items[item] = nil
        }
        queue.append(Queued(item: item, kind: stage.kind, resources: request, cause: cause))
    }

    /// How many array tasks fill an embedding stage's shards (nil: the stage runs as one task).
    /// The same count as an earlier driver used, so its finished parts count.
    /// - Parameter manifestPending: with `--detach` the manifest may not exist yet; then the
    ///   profile's `shard_tasks` parts are used.
    func shardPartCount(for stage: Stage, manifestPending: Bool = false) -> Int? {
        guard stage.kind == .embed, profile.shardTasks > 1 else { return nil }
        if let earlier = replay.items.keys.first(where: { $0.stage == stage.key && $0.part != nil }) { return earlier.part!.count }
        guard let manifestKey = stage.inputs["manifest"] else { return nil }
        guard case .present(let folder) = cache.lookup(manifestKey, kind: kind(of: manifestKey)) else {
            return manifestPending ? profile.shardTasks : nil
        }
        guard let manifest = try? ManifestArtifact.read(from: folder) else { return nil }
        let images = Set(manifest.imageDigests.compactMap { $0 }).count
        let shards = (images + script.shardImages - 1) / script.shardImages
        let parts = min(profile.shardTasks, shards)
        return parts > 1 ? parts : nil
    }

    /// Submits the queue: one array per (kind, shard part or not, resources), several stages per
    /// task as the kind's `pack` says, chunked below `MaxArraySize`.
    /// - Returns: false when sbatch could not be reached (the items stay queued).
    func submitQueued() -> Bool {
        let groups = Dictionary(grouping: queue) { GroupKey(kind: $0.kind, isPart: $0.item.part != nil, resources: $0.resources) }
        queue = []
        var reachable = true
        for key in groups.keys.sorted(by: { ($0.kind.rawValue, $0.isPart ? 1 : 0) < ($1.kind.rawValue, $1.isPart ? 1 : 0) }) {
            let entries = groups[key]!.sorted { $0.item < $1.item }
            if !reachable {
                queue += entries
                continue
            }
            let tasks = Self.pack(entries, perTask: key.isPart ? 1 : key.resources.stagesPerTask)
            let limit = min(cluster.maxArraySize, profile.maxArrayTasks ?? cluster.maxArraySize)
            for chunk in ArrayChunking.chunks(taskCount: tasks.count, maxArraySize: limit) {
                if !reachable {
                    queue += tasks[chunk].flatMap { $0 }
                    continue
                }
                reachable = submit(Array(tasks[chunk]), kind: key.kind, resources: key.resources, dependencies: Dependencies()) != nil
                if !reachable { queue += tasks[chunk].flatMap { $0 } }
            }
        }
        return reachable
    }

    /// What groups items into one array.
    struct GroupKey: Hashable {
        var kind: StageKind
        var isPart: Bool
        var resources: TaskResources
    }

    /// What a detached array waits for.
    struct Dependencies {
        var afterSuccess: [TaskID] = []
        var afterEnd: [TaskID] = []
    }

    /// `entries` in tasks of at most `perTask`, as even as can be (10 by 8 → 5 + 5).
    static func pack(_ entries: [Queued], perTask: Int) -> [[Queued]] {
        guard !entries.isEmpty else { return [] }
        let taskCount = (entries.count + perTask - 1) / perTask
        let base = entries.count / taskCount, extra = entries.count % taskCount
        var tasks: [[Queued]] = []
        var start = 0
        for index in 0..<taskCount {
            let size = base + (index < extra ? 1 : 0)
            tasks.append(Array(entries[start..<start + size]))
            start += size
        }
        return tasks
    }

    /// Journals a batch, submits it as one array and journals its job id.
    /// - Returns: the array's job id; nil when sbatch could not be reached. A refused batch
    ///   fails its stages and returns 0.
    @discardableResult
    func submit(_ tasks: [[Queued]], kind: StageKind, resources: TaskResources, dependencies: Dependencies) -> Int? {
        let batch = replay.nextBatch
        replay.nextBatch += 1
        var event = JournalEvent(.batch)
        event.batch = batch
        event.kind = kind.rawValue
        event.resources = resources
        event.tasks = tasks.map { JournalEvent.BatchTask(items: $0.map(\.item), causes: $0.map(\.cause)) }
        do {
            let lines = tasks.map { TaskScript.line($0.map(\.item)) }.joined(separator: "\n") + "\n"
            try Data(lines.utf8).write(to: journal.batchFile(batch), options: .atomic)
            try journal.append(event)
        } catch {
            for entry in tasks.joined() { failStage(entry.item.stage, message: "cannot write the Slurm journal or task list: \(error)") }
            return 0
        }
        let request = script.request(name: journal.name, batch: batch, taskCount: tasks.count, resources: resources,
                                     throttle: profile.arrayThrottle, markers: journal.markersFolder, logs: journal.logsFolder,
                                     afterSuccessOf: dependencies.afterSuccess, afterEndOf: dependencies.afterEnd)
        let client = self.client
        do {
            statistics.sbatchCalls += 1
            let job = try blockingCall { try await client.submit(request) }
            var submitted = JournalEvent(.submitted)
            submitted.batch = batch
            submitted.job = job
            record(submitted)
            replay.confirm(event, job: job, at: submitted.time)
            replay.submissions += 1
            statistics.tasks += tasks.count
            for entry in tasks.joined() {
                statistics.stagesSubmitted.insert(entry.item.stage)
                if entry.cause == .retry { statistics.retries += 1 }
                if entry.cause == .requeue { statistics.requeues += 1 }
            }
            logger.debug("slurm: submitted \(kind) batch \(batch) as array \(job) with \(tasks.count) tasks")
            return job
        } catch let error as SlurmError {
            switch error {
            case .submissionRefused, .invalidRequest, .commandNotFound:
                lastRefusal = "\(error)"
                for entry in tasks.joined() { failStage(entry.item.stage, message: "\(error)") }
                return 0
            default:
                logger.warning("slurm: \(error); submitting again shortly")
                return nil
            }
        } catch {
            logger.warning("slurm: \(error); submitting again shortly")
            return nil
        }
    }

    /// Settles a stage as failed (every scheduler thread waiting on it gets the message).
    func failStage(_ key: StageKey, message: String) {
        guard let work = works.removeValue(forKey: key) else { return }
        work.waiter.resolve(.failure(SlurmExecutorError.stageFailed(message)))
    }

    /// An item is done: after the last shard part the stage itself is queued (its task
    /// assembles the shards); after the whole stage its waiter is released.
    func itemSucceeded(_ item: WorkItem) {
        guard var work = works[item.stage] else { return }
        work.remaining.remove(item)
        guard work.remaining.isEmpty else {
            works[item.stage] = work
            return
        }
        if work.filling {
            let whole = WorkItem(stage: item.stage, part: nil)
            work.filling = false
            work.remaining = [whole]
            works[item.stage] = work
            schedule(whole, stage: work.stage)
        } else {
            works[item.stage] = nil
            work.waiter.resolve(.success(.computed))
        }
    }
}
