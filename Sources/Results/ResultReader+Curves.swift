import Foundation
import GRDB

/// One recorded test prediction with the coordinates of the stage that recorded it.
public struct RecordedPrediction: Sendable, Hashable {
    /// Coordinates of the metric stage.
    public var backbone: String, dataset: String, head: String, features: String
    public var fraction: Double?, shots: Int?, seed: Int?
    public var trainSubgroup: String, testSubgroup: String
    /// The sample, the label (or class) and the predicted probability with its truth.
    public var sampleID: String, label: String, score: Double, target: Double
}

extension ResultReader {
    /// The per-sample test predictions the current stages of `task` recorded, with their
    /// coordinates, in recording order (what a reliability diagram is drawn from).
    /// - Throws: `ResultsError.readFailed`.
    public func recordedPredictions(experiment: String, task: String) throws -> [RecordedPrediction] {
        try read("reading predictions of \(task)") { db in
            let stages = try Row.fetchAll(db, sql: """
                SELECT stage_key, backbone, dataset, head, features, fraction, shots, seed, train_subgroup, test_subgroup, min(id) AS first
                FROM latest_result WHERE experiment = ? AND task = ? AND stage_key IN (SELECT stage_key FROM prediction)
                GROUP BY stage_key ORDER BY first
                """, arguments: [experiment, task])
            var predictions: [RecordedPrediction] = []
            for stage in stages {
                let key: String = stage["stage_key"]
                for row in try Row.fetchAll(db, sql: "SELECT sample_id, label, score, target FROM prediction WHERE stage_key = ? ORDER BY id",
                                            arguments: [key]) {
                    predictions.append(RecordedPrediction(
                        backbone: stage["backbone"], dataset: stage["dataset"], head: stage["head"], features: stage["features"],
                        fraction: stage["fraction"], shots: stage["shots"], seed: stage["seed"], trainSubgroup: stage["train_subgroup"],
                        testSubgroup: stage["test_subgroup"], sampleID: row["sample_id"], label: row["label"], score: row["score"],
                        target: row["target"]))
                }
            }
            return predictions
        }
    }

    /// The current training curves of `tasks` (`latest_training_curve`), in recording order.
    /// - Throws: `ResultsError.readFailed`.
    public func trainingCurves(experiment: String, tasks: [String]) throws -> [TrainingCurveRow] {
        guard !tasks.isEmpty else { return [] }
        return try read("reading training curves") { db in
            let placeholders = Array(repeating: "?", count: tasks.count).joined(separator: ", ")
            return try TrainingCurveTableRecord.fetchAll(db, sql: """
                SELECT * FROM latest_training_curve WHERE experiment = ? AND task IN (\(placeholders)) ORDER BY id
                """, arguments: StatementArguments([experiment] + tasks)).map(\.row)
        }
    }
}
