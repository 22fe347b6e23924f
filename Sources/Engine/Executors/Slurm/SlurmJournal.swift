import Cluster
import Foundation
import Pipeline
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One unit a task runs: a whole stage (`xrbench stage run KEY`), or one part of an embedding
/// stage's shards, which fills shards and commits nothing else.
struct WorkItem: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    var stage: StageKey
    var part: EmbeddingShardPart?

    var description: String { stage.short + (part.map { " shards \($0)" } ?? "") }

    static func < (left: WorkItem, right: WorkItem) -> Bool {
        (left.stage, left.part?.index ?? -1) < (right.stage, right.part?.index ?? -1)
    }
}

/// Why an item was submitted: first time, a retry after a failure, or again after preemption.
enum SubmissionCause: String, Sendable, Codable {
    case first, retry, requeue
}

/// One line of the journal (JSON Lines): a flat record whose fields depend on `event`.
struct JournalEvent: Codable, Sendable {
    enum Kind: String, Codable, Sendable {
        /// A driver took the journal (run id, process, spec, profile file).
        case driver
        /// A batch about to be submitted: its tasks, their items, the resources (written before sbatch).
        case batch
        /// The batch's array job id, as sbatch printed it.
        case submitted
        /// A task ended and what it meant for each of its items.
        case ended
        /// Tasks this driver cancelled (Ctrl-C, or no longer needed).
        case cancelled
        /// The driver left its tasks running (`--detach`).
        case detached
        /// Nothing of this journal is running any more.
        case closed
    }

    /// One item's result in an `ended` event.
    struct ItemResult: Codable, Sendable {
        var item: WorkItem
        /// `succeeded`, `failed`, `retry`, `requeue` or `cancelled`.
        var result: String
        var message: String?
        /// For a retry: the resources of the next submission.
        var next: TaskResources?
    }

    /// One task of a batch: its items, and why each was submitted.
    struct BatchTask: Codable, Sendable {
        var items: [WorkItem]
        var causes: [SubmissionCause]
    }

    var event: Kind
    var time: Double = Date().timeIntervalSince1970
    // driver
    var runID: Int64?
    var pid: Int32?
    var host: String?
    var spec: String?
    var profileFile: String?
    // batch, submitted, ended
    var batch: Int?
    var kind: String?
    var tasks: [BatchTask]?
    var resources: TaskResources?
    var job: Int?
    var index: Int?
    var state: String?
    var node: String?
    var items: [ItemResult]?
    // cancelled
    var cancelledTasks: [String]?
    // closed
    var notes: [String]?

    init(_ event: Kind) {
        self.event = event
    }
}

/// A driver's journal in the cache: `<cache>/slurm/<name>/journal.jsonl`, beside the batches'
/// task lists, the tasks' logs, exit markers and error files, and the `shared` file a task
/// checks to know it sees the cache.
///
/// The journal is the driver's memory across its own death: which batches it submitted under
/// which job ids, which stages each task runs, how each ended. A driver holds `driver.lock`
/// (an `flock`, released by the kernel when the process dies) while it runs; a later driver of
/// the same spec replays the journal and re-attaches to the tasks still running instead of
/// submitting them again. Each line is appended with one `write` and flushed with `fsync`.
final class SlurmJournal: Sendable {
    /// The folder.
    let directory: URL
    /// The job name of its tasks (the folder's name).
    let name: String
    private let lockDescriptor: Int32
    private let journalDescriptor: Int32

    /// The journal folder of `spec` in `cache`: one per spec, so a later run of it finds it.
    static func directory(cache: URL, spec: URL) -> URL {
        let digest = sha256Hex(Data(spec.standardizedFileURL.path.utf8)).prefix(10)
        return cache.appendingPathComponent("slurm", isDirectory: true).appendingPathComponent("xrb-\(digest)", isDirectory: true)
    }

    var journalURL: URL { directory.appendingPathComponent("journal.jsonl") }
    var batchesFolder: URL { directory.appendingPathComponent("batches", isDirectory: true) }
    var markersFolder: URL { directory.appendingPathComponent("markers", isDirectory: true) }
    var errorsFolder: URL { directory.appendingPathComponent("errors", isDirectory: true) }
    var logsFolder: URL { directory.appendingPathComponent("logs", isDirectory: true) }
    /// The file a task checks for before anything else (see `TaskScript`).
    var sharedCheckFile: URL { directory.appendingPathComponent("shared") }

    /// Opens the journal in `directory`, taking its driver lock.
    /// - Throws: `SlurmExecutorError.journalBusy` when a live driver holds it; `.journal` when
    ///   the folder cannot be created or the files opened.
    init(directory: URL) throws {
        self.directory = directory
        name = directory.lastPathComponent
        for folder in [directory, directory.appendingPathComponent("batches"), directory.appendingPathComponent("markers"),
                       directory.appendingPathComponent("errors"), directory.appendingPathComponent("logs")] {
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw SlurmExecutorError.journal(path: folder.path, problem: "cannot create the folder: \(error.localizedDescription)")
            }
        }
        let lockPath = directory.appendingPathComponent("driver.lock").path
        let lock = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw SlurmExecutorError.journal(path: lockPath, problem: String(cString: strerror(errno))) }
        if flock(lock, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(lock)
            throw SlurmExecutorError.journalBusy(path: directory.path, holder: holder.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown process")
        }
        let holder = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName)\n"
        _ = ftruncate(lock, 0)
        _ = holder.withCString { pwrite(lock, $0, strlen($0), 0) }
        lockDescriptor = lock
        let journalPath = directory.appendingPathComponent("journal.jsonl").path
        let journal = open(journalPath, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o644)
        guard journal >= 0 else {
            close(lock)
            throw SlurmExecutorError.journal(path: journalPath, problem: String(cString: strerror(errno)))
        }
        journalDescriptor = journal
    }

    deinit {
        close(journalDescriptor)
        flock(lockDescriptor, LOCK_UN)
        close(lockDescriptor)
    }

    /// Every event written so far (a torn last line, from a driver killed mid-write, is skipped).
    func events() -> [JournalEvent] {
        Self.events(at: journalURL)
    }

    /// The events of the journal at `url`.
    static func events(at url: URL) -> [JournalEvent] {
        guard let data = try? Data(contentsOf: url) else { return [] }
        let decoder = JSONDecoder()
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(JournalEvent.self, from: Data($0)) }
    }

    /// Appends one event and flushes it to disk.
    /// - Throws: `SlurmExecutorError.journal` when it cannot be written.
    func append(_ event: JournalEvent) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = try encoder.encode(event)
        line.append(UInt8(ascii: "\n"))
        let written = line.withUnsafeBytes { write(journalDescriptor, $0.baseAddress, $0.count) }
        guard written == line.count else {
            throw SlurmExecutorError.journal(path: journalURL.path, problem: "cannot append: \(String(cString: strerror(errno)))")
        }
        fsync(journalDescriptor)
    }

    /// Starts over after a closed journal: the old lines and the batches', markers' and error
    /// files go (logs stay: failed stages' messages name them).
    func reset() throws {
        guard ftruncate(journalDescriptor, 0) == 0 else {
            throw SlurmExecutorError.journal(path: journalURL.path, problem: "cannot truncate: \(String(cString: strerror(errno)))")
        }
        for folder in [batchesFolder, markersFolder, errorsFolder] {
            try? FileManager.default.removeItem(at: folder)
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
    }

    /// Where a task's log goes (sbatch's `%A_%a`).
    func logURL(_ task: TaskID) -> URL { logsFolder.appendingPathComponent("\(task.job)_\(task.arrayIndex ?? 0).log") }
    /// The folder a task writes its stages' errors into.
    func errorFolder(_ task: TaskID) -> URL { errorsFolder.appendingPathComponent("\(task.job)_\(task.arrayIndex ?? 0)") }
    /// The task list of a batch: one line per array index.
    func batchFile(_ batch: Int) -> URL { batchesFolder.appendingPathComponent("\(batch).tasks") }
}

/// What a journal's events say, replayed in order.
struct JournalReplay: Sendable {
    /// A task that was submitted.
    struct TaskRecord: Sendable {
        var items: [WorkItem]
        var batch: Int
        var kind: String
        var resources: TaskResources
        var submittedAt: Double
        var ended: Bool
    }

    /// An item's history.
    struct ItemRecord: Sendable {
        var attempts = 0
        var requeues = 0
        /// The resources of its last submission.
        var resources: TaskResources?
        /// The task it last ran in.
        var task: TaskID?
        /// `succeeded`, `failed`, `retry`, `requeue`, `cancelled` or nil while its task runs.
        var result: String?
        var message: String?
        /// For a retry decided but not yet submitted: its resources.
        var next: TaskResources?
    }

    var tasks: [TaskID: TaskRecord] = [:]
    var items: [WorkItem: ItemRecord] = [:]
    /// Batches written but never marked submitted (the driver died around sbatch).
    var unconfirmed: [Int: JournalEvent] = [:]
    var nextBatch = 0
    var submissions = 0
    var isClosed = false
    var isDetached = false
    var firstEventTime: Double?
    /// The last driver's spec and profile file.
    var spec: String?
    var profileFile: String?

    init(_ events: [JournalEvent]) {
        var batches: [Int: JournalEvent] = [:]
        for event in events {
            if firstEventTime == nil { firstEventTime = event.time }
            switch event.event {
            case .driver:
                isClosed = false
                isDetached = false
                spec = event.spec ?? spec
                profileFile = event.profileFile
            case .batch:
                guard let batch = event.batch else { continue }
                batches[batch] = event
                unconfirmed[batch] = event
                nextBatch = max(nextBatch, batch + 1)
            case .submitted:
                guard let batch = event.batch, let job = event.job, let record = batches[batch] else { continue }
                unconfirmed[batch] = nil
                submissions += 1
                confirm(record, job: job, at: event.time)
            case .ended:
                guard let job = event.job else { continue }
                let task = TaskID(job: job, arrayIndex: event.index)
                tasks[task]?.ended = true
                for result in event.items ?? [] {
                    items[result.item, default: ItemRecord()].result = result.result
                    items[result.item, default: ItemRecord()].message = result.message
                    items[result.item, default: ItemRecord()].next = result.next
                }
            case .cancelled:
                for text in event.cancelledTasks ?? [] {
                    for task in TaskID.parseAll(text) ?? [] {
                        tasks[task]?.ended = true
                        for item in tasks[task]?.items ?? [] where items[item]?.task == task {
                            items[item]?.result = "cancelled"
                        }
                    }
                }
            case .detached:
                isDetached = true
            case .closed:
                isClosed = true
            }
        }
    }

    /// Records the tasks of a batch sbatch accepted as array job `job`.
    mutating func confirm(_ record: JournalEvent, job: Int, at time: Double) {
        for (index, task) in (record.tasks ?? []).enumerated() {
            let id = TaskID(job: job, arrayIndex: index)
            tasks[id] = TaskRecord(items: task.items, batch: record.batch ?? 0, kind: record.kind ?? "",
                                   resources: record.resources!, submittedAt: time, ended: false)
            for (item, cause) in zip(task.items, task.causes) {
                var history = items[item, default: ItemRecord()]
                if cause == .requeue { history.requeues += 1 } else { history.attempts += 1 }
                history.resources = record.resources
                history.task = id
                history.result = nil
                history.message = nil
                history.next = nil
                items[item] = history
            }
        }
    }

    /// Tasks submitted and not known to have ended.
    var liveTasks: [TaskID] { tasks.filter { !$0.value.ended }.map(\.key).sorted() }
    /// Whether any task may still be running.
    var hasLiveTasks: Bool { tasks.values.contains { !$0.ended } }
}
