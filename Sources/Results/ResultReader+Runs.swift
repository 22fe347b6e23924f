import Foundation
import GRDB

/// A failed stage of a run, with its error.
public struct StageFailure: Sendable, Hashable {
    /// The stage's key.
    public var stageKey: String
    /// The stage's kind.
    public var kind: String
    /// The stage's parameters (JSON).
    public var parametersJSON: String
    /// Seconds it ran before failing, when known.
    public var seconds: Double?
    /// The error it reported.
    public var errorMessage: String
}

/// One run with its provenance and what happened to its stages.
public struct RunSummary: Sendable, Hashable {
    /// The run's id.
    public var id: Int64
    /// Its provenance as recorded by `ResultStore.beginRun`.
    public var record: RunRecord
    /// How it ended (`running` when it has not, or was killed).
    public var status: RunStatus
    /// When it ended, if it did.
    public var endedAt: Date?
    /// How many of its stages ended in each status; statuses with no stage are absent.
    public var stageCounts: [StageStatus: Int]
    /// Its failed stages, with their errors, in the order they were recorded.
    public var failedStages: [StageFailure]
}

extension ResultReader {
    /// Every run, oldest first, with stage counts and failed stages.
    /// - Throws: `ResultsError.readFailed`.
    public func runs() throws -> [RunSummary] {
        try read("listing runs") { db in
            let records = try RunTableRecord.fetchAll(db, sql: "SELECT * FROM run ORDER BY id")
            var counts: [Int64: [StageStatus: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT run_id, status, count(*) AS n FROM stage_execution GROUP BY 1, 2") {
                guard let status = StageStatus(rawValue: row["status"]) else { continue }
                counts[row["run_id"], default: [:]][status] = row["n"]
            }
            return try records.map { record in
                let id = record.id!
                return RunSummary(
                    id: id,
                    record: RunRecord(specDigest: record.specDigest, experiment: record.experiment,
                                      engineVersion: record.engineVersion, gitCommit: record.gitCommit,
                                      host: record.host, startedAt: record.startedAt),
                    status: record.status, endedAt: record.endedAt, stageCounts: counts[id] ?? [:],
                    failedStages: try Self.failedStages(db, runID: id))
            }
        }
    }

    /// The failed stages of one run, with their errors.
    /// - Throws: `ResultsError.unknownRun`; `ResultsError.readFailed`.
    public func failedStages(runID: Int64) throws -> [StageFailure] {
        try read("listing failed stages of run \(runID)") { db in
            guard try RunTableRecord.exists(db, key: runID) else {
                throw ResultsError.unknownRun(id: runID, path: path.path)
            }
            return try Self.failedStages(db, runID: runID)
        }
    }

    private static func failedStages(_ db: Database, runID: Int64) throws -> [StageFailure] {
        try StageExecutionTableRecord.fetchAll(db, sql: """
            SELECT * FROM stage_execution WHERE run_id = ? AND status = 'failed' ORDER BY id
            """, arguments: [runID]).map {
            StageFailure(stageKey: $0.stageKey, kind: $0.kind, parametersJSON: $0.parameters,
                         seconds: $0.seconds, errorMessage: $0.errorMessage ?? "")
        }
    }
}

extension RunSummary {
    /// `xrbench runs` text for a list of runs: one header line per run, its stage counts, then
    /// each failed stage with its kind, the first 12 characters of its key, and its error.
    public static func report(_ runs: [RunSummary]) -> String {
        guard !runs.isEmpty else { return "no runs recorded\n" }
        let dateFormatter = ISO8601DateFormatter()
        dateFormatter.timeZone = TimeZone(identifier: "UTC")
        var lines: [String] = []
        for run in runs {
            var header = "run \(run.id)  \(run.record.experiment)  \(run.status.rawValue)"
            header += "  started \(dateFormatter.string(from: run.record.startedAt))"
            if let endedAt = run.endedAt {
                header += "  ended \(dateFormatter.string(from: endedAt))"
            }
            header += "  host \(run.record.host)  engine \(run.record.engineVersion)"
            header += "  commit \(run.record.gitCommit ?? "unknown")  spec \(run.record.specDigest.prefix(12))"
            lines.append(header)
            let counts = StageStatus.allCases.compactMap { status in
                run.stageCounts[status].map { "\($0) \(status.rawValue)" }
            }
            lines.append("  stages: " + (counts.isEmpty ? "none recorded" : counts.joined(separator: ", ")))
            for failure in run.failedStages {
                lines.append("  failed \(failure.kind) \(failure.stageKey.prefix(12)): \(failure.errorMessage)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
