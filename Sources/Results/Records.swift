import Foundation

/// Where a run stands; stored in `run.status`.
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    /// Started and not yet finished (or killed before it could say otherwise).
    case running
    /// Every stage succeeded or was already cached.
    case succeeded
    /// At least one stage failed; the others that did not depend on it still ran.
    case failed
    /// Stopped on request (Ctrl-C) before every stage ran.
    case interrupted
}

/// What happened to one stage within one run; stored in `stage_execution.status`.
public enum StageStatus: String, Codable, Sendable, CaseIterable {
    /// Executing now (or the process died while it executed).
    case running
    /// Executed and its outputs were recorded.
    case succeeded
    /// Executed and threw; `errorMessage` says why.
    case failed
    /// Not executed because its artifact was already in the cache.
    case cached
    /// Not executed because a stage it depends on failed.
    case blocked
    /// Not executed, or stopped, because the run was interrupted.
    case interrupted
}

/// Provenance of one `xrbench run`; one row of `run`.
public struct RunRecord: Codable, Sendable, Hashable {
    /// SHA-256 (hex) of the canonical spec the run executed.
    public var specDigest: String
    /// The experiment name the spec declares.
    public var experiment: String
    /// The xrbench version that ran it.
    public var engineVersion: String
    /// The git commit of the xrbench sources, or nil when not built from a git checkout.
    public var gitCommit: String?
    /// The host name of the machine.
    public var host: String
    /// When the run started.
    public var startedAt: Date
    /// The spec file's absolute path, so `xrbench tables` can find its declarations.
    public var specPath: String?

    /// Creates a run record; its status starts as `running` and its end time as unknown.
    public init(specDigest: String, experiment: String, engineVersion: String, gitCommit: String?,
                host: String, startedAt: Date, specPath: String? = nil) {
        self.specPath = specPath
        self.specDigest = specDigest
        self.experiment = experiment
        self.engineVersion = engineVersion
        self.gitCommit = gitCommit
        self.host = host
        self.startedAt = startedAt
    }
}

/// One stage's execution within one run; one row of `stage_execution`.
///
/// Recording the same `(runID, stageKey)` again replaces the earlier row, so a stage can be
/// recorded as `running` first and `succeeded` or `failed` later.
public struct StageExecutionRecord: Codable, Sendable, Hashable {
    /// The run this execution belongs to (from `ResultStore.beginRun`).
    public var runID: Int64
    /// The stage's content key (hex SHA-256).
    public var stageKey: String
    /// The stage kind (`manifest`, `embed`, `split`, `probe`, `predict`, `metric`, ...).
    public var kind: String
    /// The stage's parameters as a JSON object text (validated by the schema).
    public var parametersJSON: String
    /// What happened.
    public var status: StageStatus
    /// Wall-clock seconds the stage took, or nil when it did not execute (cached, blocked).
    public var seconds: Double?
    /// The error message of a failed stage; required when `status == .failed`.
    public var errorMessage: String?

    /// Creates a stage execution record.
    public init(runID: Int64, stageKey: String, kind: String, parametersJSON: String,
                status: StageStatus, seconds: Double? = nil, errorMessage: String? = nil) {
        self.runID = runID
        self.stageKey = stageKey
        self.kind = kind
        self.parametersJSON = parametersJSON
        self.status = status
        self.seconds = seconds
        self.errorMessage = errorMessage
    }
}

/// Where a number sits in the experiment grid; the coordinate columns of `result`,
/// `bootstrap_replicate` and `statistical_test`.
///
/// Conventions (enforced by the schema where it can): text coordinates that do not apply are
/// `""` (for example `head` of a retrieval result); subgroups that restrict nothing are
/// `"all"`; a metric averaged over a task's labels has `label == ""` (`ResultCoordinates.allLabels`,
/// which no label can be called); `fraction` and `seed` are nil
/// where they do not apply (retrieval uses neither).
public struct ResultCoordinates: Codable, Sendable, Hashable {
    /// The label of a value over all of a task's labels (their mean): empty, so that it cannot
    /// be mistaken for a label (labels have names).
    public static let allLabels = ""

    /// The experiment name from the spec.
    public var experiment: String
    /// The task name (`retrieval-view`, `findings`, `marker`, ...).
    public var task: String
    /// The backbone name from the registry.
    public var backbone: String
    /// The dataset name from the registry.
    public var dataset: String
    /// The probe head (`mlp`, `linear`), or `""` where no head is trained.
    public var head: String
    /// Which tokens the features come from: `cls`, `mean` or `cls+mean`.
    public var features: String
    /// The fraction of the training set used, in (0, 1]; nil where not applicable.
    public var fraction: Double?
    /// The split and training seed; nil where not applicable.
    public var seed: Int?
    /// Training samples per class of a few-shot cell; nil otherwise.
    public var shots: Int?
    /// The subgroup the model was trained on (`all`, `male`, `female`, `young`, ...).
    public var trainSubgroup: String
    /// The subgroup the model was tested on.
    public var testSubgroup: String
    /// The label the metric is about, or `""` (`allLabels`) for the mean over the task's labels.
    public var label: String

    /// Creates coordinates; the subgroups default to `"all"`.
    public init(experiment: String, task: String, backbone: String, dataset: String, head: String,
                features: String, fraction: Double?, seed: Int?, shots: Int? = nil, trainSubgroup: String = "all",
                testSubgroup: String = "all", label: String) {
        self.shots = shots
        self.experiment = experiment
        self.task = task
        self.backbone = backbone
        self.dataset = dataset
        self.head = head
        self.features = features
        self.fraction = fraction
        self.seed = seed
        self.trainSubgroup = trainSubgroup
        self.testSubgroup = testSubgroup
        self.label = label
    }
}

/// One metric value at full coordinates; one row of `result`.
public struct ResultRow: Codable, Sendable, Hashable {
    /// Where the value sits in the grid.
    public var coordinates: ResultCoordinates
    /// The metric name (`auroc`, `mcc`, `precision@5`, ...).
    public var metric: String
    /// The value, or nil when it cannot be computed (then `note` says why).
    public var value: Double?
    /// Why `value` is nil (for example "AUROC undefined: test set has only negatives"), or a remark.
    public var note: String?
    /// How many samples (or queries) the value was computed on.
    public var sampleCount: Int

    /// Creates a result row. A nil `value` needs a `note`.
    public init(coordinates: ResultCoordinates, metric: String, value: Double?, note: String? = nil,
                sampleCount: Int) {
        self.coordinates = coordinates
        self.metric = metric
        self.value = value
        self.note = note
        self.sampleCount = sampleCount
    }
}

/// One bootstrap replicate of a metric; one row of `bootstrap_replicate`.
public struct BootstrapReplicateRow: Codable, Sendable, Hashable {
    /// The coordinates of the metric that was resampled.
    public var coordinates: ResultCoordinates
    /// The metric name.
    public var metric: String
    /// The replicate's index, 0-based.
    public var replicate: Int
    /// The metric on this resample, or nil when it is undefined there (one class only).
    public var value: Double?

    /// Creates a bootstrap replicate row.
    public init(coordinates: ResultCoordinates, metric: String, replicate: Int, value: Double?) {
        self.coordinates = coordinates
        self.metric = metric
        self.replicate = replicate
        self.value = value
    }
}

/// How a p-value was computed.
public enum TestMethod: String, Codable, Sendable, CaseIterable {
    /// From the exact null distribution of the statistic.
    case exact
    /// From the normal approximation (Mann–Whitney with tie and continuity correction; DeLong's z).
    case asymptotic
    /// From bootstrap replicates (the paired bootstrap).
    case bootstrap
}

/// One two-sample test; one row of `statistical_test`: a Mann–Whitney U test between two groups
/// of bootstrap replicates (`mann-whitney-u`), or a paired test of two backbones on the same
/// test samples (`delong`, `paired-bootstrap`).
///
/// `coordinates` are those the two groups share; the dimension in which they differ is named
/// by `comparedDimension` (for example `train_subgroup`, `backbone`) and holds `""` in `coordinates`.
public struct StatisticalTestRow: Codable, Sendable, Hashable {
    /// The shared coordinates of the two groups.
    public var coordinates: ResultCoordinates
    /// The metric whose values were compared (`auroc`).
    public var metric: String
    /// The test (`mann-whitney-u`).
    public var testName: String
    /// The coordinate column in which the groups differ (`train_subgroup`).
    public var comparedDimension: String
    /// The first group's value of that coordinate (`male`).
    public var group1: String
    /// The second group's value of that coordinate (`female`).
    public var group2: String
    /// The test statistic: U of the first group (Mann–Whitney), z (DeLong), the observed
    /// difference (paired bootstrap).
    public var statistic: Double
    /// The two-sided p-value.
    public var pValue: Double
    /// The effect size: the rank-biserial correlation in [-1, 1] (Mann–Whitney); the metric's
    /// difference group1 − group2 (paired tests).
    public var effectSize: Double
    /// The first group's sample size (paired tests: the test samples, the same for both).
    public var count1: Int
    /// The second group's sample size.
    public var count2: Int
    /// Exact, asymptotic or bootstrap p-value.
    public var method: TestMethod
    /// The Holm-corrected p-value within its family of tests, or nil when not corrected.
    public var holmPValue: Double?
    /// Paired tests: the interval of the difference (DeLong's normal interval, the bootstrap's
    /// percentile interval), 95% unless the test says otherwise; nil for Mann–Whitney.
    public var interval: ClosedRange<Double>?
    /// Paired bootstrap: the computable replicates behind the interval and p-value.
    public var replicates: Int?

    /// Creates a statistical test row.
    public init(coordinates: ResultCoordinates, metric: String, testName: String, comparedDimension: String,
                group1: String, group2: String, statistic: Double, pValue: Double, effectSize: Double,
                count1: Int, count2: Int, method: TestMethod, holmPValue: Double? = nil,
                interval: ClosedRange<Double>? = nil, replicates: Int? = nil) {
        self.interval = interval
        self.replicates = replicates
        self.coordinates = coordinates
        self.metric = metric
        self.testName = testName
        self.comparedDimension = comparedDimension
        self.group1 = group1
        self.group2 = group2
        self.statistic = statistic
        self.pValue = pValue
        self.effectSize = effectSize
        self.count1 = count1
        self.count2 = count2
        self.method = method
        self.holmPValue = holmPValue
    }
}

/// One test-set score for one sample and label; one row of `prediction`.
public struct PredictionRow: Codable, Sendable, Hashable {
    /// The sample's id from the manifest.
    public var sampleID: String
    /// The label (or class) the score is for.
    public var label: String
    /// The model's score (probability) for that label.
    public var score: Double
    /// The true target: 1 or 0 for a binary label, 1 for the true class of a multi-class task.
    public var target: Double

    /// Creates a prediction row.
    public init(sampleID: String, label: String, score: Double, target: Double) {
        self.sampleID = sampleID
        self.label = label
        self.score = score
        self.target = target
    }
}

/// Everything a finished stage produced for the database; also stored as JSON in its artifact.
public struct StageOutputs: Codable, Sendable, Hashable {
    /// Metric values with full coordinates.
    public var results: [ResultRow]
    /// Bootstrap replicates.
    public var bootstrapReplicates: [BootstrapReplicateRow]
    /// Two-sample tests.
    public var statisticalTests: [StatisticalTestRow]
    /// Per-sample predictions.
    public var predictions: [PredictionRow]
    /// Problems with samples of a dataset that did not stop the stage (an unreadable image
    /// skipped, a patient whose rows disagree on sex).
    public var sampleIssues: [SampleIssueRow]
    /// Per-epoch training curves of trained heads.
    public var trainingCurves: [TrainingCurveRow]
    /// Per-image, per-class segmentation scores.
    public var segmentationScores: [SegmentationScoreRow]

    /// Creates stage outputs; every list defaults to empty.
    public init(results: [ResultRow] = [], bootstrapReplicates: [BootstrapReplicateRow] = [],
                statisticalTests: [StatisticalTestRow] = [], predictions: [PredictionRow] = [],
                sampleIssues: [SampleIssueRow] = [], trainingCurves: [TrainingCurveRow] = [],
                segmentationScores: [SegmentationScoreRow] = []) {
        self.trainingCurves = trainingCurves
        self.results = results
        self.bootstrapReplicates = bootstrapReplicates
        self.statisticalTests = statisticalTests
        self.predictions = predictions
        self.sampleIssues = sampleIssues
        self.segmentationScores = segmentationScores
    }

    private enum CodingKeys: String, CodingKey {
        case results, bootstrapReplicates, statisticalTests, predictions, sampleIssues, trainingCurves, segmentationScores
    }

    /// Encodes every list; `segmentationScores` only when there are some, so the outputs of
    /// other stages are the bytes they were before it existed.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(results, forKey: .results)
        try container.encode(bootstrapReplicates, forKey: .bootstrapReplicates)
        try container.encode(statisticalTests, forKey: .statisticalTests)
        try container.encode(predictions, forKey: .predictions)
        try container.encode(sampleIssues, forKey: .sampleIssues)
        try container.encode(trainingCurves, forKey: .trainingCurves)
        if !segmentationScores.isEmpty { try container.encode(segmentationScores, forKey: .segmentationScores) }
    }

    /// Decodes outputs; `sampleIssues`, `trainingCurves` and `segmentationScores` are absent from artifacts written
    /// before they existed (and `segmentationScores` from stages that have none).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        results = try container.decode([ResultRow].self, forKey: .results)
        bootstrapReplicates = try container.decode([BootstrapReplicateRow].self, forKey: .bootstrapReplicates)
        statisticalTests = try container.decode([StatisticalTestRow].self, forKey: .statisticalTests)
        predictions = try container.decode([PredictionRow].self, forKey: .predictions)
        sampleIssues = try container.decodeIfPresent([SampleIssueRow].self, forKey: .sampleIssues) ?? []
        trainingCurves = try container.decodeIfPresent([TrainingCurveRow].self, forKey: .trainingCurves) ?? []
        segmentationScores = try container.decodeIfPresent([SegmentationScoreRow].self, forKey: .segmentationScores) ?? []
    }
}

/// One epoch of a trained head; one row of `training_curve`.
///
/// Its coordinates are those of the probe: no test subgroup and no label (`""` in both; the
/// table has neither column).
public struct TrainingCurveRow: Codable, Sendable, Hashable {
    /// The probe's coordinates.
    public var coordinates: ResultCoordinates
    /// 1-based epoch.
    public var epoch: Int
    /// Mean training loss over the epoch's batches.
    public var trainingLoss: Double
    /// Mean validation loss after the epoch.
    public var validationLoss: Double
    /// What `validationValue` is: the criterion that selects the kept epoch (`auroc`: macro
    /// AUROC over the labels; `negative-loss`: minus the validation loss).
    public var validationMetric: String
    /// The criterion's value after the epoch (higher is better).
    public var validationValue: Double
    /// The learning rate used during the epoch.
    public var learningRate: Double
    /// Whether this is the epoch whose weights were kept.
    public var isBest: Bool

    /// Creates a row.
    public init(coordinates: ResultCoordinates, epoch: Int, trainingLoss: Double, validationLoss: Double,
                validationMetric: String, validationValue: Double, learningRate: Double, isBest: Bool) {
        self.coordinates = coordinates
        self.epoch = epoch
        self.trainingLoss = trainingLoss
        self.validationLoss = validationLoss
        self.validationMetric = validationMetric
        self.validationValue = validationValue
        self.learningRate = learningRate
        self.isBest = isBest
    }
}

/// One problem with one sample (or patient) of a dataset; one row of `sample_issue`.
public struct SampleIssueRow: Codable, Sendable, Hashable {
    /// How bad it is.
    public enum Severity: String, Codable, Sendable, Hashable, CaseIterable {
        /// Recorded; the sample stays in.
        case warning
        /// The sample was left out (`on_error: skip`).
        case skipped
    }

    /// The dataset's name in the spec (or the adapter's, when the stage has no spec name).
    public var dataset: String
    /// The sample, when the issue is about one.
    public var sampleID: String?
    /// The patient, when the issue is about one.
    public var patientID: String?
    /// The file involved (a label file, an image).
    public var file: String
    /// The line in `file`, when it is a text file.
    public var line: Int?
    /// Warning or skipped.
    public var severity: Severity
    /// What is wrong.
    public var message: String

    /// Creates an issue.
    public init(dataset: String, sampleID: String? = nil, patientID: String? = nil, file: String, line: Int? = nil,
                severity: Severity, message: String) {
        self.dataset = dataset
        self.sampleID = sampleID
        self.patientID = patientID
        self.file = file
        self.line = line
        self.severity = severity
        self.message = message
    }
}
