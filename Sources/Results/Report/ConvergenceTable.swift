import Foundation

/// Convergence speedups laid out like a report table (rows usually backbones, columns the
/// declared coordinates), with an `Average` column; written as Markdown, LaTeX, HTML and a CSV
/// of every seed's epochs, and drawn as a bar chart in the manner of the paper's Fig. 1d.
public struct ConvergenceTable: Sendable {
    /// What was asked for.
    public var request: ConvergenceRequest
    /// Row and column labels in print order.
    public var rows: [String], columns: [String]
    /// The outcomes behind each cell.
    public var cells: [[[ConvergenceOutcome]]]
    /// Cells or seeds that could not be compared, and why.
    public var notes: [String]

    init(request: ConvergenceRequest, outcomes: [ConvergenceOutcome], notes: [String]) {
        // Lay out like a metric table: one source row per outcome.
        let sourceRows = outcomes.enumerated().map { index, outcome in
            ReportSourceRow(id: Int64(index), stageKey: "", runID: 0, experiment: request.experiment, task: outcome.cell.task,
                            backbone: outcome.backbone, dataset: outcome.cell.dataset, head: outcome.cell.head,
                            features: outcome.cell.features, fraction: outcome.cell.fraction, seed: outcome.seed, shots: outcome.cell.shots,
                            trainSubgroup: outcome.cell.trainSubgroup, testSubgroup: "", label: "", metric: "convergence-speedup",
                            value: outcome.speedup, note: nil, sampleCount: nil)
        }
        let layoutRequest = ReportTableRequest(name: request.name, experiment: request.experiment, tasks: request.tasks, rows: request.rows,
                                               columns: request.columns, metric: "convergence-speedup", valueOrder: request.valueOrder,
                                               vocabulary: request.vocabulary)
        let layout = ReportLayout(request: layoutRequest, rows: sourceRows)
        let (rowOrder, columnOrder) = (layout.rowOrder, layout.columnOrder)
        rows = rowOrder
        columns = columnOrder
        var grouped: [String: [String: [ConvergenceOutcome]]] = [:]
        for (source, outcome) in zip(sourceRows, outcomes) {
            grouped[layout.rowLabel(of: source), default: [:]][layout.columnLabel(of: source), default: []].append(outcome)
        }
        cells = rowOrder.map { row in columnOrder.map { grouped[row]?[$0] ?? [] } }
        self.request = request
        self.notes = notes
    }

    /// Mean speedup over the converged seeds of a cell, the converged count and the seed count.
    static func summary(_ outcomes: [ConvergenceOutcome]) -> (mean: Double?, converged: Int, seeds: Int) {
        let speedups = outcomes.compactMap(\.speedup)
        return (speedups.isEmpty ? nil : speedups.reduce(0, +) / Double(speedups.count), speedups.count, outcomes.count)
    }

    /// `4.9×`, `4.9× (2/3)`, `not converged`, or `–` for an empty cell.
    static func text(_ outcomes: [ConvergenceOutcome]) -> String {
        guard !outcomes.isEmpty else { return "–" }
        let (mean, converged, seeds) = summary(outcomes)
        guard let mean else { return seeds > 1 ? "not converged (0/\(seeds))" : "not converged" }
        return String(format: "%.1f×", mean) + (converged < seeds ? " (\(converged)/\(seeds))" : "")
    }

    /// Per row: the mean over columns of the cells' mean speedups (cells where no seed converged
    /// left out), and how many columns that is out of those with outcomes.
    var averages: [(mean: Double?, columns: Int, of: Int)] {
        cells.map { row in
            let means = row.compactMap { Self.summary($0).mean }
            return (means.isEmpty ? nil : means.reduce(0, +) / Double(means.count), means.count, row.filter { !$0.isEmpty }.count)
        }
    }

    /// What the numbers are.
    var explanation: String {
        let reference = request.vocabulary.name(.backbone, request.reference)
        return "Speedup = epochs \(reference) needs to reach its best validation score ÷ epochs the backbone needs to reach that "
            + "score (same split and validation set); mean over seeds, (k/n) when only k of n seeds converged; "
            + "not converged: the score was never reached before training stopped. Average: mean over the columns with a speedup."
    }

    private func averageText(_ row: Int) -> String {
        let average = averages[row]
        guard let mean = average.mean else { return average.of == 0 ? "–" : "not converged" }
        return String(format: "%.1f×", mean) + (average.columns < average.of ? " (\(average.columns)/\(average.of))" : "")
    }

    /// Markdown: caption, explanation, the table.
    public func markdown() -> String {
        func escape(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        var lines = ["**\(request.title).** \(explanation)", ""]
        lines.append("| " + ([request.rows.map(\.header).joined(separator: ", ")] + columns + ["Average"]).map(escape).joined(separator: " | ") + " |")
        lines.append("| --- |" + String(repeating: " ---: |", count: columns.count + 1))
        for (index, row) in rows.enumerated() {
            lines.append("| " + ([escape(row)] + cells[index].map(Self.text) + [averageText(index)]).joined(separator: " | ") + " |")
        }
        if !notes.isEmpty { lines += [""] + notes.map { "Not compared: \($0)." } }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A LaTeX booktabs table.
    public func latex() -> String {
        func cell(_ text: String) -> String { SummaryTable.escapeLaTeX(text).replacingOccurrences(of: "×", with: "$\\times$") }
        var lines = ["\\begin{table}[t]", "  \\centering",
                     "  \\caption{\(cell(request.title)). \(cell(explanation))}", "  \\label{tab:\(request.name)}",
                     "  \\begin{tabular}{l" + String(repeating: "c", count: columns.count + 1) + "}", "    \\toprule",
                     "    " + ([request.rows.map(\.header).joined(separator: ", ")] + columns + ["Average"]).map(cell).joined(separator: " & ") + " \\\\",
                     "    \\midrule"]
        for (index, row) in rows.enumerated() {
            lines.append("    " + ([row] + cells[index].map(Self.text) + [averageText(index)]).map(cell).joined(separator: " & ") + " \\\\")
        }
        lines += ["    \\bottomrule", "  \\end{tabular}", "\\end{table}"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The table as HTML, for the index page.
    public func html() -> String {
        var lines = ["<table>", "  <caption>\(HTMLText.escape(request.title)). \(HTMLText.escape(explanation))</caption>", "  <thead>",
                     "    <tr>" + ([request.rows.map(\.header).joined(separator: ", ")] + columns + ["Average"]).map { "<th>\(HTMLText.escape($0))</th>" }.joined() + "</tr>",
                     "  </thead>", "  <tbody>"]
        for (index, row) in rows.enumerated() {
            lines.append("    <tr><th>\(HTMLText.escape(row))</th>"
                + (cells[index].map(Self.text) + [averageText(index)]).map { "<td>\(HTMLText.escape($0))</td>" }.joined() + "</tr>")
        }
        lines += ["  </tbody>", "</table>"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// CSV of every outcome: cell, seed, epochs, the reference's epochs, threshold and speedup.
    public func csv() -> String {
        var records = [["row", "column", "seed", "backbone", "validation_metric", "threshold", "reference_epochs", "epochs",
                        "epochs_run", "speedup"]]
        for (rowIndex, row) in rows.enumerated() {
            for (columnIndex, column) in columns.enumerated() {
                for outcome in cells[rowIndex][columnIndex] {
                    records.append([row, column, outcome.seed.map(String.init) ?? "", outcome.backbone, outcome.validationMetric,
                                    String(outcome.threshold), String(outcome.referenceEpochs), outcome.epochs.map(String.init) ?? "",
                                    String(outcome.epochsRun), outcome.speedup.map { String($0) } ?? "not converged"])
                }
            }
        }
        return CSVText.document(records)
    }

    /// The bar chart: per column, one bar per backbone other than the reference.
    public func chart() -> SpeedupChart {
        let reference = request.vocabulary.name(.backbone, request.reference)
        var bars: [SpeedupChart.Bar] = []
        for (columnIndex, column) in columns.enumerated() {
            for (rowIndex, row) in rows.enumerated() where row != reference {
                let outcomes = cells[rowIndex][columnIndex]
                guard !outcomes.isEmpty else { continue }
                bars.append(SpeedupChart.Bar(group: column, series: row, speedup: Self.summary(outcomes).mean, label: Self.text(outcomes)))
            }
        }
        let averages = rows.indices.filter { rows[$0] != reference }.compactMap { index -> String? in
            let average = self.averages[index]
            return average.mean.map { "\(rows[index]): average \(String(format: "%.1f×", $0)) over the \(average.columns) of \(average.of) columns where it converged" }
        }
        return SpeedupChart(title: request.title, reference: reference, bars: bars,
                            footnotes: [averages.joined(separator: "; ")].filter { !$0.isEmpty }
                                + ["Speedup = epochs \(reference) needs to reach its best validation score ÷ epochs the backbone needs; "
                                   + "mean over seeds; bars right of 1× converge faster."])
    }
}
