import Engine
import Evaluation
import Foundation
import Pipeline
import Results
import Testing

/// Paired tests, calibration metrics, the k-NN head, few-shot cells and training curves through
/// the real runners, on 120 phantoms and two pixel backbones.
let comparisonSpec = """
    experiment: comparisons-e2e
    backbones:
      pixels: {kind: pixels, size: 8}
      pixels16: {kind: pixels, size: 16}
    datasets:
      phantom: {kind: phantom, count: 120, seed: 5, size: 64}
    heads:
      quick: {kind: mlp, hidden: [16], max_epochs: 6, early_stop_patience: 3}
      knn5: {kind: knn, k: 5}
    tasks:
      - name: marker
        kind: classification
        labels: [marker]
        metric: [auroc, ece, brier, nll]
        compare: {against: pixels, test: delong}
        matrix: {backbone: [pixels, pixels16], dataset: [phantom], head: [quick, knn5]}
      - name: anatomy
        kind: classification
        labels: [anatomy]
        target: multiclass
        metric: [mcc, adaptive-ece]
        compare: {against: all, test: paired-bootstrap, replicates: 40}
        matrix: {backbone: [pixels, pixels16], dataset: [phantom], head: [quick]}
      - name: few
        kind: classification
        labels: [anatomy]
        target: multiclass
        metric: mcc
        tries: 2
        matrix: {backbone: [pixels], dataset: [phantom], head: [knn5, quick], shots: [1, 2]}
    """

@Suite struct ComparisonRunnersTests {
    @Test func comparisonsCalibrationNearestNeighboursFewShotAndCurvesRunEndToEnd() throws {
        let project = try RunnersProject()
        let report = try project.run(comparisonSpec)
        #expect(report.failures.map(\.message) == [])
        #expect(report.status == .succeeded)

        // DeLong per head: pixels16 against pixels on the marker label; the recorded p-value is
        // the one the recorded predictions give.
        let deLong = try project.query("""
            SELECT head, group1, group2, statistic, p_value, effect_size, ci_low, ci_high, holm_p_value, n1, method
            FROM statistical_test WHERE test_name = 'delong' ORDER BY head
            """).rows
        #expect(deLong.count == 2)
        for row in deLong {
            #expect(row[1] == .text("pixels16") && row[2] == .text("pixels") && row[10] == .text("asymptotic"))
            let (low, effect, high) = (row[6].doubleValue!, row[5].doubleValue!, row[7].doubleValue!)
            #expect(low <= effect && effect <= high && row[8].doubleValue! >= row[4].doubleValue!)
            guard case .text(let head) = row[0] else { continue }
            func predictions(_ backbone: String) throws -> [(String, Double, Double)] {
                try project.query("""
                    SELECT p.sample_id, p.score, p.target FROM prediction p JOIN result r ON r.stage_key = p.stage_key
                    WHERE r.task = 'marker' AND r.metric = 'auroc' AND r.backbone = '\(backbone)' AND r.head = '\(head)' ORDER BY p.sample_id
                    """).rows.map { ($0[0].textValue!, $0[1].doubleValue!, $0[2].doubleValue!) }
            }
            let first = try predictions("pixels16"), second = try predictions("pixels")
            #expect(first.map(\.0) == second.map(\.0) && Double(first.count) == row[9].doubleValue)
            guard case .tested(let expected) = try delongTest(targets: first.map(\.2), firstScores: first.map(\.1),
                                                              secondScores: second.map(\.1)) else {
                Issue.record("DeLong not computable on the recorded predictions")
                continue
            }
            #expect(abs(expected.pValue - row[4].doubleValue!) <= 1e-12 && abs(expected.z - row[3].doubleValue!) <= 1e-12)
        }

        // Paired bootstrap of both anatomy metrics; differences and intervals recorded.
        let bootstrap = try project.query("""
            SELECT metric, replicates, method, ci_low, ci_high, holm_p_value FROM statistical_test
            WHERE test_name = 'paired-bootstrap' ORDER BY metric
            """).rows
        #expect(bootstrap.map { $0[0] } == [.text("adaptive-ece"), .text("mcc")])
        #expect(bootstrap.allSatisfy { ($0[1].doubleValue ?? 0) > 0 && ($0[1].doubleValue ?? 99) <= 40 && $0[2] == .text("bootstrap") })
        #expect(bootstrap.allSatisfy { $0[3].doubleValue! <= $0[4].doubleValue! && $0[5].doubleValue != nil })

        // Calibration metrics are ordinary results.
        for metric in ["ece", "brier", "nll", "adaptive-ece"] {
            let values = try project.query("SELECT value FROM result WHERE metric = '\(metric)'").rows.compactMap { $0[0].doubleValue }
            #expect(!values.isEmpty && values.allSatisfy { $0 >= 0 && $0.isFinite }, "\(metric): \(values)")
        }

        // The k-NN head scores like any head and records no curve; trained heads record one,
        // with exactly one kept epoch per probe.
        #expect(try project.number("SELECT count(*) FROM result WHERE head = 'knn5' AND task = 'marker' AND metric = 'auroc' AND value IS NOT NULL") == 2)
        #expect(try project.number("SELECT count(*) FROM training_curve WHERE head = 'knn5'") == 0)
        let curves = try project.query("""
            SELECT task, backbone, head, fraction, seed, shots, count(*), sum(is_best), min(epoch), max(epoch)
            FROM training_curve GROUP BY task, backbone, head, fraction, seed, shots
            """).rows
        // marker: 2 backbones; anatomy: 2; few: 2 shots × 2 tries.
        #expect(curves.count == 8)
        #expect(curves.allSatisfy { $0[7] == .integer(1) && $0[8] == .integer(1) && $0[6] == $0[9] })

        // Few-shot: shots × tries per head, no fraction; tries are the seeds 0 and 1.
        let few = try project.query("SELECT DISTINCT head, shots, seed, fraction FROM result WHERE task = 'few' ORDER BY 1, 2, 3").rows
        #expect(few.count == 8 && few.allSatisfy { $0[3] == .null })
        #expect(Set(few.map { $0[2] }) == [.integer(0), .integer(1)])
        let fewMCC = try project.query("SELECT value FROM result WHERE task = 'few' AND metric = 'mcc'").rows.compactMap { $0[0].doubleValue }
        #expect(fewMCC.count == 8 && fewMCC.allSatisfy { (-1...1).contains($0) })
    }
}
