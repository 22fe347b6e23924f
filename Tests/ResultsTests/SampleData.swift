import Foundation
import Results
import TestSupport

/// Small, deterministic inputs shared by the store tests.
enum SampleData {
    static func run(experiment: String = "demo") -> RunRecord {
        RunRecord(specDigest: String(repeating: "ab", count: 32), experiment: experiment, engineVersion: "0.1.0",
                  gitCommit: "4680f83", host: "test-host", startedAt: Date(timeIntervalSince1970: 1_790_000_000))
    }

    static func coordinates(backbone: String = "vit-tiny-random", fraction: Double? = 0.1, seed: Int? = 0,
                            trainSubgroup: String = "all", testSubgroup: String = "all",
                            label: String = "effusion") -> ResultCoordinates {
        ResultCoordinates(experiment: "demo", task: "findings", backbone: backbone, dataset: "phantom",
                          head: "mlp", features: "cls", fraction: fraction, seed: seed,
                          trainSubgroup: trainSubgroup, testSubgroup: testSubgroup, label: label)
    }

    /// Outputs with one row of every kind, tagged so that concurrent writers produce distinct rows.
    static func outputs(tag: Int, replicates: Int = 3, predictions: Int = 4) -> StageOutputs {
        let coordinates = coordinates(seed: tag)
        return StageOutputs(
            results: [
                ResultRow(coordinates: coordinates, metric: "auroc", value: 0.5 + Double(tag % 50) / 100, sampleCount: 40),
                ResultRow(coordinates: coordinates, metric: "mcc", value: nil,
                          note: "MCC undefined: the test set has one class only", sampleCount: 40),
            ],
            bootstrapReplicates: (0..<replicates).map {
                BootstrapReplicateRow(coordinates: coordinates, metric: "auroc", replicate: $0, value: 0.7 + Double($0) / 1000)
            },
            statisticalTests: [
                StatisticalTestRow(coordinates: self.coordinates(seed: tag, trainSubgroup: ""), metric: "auroc",
                                   testName: "mann-whitney-u", comparedDimension: "train_subgroup",
                                   group1: "male", group2: "female", statistic: 123.5, pValue: 0.012,
                                   effectSize: -0.38, count1: 200, count2: 200, method: .asymptotic,
                                   holmPValue: 0.036),
            ],
            predictions: (0..<predictions).map {
                PredictionRow(sampleID: "sample-\($0)", label: "effusion", score: Double($0) / 10, target: Double($0 % 2))
            })
    }

    static func execution(runID: Int64, stageKey: String, status: StageStatus = .succeeded,
                          error: String? = nil) -> StageExecutionRecord {
        StageExecutionRecord(runID: runID, stageKey: stageKey, kind: "metric",
                             parametersJSON: #"{"metric":"auroc","labels":["effusion"]}"#,
                             status: status, seconds: 0.25, errorMessage: error)
    }

    /// A `segmentation-metric` stage's rows: the mean Dice and three images' scores of two classes.
    static func segmentationOutputs() -> StageOutputs {
        let coordinates = ResultCoordinates(experiment: "demo", task: "organs", backbone: "vit-tiny-random", dataset: "phantom-masks",
                                            head: "linear", features: "", fraction: nil, seed: 0, label: "")
        var scores: [SegmentationScoreRow] = []
        for image in 0..<3 {
            let dice = 0.25 * Double(image + 1), iou = 0.2 * Double(image + 1)
            for name in ["lungs", "heart"] {
                scores.append(SegmentationScoreRow(sampleID: "P\(image)", patientID: "patient\(image / 2)", className: name,
                                                   dice: dice, iou: iou, positive: image > 0))
            }
        }
        return StageOutputs(results: [ResultRow(coordinates: coordinates, metric: "dice", value: 0.5, sampleCount: 3)],
                            segmentationScores: scores)
    }

    static func temporaryDatabase() throws -> URL {
        try makeTemporaryDirectory("xrbench-results").appendingPathComponent("nested/xrbench.sqlite")
    }
}
