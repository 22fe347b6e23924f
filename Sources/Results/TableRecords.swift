import Foundation
import GRDB

// One record struct per table, internal to the module: the facade converts between these and
// the public row types, so that callers never see GRDB.

/// A row of `run`.
struct RunTableRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "run"
    var id: Int64?
    var specDigest: String
    var experiment: String
    var engineVersion: String
    var gitCommit: String?
    var host: String
    var startedAt: Date
    var endedAt: Date?
    var status: RunStatus
    /// The process recording the run (`getpid()`).
    var processID: Int32?
    /// The spec file's path.
    var specPath: String?

    enum CodingKeys: String, CodingKey {
        case id, experiment, host, status
        case processID = "pid", specPath = "spec_path"
        case specDigest = "spec_digest", engineVersion = "engine_version", gitCommit = "git_commit"
        case startedAt = "started_at", endedAt = "ended_at"
    }

    mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// A row of `stage_execution`.
struct StageExecutionTableRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "stage_execution"
    var id: Int64?
    var runID: Int64
    var stageKey: String
    var kind: String
    var parameters: String
    var status: StageStatus
    var seconds: Double?
    var errorMessage: String?
    var recordedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, kind, parameters, status, seconds
        case runID = "run_id", stageKey = "stage_key", errorMessage = "error_message", recordedAt = "recorded_at"
    }
}

/// A row of `stage_output`: the anchor that a stage's output rows cascade from.
struct StageOutputTableRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "stage_output"
    var stageKey: String
    var runID: Int64
    var recordedAt: Date

    enum CodingKeys: String, CodingKey {
        case stageKey = "stage_key", runID = "run_id", recordedAt = "recorded_at"
    }
}

/// The coordinate columns shared by `result`, `bootstrap_replicate` and `statistical_test`.
private func coordinateColumns(_ coordinates: ResultCoordinates, into container: inout PersistenceContainer) {
    container["experiment"] = coordinates.experiment
    container["task"] = coordinates.task
    container["backbone"] = coordinates.backbone
    container["dataset"] = coordinates.dataset
    container["head"] = coordinates.head
    container["features"] = coordinates.features
    container["fraction"] = coordinates.fraction
    container["seed"] = coordinates.seed
    container["shots"] = coordinates.shots
    container["train_subgroup"] = coordinates.trainSubgroup
    container["test_subgroup"] = coordinates.testSubgroup
    container["label"] = coordinates.label
}

private func coordinates(from row: Row) -> ResultCoordinates {
    ResultCoordinates(
        experiment: row["experiment"], task: row["task"], backbone: row["backbone"], dataset: row["dataset"],
        head: row["head"], features: row["features"], fraction: row["fraction"], seed: row["seed"], shots: row["shots"],
        trainSubgroup: row["train_subgroup"], testSubgroup: row["test_subgroup"], label: row["label"])
}

/// A row of `result`.
struct ResultTableRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "result"
    var stageKey: String
    var row: ResultRow

    init(stageKey: String, row: ResultRow) {
        self.stageKey = stageKey
        self.row = row
    }

    init(row: Row) {
        stageKey = row["stage_key"]
        self.row = ResultRow(coordinates: coordinates(from: row), metric: row["metric"], value: row["value"],
                             note: row["note"], sampleCount: row["n"])
    }

    func encode(to container: inout PersistenceContainer) {
        container["stage_key"] = stageKey
        coordinateColumns(row.coordinates, into: &container)
        container["metric"] = row.metric
        container["value"] = row.value
        container["note"] = row.note
        container["n"] = row.sampleCount
    }
}

/// A row of `bootstrap_replicate` (written by a prepared statement in `recordOutputs`).
struct BootstrapReplicateTableRecord: FetchableRecord, TableRecord {
    static let databaseTableName = "bootstrap_replicate"
    var stageKey: String
    var row: BootstrapReplicateRow

    init(row: Row) {
        stageKey = row["stage_key"]
        self.row = BootstrapReplicateRow(coordinates: coordinates(from: row), metric: row["metric"],
                                         replicate: row["replicate"], value: row["value"])
    }
}

/// A row of `statistical_test`.
struct StatisticalTestTableRecord: FetchableRecord, PersistableRecord {
    static let databaseTableName = "statistical_test"
    var stageKey: String
    var row: StatisticalTestRow

    init(stageKey: String, row: StatisticalTestRow) {
        self.stageKey = stageKey
        self.row = row
    }

    init(row: Row) {
        stageKey = row["stage_key"]
        self.row = StatisticalTestRow(
            coordinates: coordinates(from: row), metric: row["metric"], testName: row["test_name"],
            comparedDimension: row["compared_dimension"], group1: row["group1"], group2: row["group2"],
            statistic: row["statistic"], pValue: row["p_value"], effectSize: row["effect_size"],
            count1: row["n1"], count2: row["n2"],
            method: TestMethod(rawValue: row["method"]) ?? .asymptotic, holmPValue: row["holm_p_value"],
            interval: (row["ci_low"] as Double?).flatMap { low in (row["ci_high"] as Double?).map { low...$0 } },
            replicates: row["replicates"])
    }

    func encode(to container: inout PersistenceContainer) {
        container["stage_key"] = stageKey
        coordinateColumns(row.coordinates, into: &container)
        container["metric"] = row.metric
        container["test_name"] = row.testName
        container["compared_dimension"] = row.comparedDimension
        container["group1"] = row.group1
        container["group2"] = row.group2
        container["statistic"] = row.statistic
        container["p_value"] = row.pValue
        container["effect_size"] = row.effectSize
        container["n1"] = row.count1
        container["n2"] = row.count2
        container["method"] = row.method.rawValue
        container["holm_p_value"] = row.holmPValue
        container["ci_low"] = row.interval?.lowerBound
        container["ci_high"] = row.interval?.upperBound
        container["replicates"] = row.replicates
    }
}

/// A row of `training_curve` (written by a prepared statement in `recordOutputs`).
struct TrainingCurveTableRecord: FetchableRecord, TableRecord {
    static let databaseTableName = "training_curve"
    var stageKey: String
    var row: TrainingCurveRow

    init(row: Row) {
        stageKey = row["stage_key"]
        let at = ResultCoordinates(
            experiment: row["experiment"], task: row["task"], backbone: row["backbone"], dataset: row["dataset"],
            head: row["head"], features: row["features"], fraction: row["fraction"], seed: row["seed"], shots: row["shots"],
            trainSubgroup: row["train_subgroup"], testSubgroup: "", label: "")
        self.row = TrainingCurveRow(coordinates: at, epoch: row["epoch"], trainingLoss: row["train_loss"],
                                    validationLoss: row["validation_loss"], validationMetric: row["validation_metric"],
                                    validationValue: row["validation_value"], learningRate: row["learning_rate"],
                                    isBest: row["is_best"])
    }
}

/// A row of `prediction` (written by a prepared statement in `recordOutputs`).
struct PredictionTableRecord: FetchableRecord, TableRecord {
    static let databaseTableName = "prediction"
    var stageKey: String
    var row: PredictionRow

    init(row: Row) {
        stageKey = row["stage_key"]
        self.row = PredictionRow(sampleID: row["sample_id"], label: row["label"], score: row["score"],
                                 target: row["target"])
    }
}
