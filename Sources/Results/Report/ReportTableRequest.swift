import Foundation

/// How a report table summarises the seeds of a cell.
public enum ReportSummary: String, Sendable, Hashable, CaseIterable, Codable {
    /// Mean and its 95% Student-t interval (`mean-ci` in specs).
    case meanCI = "mean-ci"
    /// Mean ± sample standard deviation (`mean-std`; the default).
    case meanStd = "mean-std"
    /// The mean alone (`mean`); the CSV still carries the standard deviation and seed count.
    case mean
}

/// A paper-style table to build from the results database: which experiment, tasks and metric,
/// and which coordinates go down the rows and across the columns. Usually made from an
/// experiment spec's `tables:` entry.
///
/// Coordinates that are neither laid out nor summarised (the seed is summarised) and still take
/// several values are added to the columns, so that a cell never pools different things; a
/// table over several tasks groups its columns by task (`view / P@10`). When `label` is not
/// laid out and a task recorded the macro average (`label = ''`), only that is shown.
public struct ReportTableRequest: Sendable, Hashable {
    /// File stem of the rendered files (`table2-classification`).
    public var name: String
    /// The experiment whose results fill the table.
    public var experiment: String
    /// Tasks whose results fill the table, in column-group order.
    public var tasks: [String]
    /// Coordinates down the rows.
    public var rows: [ReportCoordinate]
    /// Coordinates across the columns.
    public var columns: [ReportCoordinate]
    /// The metric (`auroc`), `precision@k` for every Precision@k, or nil for every metric.
    public var metric: String?
    /// How seeds are summarised.
    public var summary: ReportSummary
    /// The caption; a description of the contents when nil.
    public var caption: String?
    /// Declared orders of coordinate values (raw values: backbone names in spec order, ...).
    /// Values not listed follow in the order they were recorded; numbers sort numerically.
    public var valueOrder: [ReportCoordinate: [String]]
    /// Decimals printed.
    public var decimals: Int
    /// Display names and metric presentations.
    public var vocabulary: ReportVocabulary
    /// Whether cells also show the number of test samples behind them (`n = 412`).
    public var showCount: Bool
    /// When set, cells not significantly different from their column's best are marked † (from
    /// the recorded paired tests between backbones; see `SignificanceMarking`).
    public var significance: SignificanceMarks?
    /// When set, cells with fewer test samples than this behind a value are marked ‡.
    public var smallSampleThreshold: Int?

    /// Whether larger values are better: decides bold and underline (from the vocabulary).
    public var higherIsBetter: Bool { metric.map(vocabulary.higherIsBetter) ?? true }

    /// Creates a request.
    public init(name: String, experiment: String, tasks: [String], rows: [ReportCoordinate],
                columns: [ReportCoordinate], metric: String? = nil, summary: ReportSummary = .meanStd,
                caption: String? = nil, valueOrder: [ReportCoordinate: [String]] = [:], decimals: Int = 3,
                vocabulary: ReportVocabulary = ReportVocabulary(), showCount: Bool = false,
                significance: SignificanceMarks? = nil, smallSampleThreshold: Int? = nil) {
        precondition(!tasks.isEmpty, "a report table needs at least one task")
        self.significance = significance
        self.smallSampleThreshold = smallSampleThreshold
        self.name = name
        self.experiment = experiment
        self.tasks = tasks
        self.rows = rows
        self.columns = columns
        self.metric = metric
        self.summary = summary
        self.caption = caption
        self.valueOrder = valueOrder
        self.decimals = decimals
        self.vocabulary = vocabulary
        self.showCount = showCount
    }

    /// Whether a recorded metric belongs in this table: `family@k` takes every parameter of the
    /// family (`precision@k`: `precision@5`, `precision@10`, ...); interval bounds never.
    func includes(metric recorded: String) -> Bool {
        let name = MetricName(recorded)
        guard name.bound == nil else { return false }
        guard let metric else { return true }
        if metric.hasSuffix("@k") { return name.parameter != nil && name.family == String(metric.dropLast(2)) }
        return recorded == metric
    }

    /// The caption printed above the table.
    var title: String {
        if let caption { return caption }
        let metricText = metric.map { $0.hasSuffix("@k") ? vocabulary.metricName(String($0.dropLast(2))) + "@k"
                                                         : vocabulary.metricName($0) } ?? "Metrics"
        return "\(metricText) of \(experiment): \(tasks.joined(separator: ", "))"
    }
}
