import Foundation

/// A coordinate of the results grid that a report table can lay out down its rows or across
/// its columns, as experiment specs name them (`tables: - rows: backbone, columns: [head, fraction]`).
public enum ReportCoordinate: String, Sendable, Hashable, CaseIterable, Codable {
    /// The task name (tables over several tasks group their columns by task).
    case task
    /// The backbone name.
    case backbone
    /// The dataset name.
    case dataset
    /// The probe head.
    case head
    /// The features (`cls`, `mean`, `cls+mean`).
    case features
    /// The training fraction, printed as a percentage.
    case fraction
    /// Training samples per class of a few-shot cell, printed `5-shot`.
    case shots
    /// The seed (usually summarised over rather than laid out).
    case seed
    /// The training subgroup.
    case train
    /// The test subgroup.
    case test
    /// The label (`nodule`, or `mean` for the macro average).
    case label
    /// The metric (`auroc`, `mcc`, `precision@10`).
    case metric
    /// The k of a Precision@k metric (the metric itself, for tables over `precision@k`).
    case k

    /// The header text when the coordinate labels rows (`Backbone`).
    public var header: String {
        switch self {
        case .task: "Task"
        case .backbone: "Backbone"
        case .dataset: "Dataset"
        case .head: "Head"
        case .features: "Features"
        case .fraction: "Training fraction"
        case .shots: "Shots"
        case .seed: "Seed"
        case .train: "Trained on"
        case .test: "Tested on"
        case .label: "Label"
        case .metric: "Metric"
        case .k: "k"
        }
    }

    /// The coordinate's value in `row` as printed in a table (a fraction 0.1 as `10%`, a k as `P@5`).
    /// `inColumns` prefixes subgroups (`train male`), whose bare value would be ambiguous in a column header.
    func label(of row: ReportSourceRow, inColumns: Bool, vocabulary: ReportVocabulary) -> String {
        switch self {
        case .task: return vocabulary.name(.task, row.task)
        case .backbone: return vocabulary.name(.backbone, row.backbone)
        case .dataset: return vocabulary.name(.dataset, row.dataset)
        case .head: return row.head.isEmpty ? "–" : vocabulary.name(.head, row.head)
        case .features: return Self.featuresLabel(row.features)
        case .fraction: return row.fraction.map(Self.percentLabel) ?? "–"
        case .shots: return row.shots.map { "\($0)-shot" } ?? "–"
        case .seed: return row.seed.map { "seed \($0)" } ?? "–"
        case .train: return inColumns ? "train \(row.trainSubgroup)" : row.trainSubgroup
        case .test: return inColumns ? "test \(row.testSubgroup)" : row.testSubgroup
        case .label: return row.label.isEmpty || row.label == "mean" ? "mean" : vocabulary.name(.label, row.label)
        case .metric, .k: return vocabulary.metricName(row.metric)
        }
    }

    /// The value used to sort: numbers for fractions, seeds and k; nil for names (declared or first-seen order).
    func numericKey(of row: ReportSourceRow) -> Double? {
        switch self {
        case .fraction: return row.fraction
        case .shots: return row.shots.map(Double.init)
        case .seed: return row.seed.map(Double.init)
        case .k, .metric: return MetricName(row.metric).parameter.map(Double.init)
        default: return nil
        }
    }

    /// The raw value compared when deciding whether a coordinate varies.
    func rawValue(of row: ReportSourceRow) -> String {
        switch self {
        case .task: return row.task
        case .backbone: return row.backbone
        case .dataset: return row.dataset
        case .head: return row.head
        case .features: return row.features
        case .fraction: return row.fraction.map { String($0) } ?? ""
        case .shots: return row.shots.map { String($0) } ?? ""
        case .seed: return row.seed.map { String($0) } ?? ""
        case .train: return row.trainSubgroup
        case .test: return row.testSubgroup
        case .label: return row.label
        case .metric, .k: return row.metric
        }
    }

    /// `10%`, `1%`, `100%`, `0.5%`.
    static func percentLabel(_ fraction: Double) -> String {
        String(format: "%g%%", fraction * 100)
    }

    /// `CLS`, `mean-pooled`, `CLS+mean`.
    static func featuresLabel(_ features: String) -> String {
        switch features {
        case "cls": return "CLS"
        case "mean": return "mean-pooled"
        case "cls+mean": return "CLS+mean"
        case "": return "–"
        default: return features
        }
    }
}

/// One `latest_result` row with the run that recorded it: what a report table is built from.
public struct ReportSourceRow: Sendable, Hashable {
    /// The `result.id`, for first-seen ordering.
    public var id: Int64
    /// The stage that computed the value.
    public var stageKey: String
    /// The run that recorded the stage's outputs.
    public var runID: Int64
    /// Coordinates.
    public var experiment: String, task: String, backbone: String, dataset: String, head: String, features: String
    /// Fraction, seed and few-shot shots, when they apply.
    public var fraction: Double?, seed: Int?, shots: Int? = nil
    /// Subgroups and label.
    public var trainSubgroup: String, testSubgroup: String, label: String
    /// The metric and its value (nil when not computable).
    public var metric: String, value: Double?
    /// Why the value is nil, when it is.
    public var note: String?
    /// Test samples the value was computed on.
    public var sampleCount: Int?
}
