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
