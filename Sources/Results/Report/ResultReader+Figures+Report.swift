import Foundation
import GRDB

/// A retrieval stage of a task whose per-query neighbours are recorded.
public struct RecordedRetrieval: Sendable, Hashable {
    /// The retrieval stage.
    public var stageKey: String
    /// Its backbone, dataset and features.
    public var backbone: String, dataset: String, features: String
}

extension ResultReader {
    /// The retrieval stages of `task` (those with results in `latest_result`) that recorded
    /// per-query neighbours, in the order their results were recorded.
    ///
    /// Neighbours are `prediction` rows of the retrieval stage: `sample_id` the query, `label`
    /// the neighbour's sample id, `score` the cosine similarity and `target` 1 when the neighbour
    /// is relevant (0 when not), for each query's top k.
    public func recordedRetrievals(experiment: String, task: String) throws -> [RecordedRetrieval] {
        try read("listing retrieval stages of \(task)") { db in
            try Row.fetchAll(db, sql: """
                SELECT stage_key, backbone, dataset, features FROM latest_result
                WHERE experiment = ? AND task = ? AND metric LIKE 'precision@%'
                  AND stage_key IN (SELECT stage_key FROM prediction)
                GROUP BY stage_key ORDER BY min(id)
                """, arguments: [experiment, task]).map {
                RecordedRetrieval(stageKey: $0["stage_key"], backbone: $0["backbone"], dataset: $0["dataset"],
                                  features: $0["features"])
            }
        }
    }

    /// Gallery rows of one retrieval stage: `queryCount` queries spread evenly over the recorded
    /// queries (in sample-id order), each with its `neighbourCount` most similar neighbours.
    public func galleryRows(stageKey: String, queryCount: Int, neighbourCount: Int) throws -> [GalleryRow] {
        precondition(queryCount > 0 && neighbourCount > 0, "a gallery shows at least one query and one neighbour")
        return try read("reading neighbours of stage \(stageKey)") { db in
            let queries = try String.fetchAll(db, sql: """
                SELECT DISTINCT sample_id FROM prediction WHERE stage_key = ? ORDER BY sample_id
                """, arguments: [stageKey])
            let step = max(1, queries.count / queryCount)
            let chosen = stride(from: 0, to: queries.count, by: step).prefix(queryCount).map { queries[$0] }
            return try chosen.map { query in
                let neighbours = try Row.fetchAll(db, sql: """
                    SELECT label, score, target FROM prediction WHERE stage_key = ? AND sample_id = ?
                    ORDER BY score DESC, label LIMIT ?
                    """, arguments: [stageKey, query, neighbourCount]).map {
                    GalleryItem(sampleID: $0["label"], score: $0["score"], relevant: ($0["target"] as Double) > 0.5)
                }
                return GalleryRow(query: GalleryItem(sampleID: query), neighbours: neighbours)
            }
        }
    }

    /// The distinct figure selections of a fairness task: one per backbone, dataset, head,
    /// features and label with bootstrap replicates (seeds and fractions pooled), in recorded order.
    public func fairnessSelections(experiment: String, task: String, metric: String = "auroc") throws -> [ReplicateSelection] {
        try read("listing replicates of \(task)") { db in
            try Row.fetchAll(db, sql: """
                SELECT backbone, dataset, head, features, label FROM latest_bootstrap_replicate
                WHERE experiment = ? AND task = ? AND metric = ?
                GROUP BY backbone, dataset, head, features, label ORDER BY min(id)
                """, arguments: [experiment, task, metric]).map {
                ReplicateSelection(experiment: experiment, task: task, backbone: $0["backbone"], label: $0["label"],
                                   metric: metric, dataset: $0["dataset"], head: $0["head"], features: $0["features"])
            }
        }
    }

    /// The tasks of `experiment` with bootstrap replicates, and their metrics, in recorded order.
    public func tasksWithReplicates(experiment: String) throws -> [(task: String, metric: String)] {
        try read("listing fairness tasks") { db in
            try Row.fetchAll(db, sql: """
                SELECT task, metric FROM latest_bootstrap_replicate WHERE experiment = ?
                GROUP BY task, metric ORDER BY min(id)
                """, arguments: [experiment]).map { ($0["task"], $0["metric"]) }
        }
    }
}
