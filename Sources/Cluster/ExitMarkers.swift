import Foundation

/// Exit-marker files: where a cluster keeps no accounting, each task records its own exit
/// status in a shared directory, because `squeue` forgets a finished job after `MinJobAge`.
///
/// A marker is `<directory>/<job>_<index>.exit` (or `<job>.exit` for a plain job), written to a
/// temporary name and renamed, so a reader never sees half a file. It holds `key=value` lines:
/// `exit_status` and `host`. A task killed by Slurm (time limit, OOM, cancel) writes none; while
/// the job is within `MinJobAge`, `squeue` says how it ended.
public enum ExitMarkers {
    /// The exit status a task reports when it could not write its marker (the directory is not
    /// on a filesystem this node shares, or is not writable).
    public static let markerWriteFailureStatus = 97

    /// A batch script that runs `body` in a subshell (so an `exit` in it still reaches the
    /// marker) and then writes the marker with the body's exit status, and exits with it.
    ///
    /// - Parameters:
    ///   - body: shell commands; options go on the sbatch command line, not `#SBATCH` lines.
    ///   - directory: the marker directory, on a filesystem that the nodes and the driver share.
    ///   - shell: the interpreter line's program.
    public static func script(body: String, directory: String, shell: String = "/bin/bash") -> String {
        let quoted = shellQuoted(directory)
        return """
        #!\(shell)
        # Runs the task, then records its exit status for the driver (see ExitMarkers).
        (
        \(body)
        )
        xrbench_status=$?
        xrbench_task="${SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}${SLURM_ARRAY_TASK_ID:+_$SLURM_ARRAY_TASK_ID}"
        xrbench_marker=\(quoted)/"$xrbench_task".exit
        if ! printf 'exit_status=%d\\nhost=%s\\n' "$xrbench_status" "$(hostname -s)" > "$xrbench_marker.tmp.$$" \\
           || ! mv -f "$xrbench_marker.tmp.$$" "$xrbench_marker"; then
          echo "xrbench: cannot write the exit marker $xrbench_marker (task status $xrbench_status):" \\
               "the marker directory must be on a filesystem that this node shares with the driver" >&2
          exit \(markerWriteFailureStatus)
        fi
        exit "$xrbench_status"

        """
    }

    /// One marker's content.
    public struct Marker: Sendable, Hashable {
        public var task: TaskID
        public var exitStatus: Int
        /// The node it ran on (`hostname -s`).
        public var host: String?

        public init(task: TaskID, exitStatus: Int, host: String?) {
            self.task = task
            self.exitStatus = exitStatus
            self.host = host
        }
    }

    /// Reads every marker in `directory`; files that are not markers (temporary names, other
    /// files) and markers that cannot be read are skipped: a task's marker is either complete
    /// or absent.
    /// - Throws: the file system's error when `directory` cannot be listed.
    public static func read(directory: URL) throws -> [TaskID: Marker] {
        var markers: [TaskID: Marker] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".exit") {
            guard let tasks = TaskID.parseAll(String(name.dropLast(".exit".count))), tasks.count == 1,
                  let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8),
                  let marker = parse(text, task: tasks[0])
            else { continue }
            markers[marker.task] = marker
        }
        return markers
    }

    /// Parses one marker's `key=value` lines; `nil` without a numeric `exit_status`.
    public static func parse(_ text: String, task: TaskID) -> Marker? {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        guard let status = values["exit_status"].flatMap({ Int($0) }) else { return nil }
        return Marker(task: task, exitStatus: status, host: values["host"])
    }

    /// Combines `squeue`'s answer with the markers: `squeue` wins while it still knows a task
    /// (its state says how a killed task ended); a task it has forgotten is `COMPLETED` or
    /// `FAILED` according to its marker. Tasks in neither are absent from the result.
    public static func merge(squeue: [TaskStatus], markers: [TaskID: Marker]) -> [TaskStatus] {
        var byTask: [TaskID: TaskStatus] = [:]
        for status in squeue { byTask[status.task] = status }
        for (task, marker) in markers where byTask[task] == nil {
            byTask[task] = TaskStatus(task: task, state: marker.exitStatus == 0 ? .completed : .failed,
                                      exitCode: ExitCode(status: marker.exitStatus, signal: 0),
                                      reason: "exit marker", nodeList: marker.host)
        }
        return byTask.values.sorted { $0.task < $1.task }
    }
}
