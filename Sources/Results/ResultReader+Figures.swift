import Foundation
import GRDB

/// Which bootstrap replicates and tests a subgroup figure shows. Optional coordinates left nil
/// match any value (then replicates of, say, several seeds are pooled into one box).
public struct ReplicateSelection: Sendable, Hashable {
    /// The experiment.
    public var experiment: String
    /// The task.
    public var task: String
    /// The backbone.
    public var backbone: String
    /// The label (`effusion`, or `mean`).
    public var label: String
    /// The metric (`auroc`).
    public var metric: String
    /// The dataset, or nil for any.
    public var dataset: String?
    /// The head, or nil for any.
    public var head: String?
    /// The features, or nil for any.
    public var features: String?
    /// The seed, or nil for any.
    public var seed: Int?

    /// Creates a selection.
    public init(experiment: String, task: String, backbone: String, label: String, metric: String = "auroc",
                dataset: String? = nil, head: String? = nil, features: String? = nil, seed: Int? = nil) {
        self.experiment = experiment
        self.task = task
        self.backbone = backbone
        self.label = label
        self.metric = metric
        self.dataset = dataset
        self.head = head
        self.features = features
        self.seed = seed
    }

    /// The WHERE clause shared by `bootstrap_replicate` and `statistical_test`.
    var condition: SQL {
        """
        experiment = \(experiment) AND task = \(task) AND backbone = \(backbone) AND label = \(label)
        AND metric = \(metric) AND (\(dataset) IS NULL OR dataset = \(dataset))
        AND (\(head) IS NULL OR head = \(head)) AND (\(features) IS NULL OR features = \(features))
        AND (\(seed) IS NULL OR seed = \(seed))
        """
    }
}

extension ResultReader {
    /// The fairness figure from the store alone: one box of replicate values per training
    /// subgroup, grouped by test subgroup, with the recorded Mann–Whitney tests between
    /// training subgroups as brackets (their Holm-corrected p-value when recorded).
    ///
    /// Groups and series appear in the order their replicates were recorded. When several stages
    /// recorded the same coordinates, the most recently used one counts (the `latest_` views).
    /// - Throws: `ResultsError.invalidTableInput` when nothing matches `selection`;
    ///   `ResultsError.readFailed`.
    /// - Parameter smallSampleThreshold: groups whose test subgroup held fewer samples (the `n`
    ///   of the metric's recorded values) are marked and their brackets show no stars.
    public func subgroupBoxPlot(_ selection: ReplicateSelection, title: String, smallSampleThreshold: Int? = nil) throws -> BoxPlot {
        try read("reading replicates for the subgroup figure") { db in
            let condition = selection.condition
            let replicates = try SQLRequest<Row>(literal: """
                SELECT test_subgroup, train_subgroup, value FROM latest_bootstrap_replicate
                WHERE \(condition) AND value IS NOT NULL ORDER BY id
                """).fetchAll(db)
            guard !replicates.isEmpty else {
                throw ResultsError.invalidTableInput(reason: "no bootstrap replicates of \(selection.metric) for "
                    + "experiment \(selection.experiment), task \(selection.task), backbone \(selection.backbone), "
                    + "label \(selection.label)")
            }
            var groupOrder: [String] = []
            var seriesOrder: [String: [String]] = [:]
            var values: [String: [String: [Double]]] = [:]
            for row in replicates {
                let group: String = row["test_subgroup"], series: String = row["train_subgroup"]
                if values[group] == nil { groupOrder.append(group) }
                if values[group]?[series] == nil { seriesOrder[group, default: []].append(series) }
                values[group, default: [:]][series, default: []].append(row["value"])
            }
            // The test samples behind each test subgroup's values: the n of the metric's own rows
            // (samples with a known truth; the interval bounds count every sample of the subgroup).
            var counts: [String: Int] = [:]
            for row in try SQLRequest<Row>(literal: """
                SELECT test_subgroup, min(n) AS n FROM latest_result WHERE \(condition) AND n > 0 GROUP BY test_subgroup
                """).fetchAll(db) {
                counts[row["test_subgroup"]] = row["n"]
            }
            let groups = groupOrder.map { group in
                BoxPlotGroup(name: "test: \(group)", series: (seriesOrder[group] ?? []).map {
                    BoxPlotSeries(name: $0, values: values[group]?[$0] ?? [])
                }, sampleCount: counts[group])
            }
            let comparisons = try SQLRequest<Row>(literal: """
                SELECT test_subgroup, group1, group2, coalesce(holm_p_value, p_value) AS p FROM latest_statistical_test
                WHERE \(condition) AND compared_dimension = 'train_subgroup' ORDER BY id
                """).fetchAll(db).map {
                BoxPlotComparison(group: "test: " + ($0["test_subgroup"] as String), series1: $0["group1"],
                                  series2: $0["group2"], pValue: $0["p"])
            }
            return BoxPlot(title: title, yLabel: selection.metric.uppercased(), legendTitle: "trained on",
                           groups: groups, comparisons: comparisons, smallSampleThreshold: smallSampleThreshold)
        }
    }
}
