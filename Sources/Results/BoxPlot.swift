import Foundation

/// One box: the replicate values of one series (a training subgroup) within one group.
public struct BoxPlotSeries: Sendable, Hashable {
    /// The series name, shown in the legend (`male`).
    public var name: String
    /// The values to summarise (bootstrap replicates of AUROC).
    public var values: [Double]

    /// Creates a series.
    public init(name: String, values: [Double]) {
        self.name = name
        self.values = values
    }
}

/// A cluster of boxes along the x axis (a test subgroup).
public struct BoxPlotGroup: Sendable, Hashable {
    /// The group name, shown under its boxes (`test: female`).
    public var name: String
    /// Its boxes; a series name missing here leaves its slot empty.
    public var series: [BoxPlotSeries]
    /// The test samples behind the group's values (the fewest over its boxes), when known.
    public var sampleCount: Int?

    /// Creates a group.
    public init(name: String, series: [BoxPlotSeries], sampleCount: Int? = nil) {
        self.name = name
        self.series = series
        self.sampleCount = sampleCount
    }
}

/// A significance bracket between two boxes of one group.
public struct BoxPlotComparison: Sendable, Hashable {
    /// The group both boxes are in.
    public var group: String
    /// One series.
    public var series1: String
    /// The other series.
    public var series2: String
    /// The p-value shown (the Holm-corrected one when there is one).
    public var pValue: Double

    /// Creates a comparison.
    public init(group: String, series1: String, series2: String, pValue: Double) {
        self.group = group
        self.series1 = series1
        self.series2 = series2
        self.pValue = pValue
    }

    /// `***` for p < 0.001, `**` for p < 0.01, `*` for p < 0.05, else `ns`.
    public var marker: String {
        switch pValue {
        case ..<0.001: return "***"
        case ..<0.01: return "**"
        case ..<0.05: return "*"
        default: return "ns"
        }
    }
}

/// A grouped box plot with significance brackets, rendered as a self-contained SVG; the
/// fairness figure (AUROC replicates per training subgroup, grouped by test subgroup).
public struct BoxPlot: Sendable, Hashable {
    /// The title above the plot.
    public var title: String
    /// The y-axis label (`AUROC`).
    public var yLabel: String
    /// The legend's title (`trained on`).
    public var legendTitle: String
    /// The clusters, left to right.
    public var groups: [BoxPlotGroup]
    /// Brackets to draw.
    public var comparisons: [BoxPlotComparison]
    /// Groups with fewer test samples than this are marked, and their brackets say so instead of
    /// showing stars (nil: no check).
    public var smallSampleThreshold: Int?

    /// Creates a box plot.
    public init(title: String, yLabel: String, legendTitle: String, groups: [BoxPlotGroup],
                comparisons: [BoxPlotComparison] = [], smallSampleThreshold: Int? = nil) {
        self.smallSampleThreshold = smallSampleThreshold
        self.title = title
        self.yLabel = yLabel
        self.legendTitle = legendTitle
        self.groups = groups
        self.comparisons = comparisons
    }

    /// Series names in first-seen order: the legend, the slot order and the colours.
    public var seriesNames: [String] {
        var names: [String] = []
        for group in groups {
            for series in group.series where !names.contains(series.name) {
                names.append(series.name)
            }
        }
        return names
    }

    /// Colours for the series, in order (colour-blind-safe Okabe–Ito palette), reused cyclically.
    /// Whether a group has fewer test samples than the threshold.
    func isSmall(_ group: BoxPlotGroup) -> Bool {
        guard let threshold = smallSampleThreshold, let count = group.sampleCount else { return false }
        return count < threshold
    }

    static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
}
