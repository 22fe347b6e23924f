import Foundation
import Testing
import TestSupport

/// `xrbench run` then `xrbench tables` on a small spec with paired tests, calibration, k-NN,
/// few-shot cells and convergence: every new table and figure is written and says what it shows.
@Suite struct ComparisonTablesTests {
    static let spec = """
        experiment: cli-comparisons
        backbones:
          pixels: {kind: pixels, size: 8}
          pixels16: {kind: pixels, size: 16}
        datasets:
          phantom: {kind: phantom, count: 120, seed: 5, size: 64}
        heads:
          quick: {kind: mlp, hidden: [16], max_epochs: 8, early_stop_patience: 3, learning_rate: 1e-3}
        tasks:
          - name: marker
            kind: classification
            labels: [marker]
            metric: [auroc, ece]
            compare: {against: pixels, test: delong}
            matrix: {backbone: [pixels, pixels16], dataset: [phantom], head: [quick, knn], seed: [0, 1]}
          - name: anatomy
            kind: classification
            labels: [anatomy]
            target: multiclass
            metric: mcc
            compare: {against: pixels, test: paired-bootstrap, replicates: 50}
            matrix: {backbone: [pixels, pixels16], dataset: [phantom], head: [quick], seed: [0, 1]}
          - name: few
            kind: classification
            labels: [anatomy]
            target: multiclass
            metric: mcc
            tries: 2
            matrix: {backbone: [pixels, pixels16], dataset: [phantom], head: [knn], shots: [1, 2]}
        tables:
          - {name: marker-auroc, tasks: marker, rows: [backbone, head], columns: label, metric: auroc, show_count: true, significance: {}}
          - {name: anatomy-mcc, tasks: anatomy, rows: backbone, columns: fraction, metric: mcc, significance: {correction: none}}
          - {name: marker-ece, tasks: marker, rows: [backbone, head], columns: fraction, metric: ece}
          - {name: few, tasks: few, rows: backbone, columns: shots, metric: mcc, summary: mean-ci}
          - {name: speed, kind: convergence, reference: pixels, tasks: [marker, anatomy], rows: backbone, columns: [task, fraction]}
        figures:
          - {name: reliability, kind: reliability-diagram, task: marker}
          - {name: curves, kind: training-curves, task: anatomy}
        """

    @Test func comparisonTablesAndFiguresAreRendered() throws {
        let folder = try makeTemporaryDirectory()
        try Self.spec.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", "spec.yaml", "--cache", "cache", "--database", "results.sqlite"], in: folder)
        #expect(run.status == 0, "\(run.output)\n\(run.errorOutput)")
        let tables = try CLI.run(["tables", "--db", "results.sqlite", "--out", "out", "--spec", "spec.yaml"], in: folder)
        #expect(tables.status == 0, "\(tables.errorOutput)")
        func read(_ path: String) throws -> String { try String(contentsOf: folder.appendingPathComponent("out/" + path), encoding: .utf8) }

        // DeLong per label against the column's best; n printed.
        let marker = try read("tables/marker-auroc.md")
        #expect(marker.contains("(n = "), "\(marker)")
        #expect(marker.contains("DeLong tests on the same test samples") || marker.contains("† marks nothing"), "\(marker)")
        // Paired bootstrap of MCC, unadjusted.
        #expect(try read("tables/anatomy-mcc.md").contains("unadjusted"))
        // Calibration: ECE, lower is better.
        #expect(try read("tables/marker-ece.md").hasPrefix("**ECE of cli-comparisons: marker.**"))
        // Few-shot columns.
        let few = try read("tables/few.md")
        #expect(few.contains("| Backbone | 1-shot | 2-shot |"), "\(few)")
        // Convergence table, its CSV and figure.
        let speed = try read("tables/speed.md")
        #expect(speed.contains("| pixels | 1.0× | 1.0× | 1.0× |"), "\(speed)")
        #expect(try read("tables/speed.csv").hasPrefix("row,column,seed,backbone,validation_metric,threshold,reference_epochs,epochs,epochs_run,speedup"))
        #expect(try read("figures/speed.svg").contains("convergence speedup against pixels"))
        // Reliability diagrams per head (marker has one label) and training curves.
        let figures = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("out/figures").path)
        #expect(figures.contains { $0.hasPrefix("reliability-") && $0.contains("knn") }, "\(figures)")
        #expect(figures.contains { $0.hasPrefix("curves") }, "\(figures)")
        let reliability = try read("figures/" + figures.first { $0.hasPrefix("reliability-") }!)
        #expect(reliability.contains("ECE ") && reliability.contains("observed frequency"))
        let index = try read("index.html")
        #expect(index.contains("speed.csv") && !index.contains("speed.explain.csv"))
    }
}
