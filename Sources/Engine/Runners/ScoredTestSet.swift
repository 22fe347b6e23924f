import Datasets
import Evaluation
import Foundation
import Pipeline

/// A probe's test predictions restricted to one test subgroup (and averaged per study when the
/// task says so): what `metric` and `bootstrap` stages score.
struct ScoredTestSet: Sendable {
    /// Sample ids (study ids after aggregation).
    var ids: [String] = []
    /// The patient of each row, for patient-level bootstrap resampling.
    var patients: [String] = []
    /// Output names (trained labels, or classes).
    var outputs: [String] = []
    /// Row-major `[rows, outputs]`.
    var scores: [Double] = []
    /// Row-major `[rows, outputs]`, nil where unknown.
    var targets: [Double?] = []
    var multiclass = false
    /// The task's labels, untrained ones included.
    var labels: [String] = []
    var untrainable: [String: String] = [:]
    /// Why nothing can be scored.
    var notComputable: String?

    var count: Int { ids.count }

    /// Rows with at least one known truth (what a mean over labels is computed on).
    var rowsWithAnyTarget: Int {
        let width = outputs.count
        return (0..<count).filter { row in (0..<width).contains { targets[row * width + $0] != nil } }.count
    }

    /// The coordinate label of a task-level value: the label itself for one label, `mean` for several.
    var summaryLabel: String { labels.count == 1 ? labels[0] : "mean" }

    /// Builds the set from a probe artifact and the manifest.
    /// - Throws: `RunnerError.artifact` when the probe's test samples are not the manifest's.
    init(probe: ProbeArtifact, manifest: Manifest, testFilter: Pipeline.SubgroupFilter, aggregate: Aggregation, stage: String) throws {
        labels = probe.labels
        untrainable = probe.untrainable
        multiclass = probe.isMulticlass
        outputs = probe.outputs
        if let reason = probe.notComputable {
            notComputable = reason
            return
        }
        let filter = try Subgroups.filter(testFilter, stage: stage)
        let width = outputs.count
        var kept: [Int] = []
        for (position, index) in probe.testIndices.enumerated() {
            guard index < manifest.samples.count, manifest.samples[index].id == probe.testIDs[position] else {
                throw RunnerError.artifact(path: "probe of \(stage)", problem: "test sample \(probe.testIDs[position]) is not row \(index) of the manifest")
            }
            let sample = manifest.samples[index]
            if try filter.matches(Subgroups.attributes(of: sample), sampleID: sample.id) { kept.append(position) }
        }
        guard !kept.isEmpty else {
            notComputable = "test subgroup \(testFilter.name) has no sample in the test set (\(probe.testIndices.count) samples)"
            return
        }
        switch aggregate {
        case .none:
            for position in kept {
                let sample = manifest.samples[probe.testIndices[position]]
                ids.append(sample.id)
                patients.append(sample.patientID)
                scores += probe.scores[(position * width)..<((position + 1) * width)]
                targets += probe.targets[(position * width)..<((position + 1) * width)]
            }
        case .study:
            // Mean image probability per study; a study is positive when any image is.
            var order: [String] = []
            var groups: [String: [Int]] = [:]
            for position in kept {
                let study = manifest.samples[probe.testIndices[position]].studyID
                if groups[study] == nil { order.append(study) }
                groups[study, default: []].append(position)
            }
            for study in order {
                let members = groups[study]!
                ids.append(study)
                patients.append(manifest.samples[probe.testIndices[members[0]]].patientID)
                for output in 0..<width {
                    scores.append(members.reduce(0) { $0 + probe.scores[$1 * width + output] } / Double(members.count))
                    let known = members.compactMap { probe.targets[$0 * width + output] }
                    targets.append(known.isEmpty ? nil : known.max())
                }
            }
        }
    }

    /// Rows (with repeats, for a bootstrap replicate) and output `output` where the truth is known.
    private func pairs(_ rows: [Int], output: Int) -> (targets: [Double], scores: [Double]) {
        var truth: [Double] = [], score: [Double] = []
        let width = outputs.count
        for row in rows {
            if let target = targets[row * width + output] {
                truth.append(target)
                score.append(scores[row * width + output])
            }
        }
        return (truth, score)
    }

    /// One value per trained label (multi-label), or one value for the task's label (multi-class),
    /// with the number of samples it was computed on.
    func perLabel(_ metric: Metric, rows: [Int]) -> [(label: String, value: MetricValue, count: Int)] {
        if multiclass { return [(labels[0], multiclassValue(metric, rows: rows), knownRows(rows).count)] }
        return outputs.indices.map { output in
            let (truth, score) = pairs(rows, output: output)
            return (outputs[output], binaryValue(metric, targets: truth, scores: score, label: outputs[output]), truth.count)
        }
    }

    /// The task-level value: the multi-class value, or the mean over the computable labels.
    func summary(_ metric: Metric, rows: [Int]) -> MetricValue {
        let values = perLabel(metric, rows: rows)
        if multiclass || values.count == 1 { return values[0].value }
        let computable = values.compactMap(\.value.value)
        guard !computable.isEmpty else { return .notComputable(reason: "no label has a computable \(metric.rawValue)") }
        return .value(computable.reduce(0, +) / Double(computable.count))
    }

    private func knownRows(_ rows: [Int]) -> [Int] {
        rows.filter { targets[$0 * outputs.count] != nil }
    }

    private func binaryValue(_ metric: Metric, targets truth: [Double], scores score: [Double], label: String) -> MetricValue {
        guard !truth.isEmpty else { return .notComputable(reason: "no test sample has a known \(label)") }
        do {
            switch metric {
            case .auroc:
                return try rocAUC(targets: truth, scores: score, label: label)
            case .mcc, .accuracy:
                let expected = truth.map { Int($0) }, predicted = score.map { $0 >= 0.5 ? 1 : 0 }
                return .value(metric == .mcc ? try matthewsCorrelation(targets: expected, predictions: predicted, classCount: 2)
                                             : try accuracy(targets: expected, predictions: predicted, classCount: 2))
            }
        } catch {
            return .notComputable(reason: "\(error)")
        }
    }

    private func multiclassValue(_ metric: Metric, rows: [Int]) -> MetricValue {
        let known = knownRows(rows)
        guard !known.isEmpty else { return .notComputable(reason: "no test sample has a known \(labels[0])") }
        let width = outputs.count
        do {
            switch metric {
            case .auroc:
                let oneHot = known.flatMap { row in (0..<width).map { targets[row * width + $0]! } }
                let rowScores = known.flatMap { row in scores[(row * width)..<((row + 1) * width)] }
                let report = try rocAUC(targets: oneHot, scores: rowScores, labels: outputs)
                return report.macro
            case .mcc, .accuracy:
                let expected = known.map { row in (0..<width).first { targets[row * width + $0] == 1 }! }
                let predicted = known.map { row in
                    (0..<width).max { (scores[row * width + $0], -$0) < (scores[row * width + $1], -$1) }!
                }
                return .value(metric == .mcc ? try matthewsCorrelation(targets: expected, predictions: predicted, classCount: width)
                                             : try accuracy(targets: expected, predictions: predicted, classCount: width))
            }
        } catch {
            return .notComputable(reason: "\(error)")
        }
    }
}
