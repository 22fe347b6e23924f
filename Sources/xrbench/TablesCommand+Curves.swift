import Evaluation
import Foundation
import Pipeline
import Results

extension FigureRenderer {
    /// The coordinates one figure of a task covers: everything but backbone, seed and subgroups.
    struct FigureCell: Hashable {
        var dataset: String, head: String, features: String
        var fraction: Double?, shots: Int?

        /// `phantom, demo-mlp, CLS, 100%` without the parts that do not vary among `all`.
        func parts(among all: [FigureCell]) -> [String] {
            var parts: [String] = []
            if Set(all.map(\.dataset)).count > 1 { parts.append(dataset) }
            if Set(all.map(\.head)).count > 1 { parts.append(head) }
            if Set(all.map(\.features)).count > 1 { parts.append(features) }
            if Set(all.map(\.fraction)).count > 1 || Set(all.map(\.shots)).count > 1 {
                parts.append(shots.map { "\($0)-shot" } ?? fraction.map { String(format: "%g%%", $0 * 100) } ?? "")
            }
            return parts
        }
    }

    /// Reliability diagrams: per head, features, training regime and label, one line per
    /// backbone through 15 equal-width bins of the recorded test predictions (seeds pooled; the
    /// training and test subgroup `all` when recorded), with the samples per bin beside it.
    func reliability(_ figure: ExperimentReportPlan.Figure, experiment: String) throws -> (figures: [ReportIndex.FigureEntry], notes: [String]) {
        let predictions = try reader.recordedPredictions(experiment: experiment, task: figure.task)
        guard !predictions.isEmpty else {
            return ([], ["figure \(figure.name) (\(experiment)): task \(figure.task) recorded no test predictions "
                + "(its metric stages need predictions: true)"])
        }
        let train = predictions.contains { $0.trainSubgroup == "all" } ? "all" : predictions[0].trainSubgroup
        let test = predictions.contains { $0.testSubgroup == "all" } ? "all" : predictions[0].testSubgroup
        let used = predictions.filter { $0.trainSubgroup == train && $0.testSubgroup == test }
        var cells: [FigureCell] = []
        for prediction in used {
            let cell = FigureCell(dataset: prediction.dataset, head: prediction.head, features: prediction.features,
                                  fraction: prediction.fraction, shots: prediction.shots)
            if !cells.contains(cell) { cells.append(cell) }
        }
        var entries: [ReportIndex.FigureEntry] = []
        for cell in cells {
            let members = used.filter {
                FigureCell(dataset: $0.dataset, head: $0.head, features: $0.features, fraction: $0.fraction, shots: $0.shots) == cell
            }
            var labels: [String] = []
            for prediction in members where !labels.contains(prediction.label) { labels.append(prediction.label) }
            // Multi-class: one diagram of top-label confidence; multi-label: one per label.
            for label in figure.multiclass ? [""] : labels {
                var series: [LineChart.Series] = [], countSeries: [LineChart.Series] = []
                let backbones = Set(members.map(\.backbone)).sorted {
                    (figure.backboneOrder.firstIndex(of: $0) ?? Int.max, $0) < (figure.backboneOrder.firstIndex(of: $1) ?? Int.max, $1)
                }
                for backbone in backbones {
                    let rows = members.filter { $0.backbone == backbone && (figure.multiclass || $0.label == label) }
                    let (confidences, outcomes) = figure.multiclass ? Self.topLabel(rows) : (rows.map(\.score), rows.map(\.target))
                    guard !confidences.isEmpty,
                          let bins = try? reliabilityBins(confidences: confidences, outcomes: outcomes, bins: 15, binning: .equalWidth) else { continue }
                    let name = "\(vocabularyName(backbone)) (ECE \(String(format: "%.3f", expectedCalibrationError(bins))), n = \(confidences.count))"
                    series.append(LineChart.Series(name: name, points: bins.filter { $0.count > 0 }.map {
                        LineChart.Point(x: $0.meanConfidence, y: $0.observedFrequency)
                    }, dots: true))
                    countSeries.append(LineChart.Series(name: name, points: bins.map {
                        LineChart.Point(x: ($0.lower + $0.upper) / 2, y: Double($0.count))
                    }, dots: true))
                }
                guard !series.isEmpty else { continue }
                let what = figure.multiclass ? "top-label confidence" : "predicted probability of \(label)"
                let details = ([figure.multiclass ? nil : label] + cell.parts(among: cells).map(Optional.some)).compactMap { $0 }
                let title = (figure.caption ?? "Reliability: \(figure.task)") + (details.isEmpty ? "" : " — " + details.joined(separator: ", "))
                let chart = LineChart(title: title, panels: [
                    LineChart.Panel(title: "Reliability", xLabel: figure.multiclass ? "mean confidence" : "mean predicted probability",
                                    yLabel: figure.multiclass ? "accuracy" : "observed frequency", series: series,
                                    xRange: 0...1, yRange: 0...1, diagonal: true),
                    LineChart.Panel(title: "Test samples per bin", xLabel: what, yLabel: "samples", series: countSeries, xRange: 0...1),
                ], footnotes: ["15 equal-width bins; seeds pooled; training subgroup \(train), test subgroup \(test); dashed: perfect calibration"])
                let file = figureFile(figure.name, details)
                try writeText(chart.svg(), to: folder.appendingPathComponent(file))
                entries.append(ReportIndex.FigureEntry(experiment: experiment, file: file,
                                                       caption: "\(title): \(what) against observed frequency per backbone"))
            }
        }
        return (entries, [])
    }

    /// Top-label confidence and correctness per (stage, sample) of multi-class predictions
    /// (one row per class, target 1 for the true class).
    static func topLabel(_ rows: [RecordedPrediction]) -> (confidences: [Double], outcomes: [Double]) {
        struct Sample: Hashable {
            var seed: Int?
            var id: String
        }
        var order: [Sample] = []
        var best: [Sample: (score: Double, correct: Bool)] = [:]
        for row in rows {
            let sample = Sample(seed: row.seed, id: row.sampleID)
            if let current = best[sample] {
                // The first class with the largest score wins, as numpy.argmax.
                if row.score > current.score { best[sample] = (row.score, row.target == 1) }
            } else {
                order.append(sample)
                best[sample] = (row.score, row.target == 1)
            }
        }
        return (order.map { best[$0]!.score }, order.map { best[$0]!.correct ? 1 : 0 })
    }

    /// Training curves: per dataset, head, features, training regime and training subgroup, the
    /// validation score and the losses per epoch, one line per backbone and seed.
    func curves(_ figure: ExperimentReportPlan.Figure, experiment: String) throws -> (figures: [ReportIndex.FigureEntry], notes: [String]) {
        let rows = try reader.trainingCurves(experiment: experiment, tasks: [figure.task])
        guard !rows.isEmpty else {
            return ([], ["figure \(figure.name) (\(experiment)): task \(figure.task) recorded no training curves (only trained heads record them)"])
        }
        struct Cell: Hashable {
            var figure: FigureCell
            var train: String
        }
        var cells: [Cell] = []
        for row in rows {
            let at = row.coordinates
            let cell = Cell(figure: FigureCell(dataset: at.dataset, head: at.head, features: at.features, fraction: at.fraction, shots: at.shots),
                            train: at.trainSubgroup)
            if !cells.contains(cell) { cells.append(cell) }
        }
        var entries: [ReportIndex.FigureEntry] = []
        for cell in cells {
            let members = rows.filter {
                let at = $0.coordinates
                return at.dataset == cell.figure.dataset && at.head == cell.figure.head && at.features == cell.figure.features
                    && at.fraction == cell.figure.fraction && at.shots == cell.figure.shots && at.trainSubgroup == cell.train
            }
            var lines: [(backbone: String, seed: Int?)] = []
            for row in members where !lines.contains(where: { $0.backbone == row.coordinates.backbone && $0.seed == row.coordinates.seed }) {
                lines.append((row.coordinates.backbone, row.coordinates.seed))
            }
            lines.sort { (figure.backboneOrder.firstIndex(of: $0.backbone) ?? Int.max, $0.seed ?? -1)
                < (figure.backboneOrder.firstIndex(of: $1.backbone) ?? Int.max, $1.seed ?? -1) }
            var validation: [LineChart.Series] = [], losses: [LineChart.Series] = []
            for line in lines {
                let epochs = members.filter { $0.coordinates.backbone == line.backbone && $0.coordinates.seed == line.seed }.sorted { $0.epoch < $1.epoch }
                let name = vocabularyName(line.backbone)
                validation.append(LineChart.Series(name: name, points: epochs.map { LineChart.Point(x: Double($0.epoch), y: $0.validationValue) },
                                                   highlighted: epochs.filter(\.isBest).map { LineChart.Point(x: Double($0.epoch), y: $0.validationValue) }))
                losses.append(LineChart.Series(name: name, points: epochs.map { LineChart.Point(x: Double($0.epoch), y: $0.validationLoss) }))
                losses.append(LineChart.Series(name: name, points: epochs.map { LineChart.Point(x: Double($0.epoch), y: $0.trainingLoss) }, dashed: true))
            }
            let metric = members[0].validationMetric == "auroc" ? "macro AUROC" : members[0].validationMetric
            let allCells = cells.map(\.figure)
            let details = cell.figure.parts(among: allCells) + (Set(cells.map(\.train)).count > 1 ? ["train \(cell.train)"] : [])
            let title = (figure.caption ?? "Training curves: \(figure.task)") + (details.isEmpty ? "" : " — " + details.joined(separator: ", "))
            let chart = LineChart(title: title, panels: [
                LineChart.Panel(title: "Validation \(metric)", xLabel: "epoch", yLabel: metric, series: validation),
                LineChart.Panel(title: "Loss", xLabel: "epoch", yLabel: "loss", series: losses),
            ], footnotes: ["One line per seed; circle: the kept epoch (best validation score); loss: validation solid, training dashed"])
            let file = figureFile(figure.name, details)
            try writeText(chart.svg(), to: folder.appendingPathComponent(file))
            entries.append(ReportIndex.FigureEntry(experiment: experiment, file: file,
                                                   caption: "\(title): validation \(metric) and losses per epoch, per backbone"))
        }
        return (entries, [])
    }

    /// `NAME-detail-detail.svg`, with `10%` written `10pct`.
    func figureFile(_ name: String, _ details: [String]) -> String {
        fileStem(([name] + details).joined(separator: "-").replacingOccurrences(of: "%", with: "pct")) + ".svg"
    }

    /// A backbone's display name (the raw name when the figure has no vocabulary).
    func vocabularyName(_ backbone: String) -> String { vocabulary?.name(.backbone, backbone) ?? backbone }
}
