import Foundation

/// One seed-level value behind a report cell, with where it came from.
public struct ReportCellSource: Sendable, Hashable {
    /// The cell's row label.
    public var rowLabel: String
    /// The cell's column label.
    public var columnLabel: String
    /// The recorded result.
    public var source: ReportSourceRow
    /// The run that recorded it, when the run row exists.
    public var run: ReportRunInfo?
}

/// A paper-style table built from the results database, ready to write as Markdown, LaTeX,
/// CSV and an explanation file that traces every cell to its stages and runs.
public struct ReportTable: Sendable {
    /// What was asked for.
    public var request: ReportTableRequest
    /// The printed table (Markdown, LaTeX, HTML): for `mean`, one value per cell, so no spread is shown.
    public var display: SummaryTable
    /// The table over every seed value (CSV: mean, spread and seed count).
    public var full: SummaryTable
    /// Every value behind every cell, in table order.
    public var sources: [ReportCellSource]

    init(request: ReportTableRequest, layout: ReportLayout, sourceRows: [ReportSourceRow], runs: [Int64: ReportRunInfo],
         pairedTests: [PairedTestRecord] = []) {
        let spread: SpreadKind = request.summary == .meanCI ? .confidenceInterval95 : .standardDeviation
        let spec = TableSpec(name: request.name, title: request.title, rowHeader: layout.rowHeader,
                             rowOrder: layout.rowOrder, columnOrder: layout.columnOrder, spread: spread,
                             higherIsBetter: request.higherIsBetter, decimals: request.decimals,
                             columnGroupSeparator: layout.columnCoordinates.count > 1 ? ReportLayout.groupSeparator : nil,
                             showCount: request.showCount)
        let cellSources = sourceRows.map {
            ReportCellSource(rowLabel: layout.rowLabel(of: $0), columnLabel: layout.columnLabel(of: $0), source: $0,
                             run: runs[$0.runID])
        }
        let seedValues = cellSources.map {
            SeedValue(rowLabel: $0.rowLabel, columnLabel: $0.columnLabel, value: $0.source.value, stageKey: $0.source.stageKey,
                      sampleCount: $0.source.sampleCount)
        }
        full = SummaryTable(spec: spec, values: seedValues)
        if request.summary == .mean {
            // One value per cell (its mean) prints the mean alone; ranks are the same, as they
            // compare printed means.
            var means: [SeedValue] = []
            for (rowIndex, row) in full.rows.enumerated() {
                for (columnIndex, column) in full.columns.enumerated() {
                    means.append(SeedValue(rowLabel: row, columnLabel: column, value: full.cells[rowIndex][columnIndex]?.mean))
                }
            }
            display = SummaryTable(spec: spec, values: means)
            display.sampleCounts = full.sampleCounts
        } else {
            display = full
        }
        let rowIndex = Dictionary(full.rows.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let columnIndex = Dictionary(full.columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        sources = cellSources.enumerated().sorted { left, right in
            let a = (rowIndex[left.element.rowLabel] ?? 0, columnIndex[left.element.columnLabel] ?? 0, left.element.source.seed ?? -1, left.offset)
            let b = (rowIndex[right.element.rowLabel] ?? 0, columnIndex[right.element.columnLabel] ?? 0, right.element.source.seed ?? -1, right.offset)
            return a < b
        }.map(\.element)
        self.request = request
        markCells(pairedTests)
    }

    /// Sets † (not significantly different from the column's best) and ‡ (small sample) on the
    /// printed table, with footnotes saying what they mean.
    private mutating func markCells(_ pairedTests: [PairedTestRecord]) {
        if let settings = request.significance {
            let outcome = SignificanceMarking.decide(table: display, sources: sources, tests: pairedTests, settings: settings)
            for row in display.rows.indices {
                for column in display.columns.indices where outcome.marked[row][column] {
                    display.marks[row][column].insert(.notSignificantlyDifferent)
                }
            }
            let alpha = String(format: "%g", settings.alpha)
            if outcome.testCount > 0 {
                let names = outcome.testNames.map { ["delong": "DeLong", "paired-bootstrap": "paired bootstrap"][$0] ?? $0 }
                var footnote = "† not significantly different from the column's best (" + names.joined(separator: " and ")
                    + " tests on the same test samples, " + (settings.holm ? "Holm-adjusted over the table's \(outcome.testCount) tests, " : "unadjusted, ")
                    + "p ≥ \(alpha)" + (outcome.untested > 0 ? "; \(outcome.untested) cells without a test against their best are unmarked" : "") + ")."
                // A bootstrap p-value is at least 2/(B + 1): with too few replicates for the family,
                // nothing can be significant, and every compared cell would carry a †.
                if let replicates = outcome.fewestReplicates {
                    let smallest = 2 / Double(replicates + 1) * (settings.holm ? Double(outcome.testCount) : 1)
                    if smallest >= settings.alpha {
                        footnote += " With \(replicates) bootstrap replicates the smallest attainable p-value is "
                            + String(format: "%.2g", 2 / Double(replicates + 1)) + (settings.holm ? ", \(String(format: "%.2g", smallest)) after Holm" : "")
                            + ", not below \(alpha): no cell can be significant; use more replicates."
                    }
                }
                display.footnotes.append(footnote)
            } else {
                display.footnotes.append("† marks nothing: no paired test between backbones is recorded for these cells "
                    + "(add compare: {against: …, test: delong|paired-bootstrap} to the task).")
            }
        }
        if let threshold = request.smallSampleThreshold {
            var marked = 0
            for row in display.rows.indices {
                for column in display.columns.indices {
                    guard let counts = display.sampleCounts[row][column], counts.lowerBound < threshold,
                          display.cells[row][column] != nil else { continue }
                    display.marks[row][column].insert(.smallSample)
                    marked += 1
                }
            }
            if marked > 0 {
                display.footnotes.append("‡ fewer than \(threshold) test samples behind the value: too few to tell cells apart "
                    + "(see docs/RESULTS.md, small samples).")
            }
        }
    }

    /// Markdown: caption, then the table with the best mean per column bold and the second italic.
    public func markdown() -> String { meanOnlyCaption(display.markdown(), spread: "Mean ± standard deviation over seeds") }

    /// A LaTeX booktabs table: best mean per column bold, second underlined.
    public func latex() -> String { meanOnlyCaption(display.latex(), spread: "mean $\\pm$ standard deviation over seeds") }

    /// The table as HTML, for the index page.
    public func html() -> String { meanOnlyCaption(display.html(), spread: "mean ± standard deviation over seeds") }

    /// For `mean`, the caption says what the cells show: the summary table describes its
    /// one-value cells as mean ± standard deviation, which they are not.
    private func meanOnlyCaption(_ text: String, spread: String) -> String {
        guard request.summary == .mean, let range = text.range(of: spread) else { return text }
        let replacement = spread.first?.isUppercase == true ? "Mean over seeds" : "mean over seeds"
        return text.replacingCharacters(in: range, with: replacement)
    }

    /// CSV: per column its mean, spread (std, or the 95% interval for `mean-ci`) and seed count.
    public func csv() -> String { full.csv() }

    /// The companion file: one line per seed value behind each cell, with its full
    /// coordinates, the stage key that computed it and the run that recorded it.
    public func explanationCSV() -> String {
        var records = [["row", "column", "value", "note", "stage_key", "run_id", "run_started_at", "spec_digest",
                        "experiment", "task", "backbone", "dataset", "head", "features", "fraction", "seed",
                        "train_subgroup", "test_subgroup", "label", "metric"]]
        for entry in sources {
            let row = entry.source
            records.append([
                entry.rowLabel, entry.columnLabel, row.value.map { String($0) } ?? "", row.note ?? "", row.stageKey,
                String(row.runID), entry.run?.startedAt ?? "", entry.run?.specDigest ?? "", row.experiment, row.task,
                row.backbone, row.dataset, row.head, row.features, row.fraction.map { String($0) } ?? "",
                row.seed.map { String($0) } ?? "", row.trainSubgroup, row.testSubgroup, row.label, row.metric,
            ])
        }
        return CSVText.document(records)
    }

    /// The same trace as text, for `xrbench tables --explain`: each cell, what it prints, and the
    /// values, stages and runs behind it.
    public func explanationText() -> String {
        var lines = ["table \(request.name) (experiment \(request.experiment))"]
        for (rowIndex, row) in full.rows.enumerated() {
            for (columnIndex, column) in full.columns.enumerated() {
                let printed = display.cellText(row: rowIndex, column: columnIndex, plusMinus: "±") ?? "–"
                lines.append("  [\(row)] [\(column)] = \(printed)")
                for entry in sources where entry.rowLabel == row && entry.columnLabel == column {
                    let value = entry.source.value.map { String($0) } ?? "NULL (\(entry.source.note ?? "not computable"))"
                    let seed = entry.source.seed.map { "seed \($0)" } ?? "no seed"
                    lines.append("    \(seed): \(value)  stage \(entry.source.stageKey)  run \(entry.source.runID)"
                        + (entry.run.map { " (started \($0.startedAt))" } ?? ""))
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
