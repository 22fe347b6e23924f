import Foundation
import Pipeline

/// A spec whose Slurm journal is open with no driver: a run was detached, or its driver killed.
public struct DetachedRun: Sendable {
    /// The journal's folder.
    public var journal: URL
    /// The spec its last driver ran.
    public var spec: URL
    /// The `--profile` file its last driver was given.
    public var profileFile: URL?
}

extension Engine {
    /// Specs whose Slurm runs were detached (or whose drivers died) and not collected yet.
    public static func detachedRuns(cacheDirectory: URL) -> [DetachedRun] {
        let folder = cacheDirectory.appendingPathComponent("slurm", isDirectory: true)
        var runs: [DetachedRun] = []
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted() {
            let directory = folder.appendingPathComponent(name, isDirectory: true)
            let replay = JournalReplay(SlurmJournal.events(at: directory.appendingPathComponent("journal.jsonl")))
            guard !replay.isClosed, let spec = replay.spec else { continue }
            // A journal whose lock cannot be taken has a live driver: it collects its own run.
            guard (try? SlurmJournal(directory: directory)) != nil else { continue }
            runs.append(DetachedRun(journal: directory, spec: URL(fileURLWithPath: spec),
                                    profileFile: replay.profileFile.map { URL(fileURLWithPath: $0) }))
        }
        return runs
    }

    /// `xrbench runs --sync`: runs each detached spec again with the Slurm executor, which
    /// re-attaches to its jobs, waits for them and records their results.
    /// - Returns: one report per spec, or the error that stopped it.
    public static func collectDetachedRuns(configuration: EngineConfiguration) -> [(run: DetachedRun, report: Result<RunReport, any Error>)] {
        detachedRuns(cacheDirectory: configuration.cacheDirectory).map { run in
            var collecting = configuration
            collecting.executor = SlurmExecutorKind().name
            collecting.detach = false
            if collecting.executorProfile == nil { collecting.executorProfile = run.profileFile }
            return (run, Result { try Engine.run(specURL: run.spec, configuration: collecting) })
        }
    }
}
