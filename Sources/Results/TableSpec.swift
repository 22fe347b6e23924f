import Foundation

/// How a table cell shows the spread of a metric over seeds.
public enum SpreadKind: String, Codable, Sendable, CaseIterable {
    /// `mean ± sample standard deviation`.
    case standardDeviation = "std"
    /// `mean [low, high]`, the two-sided 95% Student-t interval of the mean.
    case confidenceInterval95 = "ci95"
}

/// How one paper-style table is laid out and printed; usually declared in the experiment spec.
public struct TableSpec: Codable, Sendable, Hashable {
    /// The file stem (`table2-classification`) and LaTeX label (`tab:table2-classification`).
    public var name: String
    /// The caption.
    public var title: String
    /// The header of the row-label column (`Backbone`).
    public var rowHeader: String
    /// Rows in this order first (listed rows without values still appear, empty); others follow
    /// in the order the query returned them.
    public var rowOrder: [String]
    /// Columns in this order first, as for rows.
    public var columnOrder: [String]
    /// What the cells show besides the mean.
    public var spread: SpreadKind
    /// Whether the largest mean is the best (AUROC, MCC, precision) or the smallest (error).
    public var higherIsBetter: Bool
    /// Decimals printed (after `scale`).
    public var decimals: Int
    /// A factor applied before printing (100 prints fractions as percentages).
    public var scale: Double
    /// When set, column labels `group<separator>column` are grouped under a spanning header
    /// (`CheXpert / 1%` with separator `" / "`), as the paper's Table 2 groups datasets.
    public var columnGroupSeparator: String?
    /// Whether cells show the number of test samples behind them (`n = 412`, or a range when
    /// seeds differ), after the value.
    public var showCount: Bool = false

    /// Creates a table spec.
    public init(name: String, title: String, rowHeader: String, rowOrder: [String] = [], columnOrder: [String] = [],
                spread: SpreadKind = .standardDeviation, higherIsBetter: Bool = true, decimals: Int = 3,
                scale: Double = 1, columnGroupSeparator: String? = nil, showCount: Bool = false) {
        precondition(decimals >= 0 && decimals <= 12, "decimals must be in 0...12")
        self.showCount = showCount
        self.name = name
        self.title = title
        self.rowHeader = rowHeader
        self.rowOrder = rowOrder
        self.columnOrder = columnOrder
        self.spread = spread
        self.higherIsBetter = higherIsBetter
        self.decimals = decimals
        self.scale = scale
        self.columnGroupSeparator = columnGroupSeparator
    }

    private enum CodingKeys: String, CodingKey {
        case name, title, rowHeader, rowOrder, columnOrder, spread, higherIsBetter, decimals, scale, columnGroupSeparator
    }

    /// Decodes a spec (from an experiment spec's `tables:`); only `name`, `title` and
    /// `rowHeader` are required, the rest default as in `init`.
    /// - Throws: `DecodingError`, including for `decimals` outside 0...12.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let decimals = try container.decodeIfPresent(Int.self, forKey: .decimals) ?? 3
        guard (0...12).contains(decimals) else {
            throw DecodingError.dataCorruptedError(forKey: .decimals, in: container,
                                                   debugDescription: "decimals must be in 0...12, not \(decimals)")
        }
        self.init(
            name: try container.decode(String.self, forKey: .name),
            title: try container.decode(String.self, forKey: .title),
            rowHeader: try container.decode(String.self, forKey: .rowHeader),
            rowOrder: try container.decodeIfPresent([String].self, forKey: .rowOrder) ?? [],
            columnOrder: try container.decodeIfPresent([String].self, forKey: .columnOrder) ?? [],
            spread: try container.decodeIfPresent(SpreadKind.self, forKey: .spread) ?? .standardDeviation,
            higherIsBetter: try container.decodeIfPresent(Bool.self, forKey: .higherIsBetter) ?? true,
            decimals: decimals,
            scale: try container.decodeIfPresent(Double.self, forKey: .scale) ?? 1,
            columnGroupSeparator: try container.decodeIfPresent(String.self, forKey: .columnGroupSeparator))
    }
}

/// One seed-level value of a table: the raw material a query over `result` returns.
public struct SeedValue: Sendable, Hashable {
    /// The row it belongs to (a backbone).
    public var rowLabel: String
    /// The column it belongs to (a fraction, a dataset, a task).
    public var columnLabel: String
    /// The value for one seed, or nil when not computable (it is left out of the mean).
    public var value: Double?
    /// The stage key that recorded the value, when known: what `explanationCSV` traces to.
    public var stageKey: String?
    /// How many test samples the value was computed on, when known.
    public var sampleCount: Int?

    /// Creates a seed value.
    public init(rowLabel: String, columnLabel: String, value: Double?, stageKey: String? = nil, sampleCount: Int? = nil) {
        self.rowLabel = rowLabel
        self.columnLabel = columnLabel
        self.value = value
        self.stageKey = stageKey
        self.sampleCount = sampleCount
    }
}

/// How a cell ranks within its column.
public enum CellRank: Sendable, Hashable {
    /// The best printed mean of the column (ties share it): bold.
    case best
    /// The next printed mean: underlined in LaTeX, italic in Markdown.
    case secondBest
    /// Neither.
    case other
}

/// A table of seed summaries, ready to print as Markdown, LaTeX or CSV.
public struct SummaryTable: Sendable, Hashable {
    /// The layout.
    public var spec: TableSpec
    /// Row labels, in print order.
    public var rows: [String]
    /// Column labels, in print order.
    public var columns: [String]
    /// `cells[row][column]`: nil when no seed has a value there.
    public var cells: [[SeedSummary?]]
    /// `ranks[row][column]`, by printed mean and `spec.higherIsBetter`.
    public var ranks: [[CellRank]]
    /// The seed-level values the table summarises, as given.
    public var values: [SeedValue]
    /// `sampleCounts[row][column]`: the fewest and most test samples behind the cell's values.
    public var sampleCounts: [[ClosedRange<Int>?]]
    /// `marks[row][column]`: † and ‡ (see `CellMarks`); empty unless a report sets them.
    public var marks: [[CellMarks]]
    /// What the marks mean, printed under the table (and in LaTeX's caption).
    public var footnotes: [String] = []

    /// Summarises seed-level values into a table laid out by `spec`.
    ///
    /// Ranking compares the means as printed (so the bold cell is the one that looks best);
    /// a column marks a best cell only when at least two rows have values, and a second-best
    /// one only when at least three do (with two rows, the other is simply the worse one).
    public init(spec: TableSpec, values: [SeedValue]) {
        let rows = Self.ordered(spec.rowOrder, values.map(\.rowLabel))
        let columns = Self.ordered(spec.columnOrder, values.map(\.columnLabel))
        var grouped: [String: [String: [Double]]] = [:]
        var counts: [String: [String: ClosedRange<Int>]] = [:]
        for value in values {
            if let number = value.value {
                grouped[value.rowLabel, default: [:]][value.columnLabel, default: []].append(number)
            }
            if let count = value.sampleCount {
                let range = counts[value.rowLabel]?[value.columnLabel]
                counts[value.rowLabel, default: [:]][value.columnLabel] = range.map { min($0.lowerBound, count)...max($0.upperBound, count) } ?? count...count
            }
        }
        sampleCounts = rows.map { row in columns.map { column in counts[row]?[column] } }
        marks = rows.map { _ in columns.map { _ in [] } }
        let cells = rows.map { row in columns.map { column in SeedSummary(grouped[row]?[column] ?? []) } }
        self.spec = spec
        self.rows = rows
        self.columns = columns
        self.cells = cells
        self.ranks = Self.rank(cells, spec: spec)
        self.values = values
    }

    /// The companion file that traces every cell to its seed values and the stages that
    /// recorded them: CSV with `row,column,value,stage_key`, in table order.
    public func explanationCSV() -> String {
        var records = [[spec.rowHeader, "column", "value", "stage_key"]]
        for row in rows {
            for column in columns {
                for value in values where value.rowLabel == row && value.columnLabel == column {
                    records.append([row, column, value.value.map { String($0) } ?? "", value.stageKey ?? ""])
                }
            }
        }
        return CSVText.document(records)
    }

    private static func rank(_ cells: [[SeedSummary?]], spec: TableSpec) -> [[CellRank]] {
        let columnCount = cells.first?.count ?? 0
        var ranks = Array(repeating: Array(repeating: CellRank.other, count: columnCount), count: cells.count)
        for column in 0..<columnCount {
            let printed: [Double?] = cells.map { row in
                row[column].map { Double(fixed(spec.scale * $0.mean, decimals: spec.decimals)) ?? $0.mean }
            }
            let filled = printed.compactMap { $0 }
            guard filled.count >= 2 else { continue }
            let distinct = Set(filled).sorted(by: spec.higherIsBetter ? (>) : (<))
            for row in cells.indices {
                guard let value = printed[row] else { continue }
                if value == distinct[0] {
                    ranks[row][column] = .best
                } else if filled.count >= 3, value == distinct[1] {
                    ranks[row][column] = .secondBest
                }
            }
        }
        return ranks
    }

    private static func ordered(_ declared: [String], _ seen: [String]) -> [String] {
        var order = declared
        var known = Set(declared)
        for label in seen where !known.contains(label) {
            order.append(label)
            known.insert(label)
        }
        return order
    }

    /// `value` with exactly `decimals` decimals, never `-0.000`.
    static func fixed(_ value: Double, decimals: Int) -> String {
        let text = String(format: "%.\(decimals)f", value)
        if text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) {
            return String(text.dropFirst())
        }
        return text
    }

    /// The cell's mean and spread as printed, in the given markup of `±` and interval.
    func cellText(row: Int, column: Int, plusMinus: String) -> String? {
        guard let summary = cells[row][column] else { return nil }
        let scale = spec.scale
        let decimals = spec.decimals
        let mean = Self.fixed(scale * summary.mean, decimals: decimals)
        var text: String
        switch spec.spread {
        case .standardDeviation:
            text = summary.standardDeviation.map { "\(mean) \(plusMinus) \(Self.fixed(scale * $0, decimals: decimals))" } ?? mean
        case .confidenceInterval95:
            text = summary.interval.map {
                "\(mean) [\(Self.fixed(scale * $0.lowerBound, decimals: decimals)), \(Self.fixed(scale * $0.upperBound, decimals: decimals))]"
            } ?? mean
        }
        if spec.showCount, let counts = sampleCounts[row][column] {
            text += counts.lowerBound == counts.upperBound ? " (n = \(counts.lowerBound))" : " (n = \(counts.lowerBound)–\(counts.upperBound))"
        }
        return text
    }

    /// The cell's marks as printed after its text: ` †‡` in Markdown and HTML, `$^{\dagger\ddagger}$` in LaTeX.
    func markText(row: Int, column: Int, latex: Bool = false) -> String {
        let symbols = marks[row][column].symbols
        guard !symbols.isEmpty else { return "" }
        guard latex else { return " " + symbols.joined() }
        return "$^{" + symbols.map { $0 == "†" ? "\\dagger" : "\\ddagger" }.joined() + "}$"
    }

    /// What the numbers are, for captions.
    var spreadDescription: String {
        switch spec.spread {
        case .standardDeviation: return "mean ± standard deviation over seeds"
        case .confidenceInterval95: return "mean [95% confidence interval] over seeds"
        }
    }
}
