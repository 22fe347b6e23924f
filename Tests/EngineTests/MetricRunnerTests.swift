import Engine
import Foundation
import Pipeline
import Results
import Testing

/// The `metric` and `bootstrap` runners from a spec: metric names resolve through the catalog,
/// AUPRC and balanced accuracy included, at image and study level.
@Suite struct MetricRunnerTests {
    static let sampleCount = 96

    /// Two images per study, two studies per patient; the finding belongs to the study.
    /// Embeddings overlap between the classes, so no metric is trivially 1.
    func makeProject() throws -> RunnersProject {
        let project = try RunnersProject()
        var csv = "path,patient,study,finding\n"
        var values: [Float] = []
        for sample in 0..<Self.sampleCount {
            let study = sample / 2, finding = (study * 5 / 3) % 2
            csv += "images/\(sample).png,p\(study / 2),s\(study),\(finding)\n"
            values += [Float(finding == 1 ? 0.5 : -0.5) + Float(sin(Double(sample) * 1.7)), Float(cos(Double(sample) * 0.9)), 1]
        }
        try project.write(csv, to: "data/labels.csv")
        try numPyData(rows: Self.sampleCount, columns: 3, values: values).write(to: project.folder.appendingPathComponent("data/embeddings.npy"))
        try project.write((0..<Self.sampleCount).map { "images/\($0).png" }.joined(separator: "\n") + "\n", to: "data/ids.txt")
        return project
    }

    static let spec = """
        experiment: metrics
        backbones:
          elsewhere: {kind: precomputed, embeddings: data/embeddings.npy, ids: data/ids.txt}
        datasets:
          table: {kind: csv, manifest: data/labels.csv, image_column: path, patient_column: patient, study_column: study, label_columns: [finding]}
        heads:
          quick: {kind: linear, max_epochs: 30, learning_rate: 0.05}
        tasks:
          - name: images
            kind: classification
            labels: [finding]
            metric: [auprc, balanced-accuracy, auroc]
            split: {validation: 0.2, test: 0.4}
            matrix: {backbone: [elsewhere], dataset: [table], head: [quick]}
          - name: studies
            kind: classification
            labels: [finding]
            metric: [auprc, balanced-accuracy]
            aggregate: study
            split: {validation: 0.2, test: 0.4}
            matrix: {backbone: [elsewhere], dataset: [table], head: [quick]}
          - name: fair
            kind: fairness
            labels: [finding]
            metric: auprc
            bootstrap: {replicates: 20, seed: 3}
            split: {validation: 0.2, test: 0.4}
            matrix: {backbone: [elsewhere], dataset: [table], head: [quick], train: [all], test: [all]}
        """

    /// Average precision by its definition: the mean over positives of the precision among the
    /// samples scoring at least as high (sklearn's step integral, ties as one threshold).
    func averagePrecision(_ pairs: [(score: Double, target: Double)]) -> Double {
        let positives = pairs.filter { $0.target == 1 }
        return positives.reduce(0) { sum, positive in
            let above = pairs.filter { $0.score >= positive.score }
            return sum + Double(above.filter { $0.target == 1 }.count) / Double(above.count)
        } / Double(positives.count)
    }

    func predictions(_ project: RunnersProject, task: String) throws -> [(score: Double, target: Double)] {
        try project.query("""
            SELECT DISTINCT p.sample_id, p.score, p.target FROM prediction p JOIN result r ON r.stage_key = p.stage_key
            WHERE r.task = '\(task)' ORDER BY p.sample_id
            """).rows.map { ($0[1].doubleValue!, $0[2].doubleValue!) }
    }

    @Test func auprcAndBalancedAccuracyRunFromASpec() throws {
        let project = try makeProject()
        let report = try project.run(Self.spec)
        #expect(report.failures.map(\.message) == [] && report.status == .succeeded)
        for task in ["images", "studies"] {
            let pairs = try predictions(project, task: task)
            #expect(pairs.contains { $0.target == 1 } && pairs.contains { $0.target == 0 })
            let auprc = try project.number("SELECT value FROM result WHERE task = '\(task)' AND metric = 'auprc'")
            #expect(abs(auprc - averagePrecision(pairs)) < 1e-12, "\(task)")
            #expect(auprc < 1)
            let positives = pairs.filter { $0.target == 1 }, negatives = pairs.filter { $0.target == 0 }
            let positiveRecall = Double(positives.filter { $0.score >= 0.5 }.count) / Double(positives.count)
            let negativeRecall = Double(negatives.filter { $0.score < 0.5 }.count) / Double(negatives.count)
            let balanced = (positiveRecall + negativeRecall) / 2
            #expect(abs(try project.number("SELECT value FROM result WHERE task = '\(task)' AND metric = 'balanced-accuracy'") - balanced) < 1e-12)
            let counts = try project.number("SELECT min(n) = max(n) AND min(n) = \(pairs.count) FROM result WHERE task = '\(task)'")
            #expect(counts == 1, "\(task): every row counts the \(pairs.count) scored samples")
        }
        // Study level: one prediction per study, half the images.
        #expect(try predictions(project, task: "studies").count * 2 == predictions(project, task: "images").count)

        // Fairness bootstraps its (first) metric under its own name.
        #expect(try project.number("SELECT count(*) FROM bootstrap_replicate WHERE task = 'fair' AND metric = 'auprc'") == 20)
        let low = try project.number("SELECT value FROM result WHERE task = 'fair' AND metric = 'auprc-ci-low'")
        let high = try project.number("SELECT value FROM result WHERE task = 'fair' AND metric = 'auprc-ci-high'")
        #expect(0 < low && low <= high && high <= 1)
    }
}
