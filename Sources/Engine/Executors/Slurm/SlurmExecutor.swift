import Cluster
import Foundation
import Pipeline

/// `slurm`: stages run as Slurm job arrays, each task `xrbench stage run KEY…` on the stage
/// descriptors in the cache (which the nodes must share). The driver submits stages as they
/// become ready, one array per (stage kind, resources), several short stages per task and an
/// embedding's shards over several tasks; polls with one status query per cycle; retries
/// timeouts and out-of-memory kills with more time or memory; journals its jobs in the cache so
/// that a killed driver's next run re-attaches to them; and records every result in the local
/// database as the local executor does. docs/SLURM.md has the profile and the design.
public struct SlurmExecutorKind: ExecutorKind {
    public var name: String { "slurm" }
    public var summary: String {
        "stages run as Slurm job arrays (`xrbench stage run` on the nodes, the cache on a shared file system); "
            + "the driver journals its jobs in the cache, re-attaches to them after a restart, retries timeouts and "
            + "out-of-memory kills with more time or memory, and records the results locally"
    }
    public var options: [SchemaField] { SlurmProfile.fields }

    /// Runs the Slurm commands (nil: child processes with a time limit); every command then
    /// goes through one rate limit.
    let runner: (any CommandRunner)?

    /// Creates the kind.
    /// - Parameter runner: runs `sbatch`, `squeue`, `sacct`, `scancel` and `scontrol` (the
    ///   bench passes one that counts them); rate-limited here.
    public init(runner: (any CommandRunner)? = nil) {
        self.runner = runner
    }

    public func makeExecutor(_ environment: ExecutorEnvironment) throws -> any Executor {
        let profile = try SlurmProfile(environment.profile)
        guard let specURL = environment.specURL else {
            throw SlurmExecutorError.noCluster(detail: "the Slurm executor runs specs (`xrbench run SPEC --executor slurm`)")
        }
        let client = SlurmClient(runner: RateLimitedRunner(runner ?? ProcessCommandRunner()))
        let cluster: SlurmConfiguration
        do {
            guard try blockingCall({ try await client.controllerAnswers() }) else {
                throw SlurmExecutorError.noCluster(detail: "no Slurm controller answers `scontrol ping` on this machine; "
                                                   + "run on a login node of the cluster, or start one (`make slurm-up` for the test cluster)")
            }
            cluster = try blockingCall { try await client.configuration() }
        } catch let error as SlurmError {
            throw SlurmExecutorError.noCluster(detail: error.description)
        }
        let binary = profile.binary ?? Self.defaultBinary()
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw SlurmExecutorError.binaryNotFound(path: binary) }
        let journal = try SlurmJournal(directory: SlurmJournal.directory(cache: environment.cache.root, spec: specURL))
        let shardImages = (environment.registry.runners.runner(for: .embed) as? EmbedRunner)?.shardImages ?? 256
        let driver = SlurmDriver(
            client: client, cluster: cluster, profile: profile, journal: journal,
            script: TaskScript(binary: binary, cache: environment.cache.root, runFolder: journal.directory, shardImages: shardImages),
            cache: environment.cache, stageKinds: environment.stageKinds,
            threadNeeds: environment.registry.compileOptions.threadNeeds, cancellation: environment.cancellation,
            logger: environment.logger)
        return SlurmExecutor(driver: driver, budget: profile.maxInFlight, specURL: specURL, profileFile: environment.profileFile)
    }

    /// This process's own binary when it is xrbench, else an `xrbench` beside it (the bench, tests).
    static func defaultBinary() -> String {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        if executable.lastPathComponent == "xrbench" { return executable.path }
        return executable.deletingLastPathComponent().appendingPathComponent("xrbench").path
    }
}

/// The executor `slurm` builds: hands stages to its driver.
struct SlurmExecutor: Executor {
    let driver: SlurmDriver
    let budget: Int
    let specURL: URL
    let profileFile: URL?
    private let detached = DetachFlag()

    init(driver: SlurmDriver, budget: Int, specURL: URL, profileFile: URL?) {
        self.driver = driver
        self.budget = budget
        self.specURL = specURL
        self.profileFile = profileFile
    }

    /// Every stage waits on the cluster, not on this machine's cores.
    func threadNeed(of stage: Stage) -> ThreadNeed { .count(1) }

    var supportsDetach: Bool { true }

    func begin(_ run: ExecutorRun) throws {
        try driver.begin(run, spec: specURL, profileFile: profileFile)
    }

    func execute(_ stage: Stage, threads: Int, cancellation: CancellationFlag) throws -> ExecutionOutcome {
        try driver.execute(stage)
    }

    func detach() throws -> Int {
        detached.set()
        return try driver.detach(driver.runStages)
    }

    func end(interrupted: Bool) -> [String] {
        driver.stop(detached: detached.isSet)
    }
}

/// Whether `detach` was called (set once, read at the end).
final class DetachFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

extension SlurmDriver {
    /// Before the first stage: starts a fresh journal when the last one was closed, records this
    /// driver, writes the file tasks check the cache by, and settles batches an earlier driver
    /// journaled but died before confirming (adopting the array sbatch did create, or cancelling it).
    func begin(_ run: ExecutorRun, spec: URL, profileFile: URL?) throws {
        runID = run.runID
        runStages = run.stages
        if replay.isClosed {
            try journal.reset()
            replay = JournalReplay([])
            since = Date().addingTimeInterval(-60)
        }
        var event = JournalEvent(.driver)
        event.runID = run.runID
        event.pid = getpid()
        event.host = ProcessInfo.processInfo.hostName
        event.spec = spec.path
        event.profileFile = profileFile?.path
        try journal.append(event)
        do {
            try Data("xrbench run \(run.runID) of \(spec.path)\n".utf8).write(to: journal.sharedCheckFile, options: .atomic)
        } catch {
            throw SlurmExecutorError.journal(path: journal.sharedCheckFile.path, problem: "cannot write: \(error.localizedDescription)")
        }
        if !replay.unconfirmed.isEmpty { reconcileUnconfirmed() }
    }

    /// Jobs of this journal's name that the journal does not know come from a batch whose
    /// confirmation was never written: one with the batch's task count is adopted, the rest cancelled.
    func reconcileUnconfirmed() {
        let client = self.client, name = journal.name
        guard let queued = try? blockingCall({ try await client.queueStatus(jobName: name) }) else { return }
        statistics.statusQueries["squeue", default: 0] += 1
        let known = Set(replay.tasks.keys.map(\.job))
        var unknown: [Int: Int] = [:]
        for status in queued where !known.contains(status.task.job) && !status.state.isFinished {
            unknown[status.task.job, default: 0] += 1
        }
        for (batch, event) in replay.unconfirmed.sorted(by: { $0.key > $1.key }) {
            guard let job = unknown.first(where: { $0.value == event.tasks?.count })?.key else { continue }
            unknown[job] = nil
            var submitted = JournalEvent(.submitted)
            submitted.batch = batch
            submitted.job = job
            record(submitted)
            replay.confirm(event, job: job, at: submitted.time)
            logger.info("slurm: adopted array \(job) of batch \(batch), submitted by a driver that died before journaling it")
        }
        replay.unconfirmed = [:]
        if !unknown.isEmpty {
            statistics.scancelCalls += 1
            let jobs = unknown.keys.sorted().map { TaskID(job: $0) }
            _ = try? blockingCall { try await client.cancel(tasks: jobs) }
        }
    }
}
