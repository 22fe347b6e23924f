import Cluster
import Foundation
import Pipeline

extension SlurmDriver {
    /// `--detach`: submits every stage of the run at once and returns. Stages are cut into
    /// levels (a stage's level is one more than its inputs'; an embedding's shard parts take a
    /// level before the stage itself), and each level into one array per (kind, shard part or
    /// not, resources), like the arrays of an attached run. An array starts after every task its
    /// stages' inputs run in succeeded (`afterok`; an assembling task after its shard parts
    /// ended, `afterany`), so a failure leaves the stages after it pending until the collecting
    /// run cancels them and reports them blocked.
    /// - Returns: how many stages are left running (including ones an earlier driver submitted).
    /// - Throws: `SlurmExecutorError.noCluster` when sbatch cannot be reached; stages sbatch
    ///   refused are not counted.
    func detach(_ stages: [Stage]) throws -> Int {
        struct Planned {
            var entry: Queued
            var stage: Stage
        }
        var level: [StageKey: Int] = [:]
        var provider: [StageKey: [TaskID]] = [:]
        var partTasks: [StageKey: [TaskID]] = [:]
        var planned: [Int: [Planned]] = [:]
        let pendingKeys = Set(stages.map(\.key))
        var count = 0
        for stage in stages {
            if case .present = cache.lookup(stage.key, kind: stage.kind) { continue }
            count += 1
            let inputLevel = stage.inputs.values.compactMap { level[$0] }.max() ?? -1
            let whole = WorkItem(stage: stage.key, part: nil)
            if let task = replay.items[whole]?.task, replay.tasks[task]?.ended == false {
                provider[stage.key] = [task]
                level[stage.key] = inputLevel + 1
                statistics.reattached.insert(task)
                continue
            }
            let manifestPending = stage.inputs["manifest"].map(pendingKeys.contains) ?? false
            var request = resources(for: stage)
            if let history = replay.items[whole], history.result == "retry", let next = history.next { request = next }
            if let parts = shardPartCount(for: stage, manifestPending: manifestPending) {
                for index in 0..<parts {
                    let item = WorkItem(stage: stage.key, part: EmbeddingShardPart(index: index, count: parts))
                    guard replay.items[item]?.result != "succeeded" else { continue }
                    planned[inputLevel + 1, default: []].append(Planned(
                        entry: Queued(item: item, kind: stage.kind, resources: resources(for: stage), cause: .first), stage: stage))
                }
                level[stage.key] = inputLevel + 2
            } else {
                level[stage.key] = inputLevel + 1
            }
            planned[level[stage.key]!, default: []].append(Planned(
                entry: Queued(item: whole, kind: stage.kind, resources: request, cause: .first), stage: stage))
        }
        for current in planned.keys.sorted() {
            let entries = planned[current]!
            let groups = Dictionary(grouping: entries) {
                GroupKey(kind: $0.entry.kind, isPart: $0.entry.item.part != nil, resources: $0.entry.resources)
            }
            for key in groups.keys.sorted(by: { ($0.kind.rawValue, $0.isPart ? 1 : 0) < ($1.kind.rawValue, $1.isPart ? 1 : 0) }) {
                let members = groups[key]!.sorted { $0.entry.item < $1.entry.item }
                let tasks = Self.pack(members.map(\.entry), perTask: key.isPart ? 1 : key.resources.stagesPerTask)
                let limit = min(cluster.maxArraySize, profile.maxArrayTasks ?? cluster.maxArraySize)
                let stageOf = Dictionary(members.map { ($0.entry.item, $0.stage) }, uniquingKeysWith: { first, _ in first })
                for chunk in ArrayChunking.chunks(taskCount: tasks.count, maxArraySize: limit) {
                    let chunkTasks = Array(tasks[chunk])
                    var dependencies = Dependencies()
                    var after = Set<TaskID>(), afterEnd = Set<TaskID>()
                    for entry in chunkTasks.joined() {
                        for input in stageOf[entry.item]!.inputs.values { after.formUnion(provider[input] ?? []) }
                        if entry.item.part == nil { afterEnd.formUnion(partTasks[entry.item.stage] ?? []) }
                    }
                    dependencies.afterSuccess = compress(after)
                    dependencies.afterEnd = compress(afterEnd)
                    guard let job = submit(chunkTasks, kind: key.kind, resources: key.resources, dependencies: dependencies) else {
                        throw SlurmExecutorError.noCluster(detail: "sbatch did not answer while detaching; the stages submitted so far "
                                                           + "run on, and the next `xrbench run` of this spec collects them")
                    }
                    guard job > 0 else { throw SlurmExecutorError.stageFailed(lastRefusal ?? "sbatch refused a batch") }
                    for (index, task) in chunkTasks.enumerated() {
                        for entry in task {
                            let id = TaskID(job: job, arrayIndex: index)
                            if entry.item.part == nil { provider[entry.item.stage] = [id] } else { partTasks[entry.item.stage, default: []].append(id) }
                        }
                    }
                }
            }
        }
        return count
    }

    /// A dependency list with whole arrays written as their job id.
    func compress(_ tasks: Set<TaskID>) -> [TaskID] {
        var result: [TaskID] = []
        for (job, members) in Dictionary(grouping: tasks, by: \.job).sorted(by: { $0.key < $1.key }) {
            let all = Set(replay.tasks.keys.filter { $0.job == job })
            if !all.isEmpty && all.isSubset(of: members) { result.append(TaskID(job: job)) } else { result += members.sorted() }
        }
        return result
    }
}
