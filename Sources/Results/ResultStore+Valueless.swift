import GRDB

/// A result recorded without a value, and why (the run summary lists them).
public struct ValuelessResult: Sendable, Hashable {
    /// Task name.
    public var task: String
    /// Backbone name.
    public var backbone: String
    /// Dataset name.
    public var dataset: String
    /// Label (`""` for a value over every label).
    public var label: String
    /// Metric name.
    public var metric: String
    /// Why there is no value.
    public var note: String
}

extension ResultStore {
    /// The results without a value among the stages run `runID` used (executed or took from
    /// the cache), in recording order.
    /// - Throws: `ResultsError.readFailed`.
    public func valuelessResults(runID: Int64) throws -> [ValuelessResult] {
        try read("listing the results without a value of run \(runID)") { db in
            try Row.fetchAll(db, sql: """
                SELECT r.task, r.backbone, r.dataset, r.label, r.metric, r.note FROM result r
                WHERE r.value IS NULL AND EXISTS (
                    SELECT 1 FROM stage_execution e
                    WHERE e.run_id = ? AND e.stage_key = r.stage_key AND e.status IN ('succeeded', 'cached'))
                ORDER BY r.id
                """, arguments: [runID]).map {
                ValuelessResult(task: $0["task"], backbone: $0["backbone"], dataset: $0["dataset"], label: $0["label"],
                                metric: $0["metric"], note: $0["note"] ?? "")
            }
        }
    }
}

/// Values computed on fewer test samples than a threshold, grouped by where they sit.
public struct SmallSampleGroup: Sendable, Hashable {
    /// Task, dataset and test subgroup.
    public var task: String, dataset: String, testSubgroup: String
    /// The fewest test samples behind any of its values.
    public var fewestSamples: Int
    /// How many values (result rows) rest on fewer than the threshold.
    public var values: Int
}

extension ResultStore {
    /// The results with a value computed on fewer than `threshold` test samples among the
    /// stages run `runID` used, grouped by task, dataset and test subgroup (smallest first).
    /// - Throws: `ResultsError.readFailed`.
    public func smallSampleGroups(runID: Int64, threshold: Int) throws -> [SmallSampleGroup] {
        try read("listing the small-sample results of run \(runID)") { db in
            try Row.fetchAll(db, sql: """
                SELECT r.task, r.dataset, r.test_subgroup, min(r.n) AS fewest, count(*) AS \"values\" FROM result r
                WHERE r.value IS NOT NULL AND r.n > 0 AND r.n < ? AND r.test_subgroup <> '' AND EXISTS (
                    SELECT 1 FROM stage_execution e
                    WHERE e.run_id = ? AND e.stage_key = r.stage_key AND e.status IN ('succeeded', 'cached'))
                GROUP BY r.task, r.dataset, r.test_subgroup ORDER BY fewest, min(r.id)
                """, arguments: [threshold, runID]).map {
                SmallSampleGroup(task: $0["task"], dataset: $0["dataset"], testSubgroup: $0["test_subgroup"],
                                 fewestSamples: $0["fewest"], values: $0["values"])
            }
        }
    }
}
