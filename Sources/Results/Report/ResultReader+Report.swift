import Foundation
import GRDB

/// Provenance of one run, as the explanation files cite it.
public struct ReportRunInfo: Sendable, Hashable {
    /// The run's id.
    public var id: Int64
    /// When it started (UTC text as stored).
    public var startedAt: String
    /// The spec digest it executed.
    public var specDigest: String
    /// Its git commit, when known.
    public var gitCommit: String?
}

extension ResultReader {
    /// Builds a report table from `latest_result` alone, recomputing nothing.
    /// - Throws: `ResultsError.invalidTableInput` when nothing matches the request's experiment,
    ///   tasks and metric; `ResultsError.readFailed`.
    public func reportTable(_ request: ReportTableRequest) throws -> ReportTable {
        let (rows, runs) = try read("reading results for table \(request.name)") { db in
            (try Self.sourceRows(db, experiment: request.experiment, tasks: request.tasks), try Self.runInfos(db))
        }
        let selected = Self.selectLabels(rows.filter { request.includes(metric: $0.metric) }, request: request)
        guard !selected.isEmpty else {
            let metricText = request.metric.map { ", metric \($0)" } ?? ""
            throw ResultsError.invalidTableInput(reason: "table \(request.name): no results for experiment "
                + "\(request.experiment), tasks \(request.tasks.joined(separator: ", "))\(metricText) in \(path.path); "
                + "run the spec first (`xrbench runs` shows what ran)")
        }
        let layout = ReportLayout(request: request, rows: selected)
        let tests = request.significance == nil ? [] : try read("reading paired tests for table \(request.name)") { db in
            try Self.pairedTests(db, experiment: request.experiment, tasks: request.tasks)
        }
        return ReportTable(request: request, layout: layout, sourceRows: selected, runs: runs, pairedTests: tests)
    }

    /// The current paired tests between backbones of `tasks`.
    static func pairedTests(_ db: Database, experiment: String, tasks: [String]) throws -> [PairedTestRecord] {
        let placeholders = Array(repeating: "?", count: tasks.count).joined(separator: ", ")
        return try Row.fetchAll(db, sql: """
            SELECT * FROM latest_statistical_test
            WHERE experiment = ? AND task IN (\(placeholders)) AND compared_dimension = 'backbone' ORDER BY id
            """, arguments: StatementArguments([experiment] + tasks)).map { row in
            PairedTestRecord(
                cell: CellKey(task: row["task"], dataset: row["dataset"], head: row["head"], features: row["features"],
                              fraction: row["fraction"], seed: row["seed"], shots: row["shots"], trainSubgroup: row["train_subgroup"],
                              testSubgroup: row["test_subgroup"], label: row["label"], metric: row["metric"]),
                group1: row["group1"], group2: row["group2"], testName: row["test_name"], pValue: row["p_value"],
                replicates: row["replicates"])
        }
    }

    /// The experiments that have results, in the order they were first recorded.
    public func experimentsWithResults() throws -> [String] {
        try read("listing experiments") { db in
            try String.fetchAll(db, sql: "SELECT experiment FROM result GROUP BY experiment ORDER BY min(id)")
        }
    }

    /// Per task of `experiment`: its metrics, in recorded order, and whether it has fractions.
    public func recordedTasks(experiment: String) throws -> [(task: String, metrics: [String])] {
        try read("listing tasks of \(experiment)") { db in
            var order: [String] = []
            var metrics: [String: [String]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT task, metric FROM latest_result WHERE experiment = ? GROUP BY task, metric ORDER BY min(id)
                """, arguments: [experiment]) {
                let task: String = row["task"], metric: String = row["metric"]
                if metrics[task] == nil { order.append(task) }
                metrics[task, default: []].append(metric)
            }
            return order.map { ($0, metrics[$0] ?? []) }
        }
    }

    /// The spec file of each experiment's latest run that recorded one (for finding its declarations).
    public func latestSpecPaths() throws -> [String: String] {
        try read("reading spec paths") { db in
            var paths: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT experiment, spec_path FROM run WHERE spec_path IS NOT NULL ORDER BY id") {
                paths[row["experiment"]] = row["spec_path"]
            }
            return paths
        }
    }

    /// The latest spec digest each experiment was run with (for matching spec files to results).
    public func latestSpecDigests() throws -> [String: String] {
        try read("reading spec digests") { db in
            var digests: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT experiment, spec_digest FROM run ORDER BY id") {
                digests[row["experiment"]] = row["spec_digest"]
            }
            return digests
        }
    }

    static func sourceRows(_ db: Database, experiment: String, tasks: [String]) throws -> [ReportSourceRow] {
        let placeholders = Array(repeating: "?", count: tasks.count).joined(separator: ", ")
        return try Row.fetchAll(db, sql: """
            SELECT r.*, o.run_id FROM latest_result r JOIN stage_output o ON o.stage_key = r.stage_key
            WHERE r.experiment = ? AND r.task IN (\(placeholders)) ORDER BY r.id
            """, arguments: StatementArguments([experiment] + tasks)).map { row in
            ReportSourceRow(
                id: row["id"], stageKey: row["stage_key"], runID: row["run_id"], experiment: row["experiment"],
                task: row["task"], backbone: row["backbone"], dataset: row["dataset"], head: row["head"],
                features: row["features"], fraction: row["fraction"], seed: row["seed"], shots: row["shots"],
                trainSubgroup: row["train_subgroup"], testSubgroup: row["test_subgroup"], label: row["label"],
                metric: row["metric"], value: row["value"], note: row["note"], sampleCount: row["n"])
        }
    }

    static func runInfos(_ db: Database) throws -> [Int64: ReportRunInfo] {
        var runs: [Int64: ReportRunInfo] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, started_at, spec_digest, git_commit FROM run") {
            let id: Int64 = row["id"]
            runs[id] = ReportRunInfo(id: id, startedAt: row["started_at"], specDigest: row["spec_digest"],
                                     gitCommit: row["git_commit"])
        }
        return runs
    }

    /// Keeps, per task, only the macro average when labels are not laid out and the task recorded one
    /// (`mean`, or `''` as some stages write it); per-label rows otherwise.
    static func selectLabels(_ rows: [ReportSourceRow], request: ReportTableRequest) -> [ReportSourceRow] {
        guard !(request.rows + request.columns).contains(.label) else { return rows }
        var labelsByTask: [String: Set<String>] = [:]
        for row in rows { labelsByTask[row.task, default: []].insert(row.label) }
        return rows.filter { row in
            let labels = labelsByTask[row.task] ?? []
            guard labels.count > 1 else { return true }
            if labels.contains("mean") { return row.label == "mean" }
            if labels.contains("") { return row.label == "" }
            return true
        }
    }
}
