import Engine
import Foundation
import Pipeline
import Results
import Testing

/// A tiny spec through the real runners: 72 phantoms of 64², a pixels floor and a random ViT at
/// 28², retrieval, probes and fairness.
let tinySpec = """
    experiment: runners-e2e
    backbones:
      pixels: {kind: pixels, size: 8}
      vit-tiny-random: {kind: vit-tiny-random, seed: 0, resolution: 28}
    datasets:
      phantom: {kind: phantom, count: 72, seed: 5, size: 64}
    heads:
      quick: {kind: mlp, hidden: [16], max_epochs: 6, early_stop_patience: 3}
    tasks:
      - name: retrieval-anatomy
        kind: retrieval
        k: [5, 500]
        relevance: anatomy
        matrix: {backbone: [pixels, vit-tiny-random], dataset: [phantom], features: [cls, mean]}
      - name: view
        kind: classification
        labels: [view]
        target: multiclass
        metric: [mcc, accuracy]
        matrix: {backbone: [pixels, vit-tiny-random], dataset: [phantom], head: [quick, linear], fraction: [0.5, 1.0], seed: [0, 1]}
      - name: findings
        kind: classification
        labels: [nodule, effusion, cardiomegaly]
        metric: auroc
        matrix: {backbone: [pixels, vit-tiny-random], dataset: [phantom], head: [quick], features: [cls+mean]}
      - name: fairness-sex
        kind: fairness
        labels: [marker]
        bootstrap: {replicates: 30, seed: 1}
        matrix: {backbone: [pixels, vit-tiny-random], dataset: [phantom], head: [quick], train: [male, female, all], test: [male, female]}
    """

@Suite struct RunnersEndToEndTests {
    @Test func tinySpecRunsEndToEndAndRerunsFromTheCache() throws {
        let project = try RunnersProject()
        let first = try project.run(tinySpec)
        #expect(first.failures.map(\.message) == [])
        #expect(first.status == .succeeded && first.executed == first.totalStages && first.cached == 0)

        // Retrieval: P@5 for both backbones and both feature kinds, P@500 explained, not invented.
        let precision = try project.query("SELECT value FROM result WHERE metric = 'precision@5'").rows.compactMap { $0[0].doubleValue }
        #expect(precision.count == 4 && precision.allSatisfy { (0...1).contains($0) })
        // A relevant neighbour beats chance (about 1/6 for six anatomies) for the pixel floor.
        #expect(try project.number("SELECT value FROM result WHERE metric = 'precision@5' AND backbone = 'pixels' AND features = 'cls'") > 0.3)
        #expect(try project.number("SELECT count(*) FROM result WHERE metric = 'precision@500' AND value IS NULL AND note LIKE '%exceeds%'") == 4)

        // Probes: 2 backbones × 2 heads × 2 fractions × 2 seeds, MCC and accuracy each.
        #expect(try project.number("SELECT count(*) FROM result WHERE task = 'view' AND metric = 'mcc'") == 16)
        let mcc = try project.query("SELECT value FROM result WHERE task = 'view' AND metric = 'mcc'").rows.compactMap { $0[0].doubleValue }
        #expect(mcc.count == 16 && mcc.allSatisfy { (-1...1).contains($0) })
        let accuracy = try project.query("SELECT value FROM result WHERE task = 'view' AND metric = 'accuracy'").rows.compactMap { $0[0].doubleValue }
        #expect(accuracy.count == 16 && accuracy.allSatisfy { (0...1).contains($0) })
        // Findings: three labels and their mean per backbone; AUROC in [0, 1] where computable.
        #expect(try project.number("SELECT count(*) FROM result WHERE task = 'findings' AND label = ''") == 2)
        let auroc = try project.query("SELECT value FROM result WHERE task = 'findings' AND value IS NOT NULL").rows.compactMap { $0[0].doubleValue }
        #expect(!auroc.isEmpty && auroc.allSatisfy { (0...1).contains($0) })

        // Every missing value is explained; nothing is NaN.
        #expect(try project.number("SELECT count(*) FROM result WHERE value IS NULL AND (note IS NULL OR note = '')") == 0)
        let values = try project.query("SELECT value FROM result WHERE value IS NOT NULL").rows.compactMap { $0[0].doubleValue }
        #expect(values.allSatisfy { $0.isFinite })

        // Fairness: 30 replicates per (backbone, train, test) whose test subgroup is computable,
        // and a test or an explained row per comparison (3 pairs × 2 test subgroups × 2 backbones).
        let replicates = try project.number("SELECT count(*) FROM bootstrap_replicate")
        #expect(replicates > 0 && replicates.truncatingRemainder(dividingBy: 30) == 0)
        let tests = try project.number("SELECT count(*) FROM statistical_test")
        let unexplained = try project.number("SELECT count(*) FROM result WHERE metric = 'mann-whitney-u'")
        #expect(tests + unexplained == 12)
        let pValues = try project.query("SELECT p_value FROM statistical_test").rows.compactMap { $0[0].doubleValue }
        #expect(pValues.allSatisfy { (0...1).contains($0) })

        // Splits are shared: one split stage per (fraction, seed, training subgroup) whatever the
        // backbone, and both backbones are scored on the same test samples.
        #expect(try project.number("SELECT count(*) FROM stage_execution WHERE kind = 'split'") == 8)
        for task in ["view", "fairness-sex"] {
            let sql = { (backbone: String) in
                "SELECT DISTINCT r.fraction || '/' || r.seed || '/' || r.train_subgroup || '/' || r.test_subgroup || '/' || p.sample_id "
                    + "FROM prediction p JOIN result r ON r.stage_key = p.stage_key WHERE r.task = '\(task)' AND r.backbone = '\(backbone)' ORDER BY 1"
            }
            let pixels = try project.strings(sql("pixels")), transformer = try project.strings(sql("vit-tiny-random"))
            #expect(!pixels.isEmpty && pixels == transformer, "\(task): test samples differ between backbones")
        }

        // A second run computes nothing and adds no rows.
        let counts = try ["result", "bootstrap_replicate", "statistical_test", "prediction"].map { try project.number("SELECT count(*) FROM \($0)") }
        let second = try project.run(tinySpec)
        #expect(second.executed == 0 && second.cached == first.totalStages && second.status == .succeeded)
        let after = try ["result", "bootstrap_replicate", "statistical_test", "prediction"].map { try project.number("SELECT count(*) FROM \($0)") }
        #expect(after == counts)
    }
}
