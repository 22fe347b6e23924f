import Cluster
import Foundation
import Pipeline

/// The batch script of a Slurm array and the task list it reads: each array task takes its own
/// line (`sed -n "$((SLURM_ARRAY_TASK_ID + 1))p"`) and runs `xrbench stage run` on it, from the
/// stage descriptors in the cache; it never reads the spec. The script first checks that the node
/// sees the cache (the `shared` file the driver wrote) and the binary, and fails with exit status
/// 96 and a message saying so otherwise. It runs inside `ExitMarkers.script`, so every task that
/// ends on its own leaves an exit marker beside the journal.
struct TaskScript: Sendable {
    /// Exit status of a task whose node cannot see the cache or run the binary.
    static let unsharedStatus = 96

    /// The xrbench binary the tasks run.
    let binary: String
    /// The cache folder, as the nodes see it.
    let cache: URL
    /// The journal folder (inside the cache).
    let runFolder: URL
    /// `--shard-images`, so tasks cut embedding shards exactly as the driver does.
    let shardImages: Int

    /// A task's line: the stage keys it runs, or one shard part of an embedding stage.
    static func line(_ items: [WorkItem]) -> String {
        if items.count == 1, let part = items[0].part { return "--shard-part \(part) \(items[0].stage.rawValue)" }
        precondition(items.allSatisfy { $0.part == nil }, "shard parts are not packed with other items")
        return items.map(\.stage.rawValue).joined(separator: " ")
    }

    /// The commands of one array task of `batch`.
    func body(batch: Int, setup: String?) -> String {
        let run = shellQuoted(runFolder.path)
        let cachePath = shellQuoted(cache.path)
        let program = shellQuoted(binary)
        var lines = [
            "set -u",
            "run=\(run)",
            "if [ ! -r \"$run/shared\" ]; then",
            "  echo \"xrbench: node $(hostname -s) cannot see the cache folder \(cache.path) ($run/shared is missing):"
                + " the cache must be on a file system that the nodes share with the driver; run with --cache on a shared path\" >&2",
            "  exit \(Self.unsharedStatus)",
            "fi",
            "if [ ! -x \(program) ]; then",
            "  echo \"xrbench: node $(hostname -s) cannot run \(binary): set binary: in the Slurm profile to an xrbench the nodes can run\" >&2",
            "  exit \(Self.unsharedStatus)",
            "fi",
            "index=${SLURM_ARRAY_TASK_ID:-0}",
            "task=${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}_$index",
            "line=$(sed -n \"$((index + 1))p\" \"$run/batches/\(batch).tasks\")",
            "if [ -z \"$line\" ]; then",
            "  echo \"xrbench: $run/batches/\(batch).tasks has no line for array index $index\" >&2",
            "  exit \(Self.unsharedStatus)",
            "fi",
        ]
        if let setup, !setup.isEmpty { lines.append(setup) }
        lines.append("echo \"xrbench: task $task on $(hostname -s): $line\"")
        lines.append("\(program) stage run --cache \(cachePath) --jobs \"${SLURM_CPUS_PER_TASK:-1}\" --shard-images \(shardImages)"
                     + " --keep-going --errors \"$run/errors/$task\" $line")
        return lines.joined(separator: "\n")
    }

    /// The whole batch script, with its exit marker.
    func script(batch: Int, setup: String?, markers: URL) -> String {
        ExitMarkers.script(body: body(batch: batch, setup: setup), directory: markers.path)
    }

    /// The sbatch request of one array of `taskCount` tasks.
    func request(name: String, batch: Int, taskCount: Int, resources: TaskResources, throttle: Int?, markers: URL,
                 logs: URL, afterSuccessOf: [TaskID] = [], afterEndOf: [TaskID] = []) -> BatchJobRequest {
        BatchJobRequest(
            name: name, script: script(batch: batch, setup: resources.setup, markers: markers),
            arrayIndices: ArrayIndices(0..<taskCount), maxConcurrentTasks: throttle.map { min($0, taskCount) },
            outputPath: logs.appendingPathComponent("%A_%a.log").path,
            workingDirectory: FileManager.default.currentDirectoryPath,
            timeLimit: .seconds(resources.timeLimitSeconds), memoryMegabytes: resources.memoryMegabytes,
            cpusPerTask: resources.cpus, partition: resources.partition, account: resources.account, qos: resources.qos,
            gres: resources.gres, afterSuccessOf: afterSuccessOf, afterEndOf: afterEndOf,
            excludedNodes: resources.excludedNodes, extraArguments: resources.extraArguments)
    }
}
