import Foundation

/// The cell of a training curve: everything but the backbone and the seed.
public struct CurveCell: Sendable, Hashable {
    public var task: String, dataset: String, head: String, features: String
    public var fraction: Double?, shots: Int?
    public var trainSubgroup: String

    init(_ coordinates: ResultCoordinates) {
        task = coordinates.task
        dataset = coordinates.dataset
        head = coordinates.head
        features = coordinates.features
        fraction = coordinates.fraction
        shots = coordinates.shots
        trainSubgroup = coordinates.trainSubgroup
    }
}

/// How many epochs one backbone needed, in one cell and seed, to reach the reference backbone's
/// best validation score.
///
/// Convergence speedup (defined here once; docs/RESULTS.md repeats it): in a cell (task,
/// dataset, head, features, fraction or shots, training subgroup) and seed, every backbone is
/// trained on the same split and scored on the same validation set by the same criterion. The
/// threshold τ is the reference backbone's best validation score; the reference reaches it at
/// its best epoch E_ref (the first epoch with that score). A backbone converges at the first
/// epoch E with a validation score ≥ τ; its speedup is E_ref / E. A backbone that never reaches
/// τ within the epochs it ran (early stopping included) has not converged: it has no speedup.
public struct ConvergenceOutcome: Sendable, Hashable {
    /// The cell.
    public var cell: CurveCell
    /// The seed (an episode for few-shot cells).
    public var seed: Int?
    /// The backbone.
    public var backbone: String
    /// The criterion (`auroc`, `negative-loss`) and the threshold τ on it.
    public var validationMetric: String
    public var threshold: Double
    /// E_ref: the reference's first epoch at τ.
    public var referenceEpochs: Int
    /// E: this backbone's first epoch at or above τ; nil when it never got there.
    public var epochs: Int?
    /// Epochs this backbone ran.
    public var epochsRun: Int

    /// `E_ref / E`, nil when not converged.
    public var speedup: Double? { epochs.map { Double(referenceEpochs) / Double($0) } }
}

/// Convergence outcomes from recorded training curves.
public enum ConvergenceAnalysis {
    /// Every (cell, seed, backbone) outcome against `reference`, in the order the curves were
    /// recorded; notes say which cells could not be compared (no reference curve, another criterion).
    public static func outcomes(_ curves: [TrainingCurveRow], reference: String) -> (outcomes: [ConvergenceOutcome], notes: [String]) {
        struct Key: Hashable {
            var cell: CurveCell
            var seed: Int?
        }
        var order: [Key] = []
        var backboneOrder: [Key: [String]] = [:]
        var epochs: [Key: [String: [TrainingCurveRow]]] = [:]
        for row in curves {
            let key = Key(cell: CurveCell(row.coordinates), seed: row.coordinates.seed)
            if epochs[key] == nil { order.append(key) }
            if epochs[key]?[row.coordinates.backbone] == nil { backboneOrder[key, default: []].append(row.coordinates.backbone) }
            epochs[key, default: [:]][row.coordinates.backbone, default: []].append(row)
        }
        var outcomes: [ConvergenceOutcome] = []
        var notes: [String] = []
        for key in order {
            let byBackbone = epochs[key]!.mapValues { $0.sorted { $0.epoch < $1.epoch } }
            let place = "\(key.cell.task) \(key.cell.dataset) \(key.cell.head) seed \(key.seed.map(String.init) ?? "–")"
            guard let referenceCurve = byBackbone[reference], let best = referenceCurve.map(\.validationValue).max(),
                  let referenceEpoch = referenceCurve.first(where: { $0.validationValue >= best })?.epoch else {
                notes.append("\(place): no training curve of the reference backbone \(reference); not compared")
                continue
            }
            let metric = referenceCurve[0].validationMetric
            for backbone in backboneOrder[key] ?? [] {
                let curve = byBackbone[backbone]!
                guard curve[0].validationMetric == metric else {
                    notes.append("\(place): \(backbone) was selected by \(curve[0].validationMetric), the reference by \(metric); not compared")
                    continue
                }
                outcomes.append(ConvergenceOutcome(cell: key.cell, seed: key.seed, backbone: backbone, validationMetric: metric,
                                                   threshold: best, referenceEpochs: referenceEpoch,
                                                   epochs: curve.first { $0.validationValue >= best }?.epoch, epochsRun: curve.count))
            }
        }
        return (outcomes, notes)
    }
}

/// A convergence table to build: which experiment and tasks, the reference backbone and the layout.
public struct ConvergenceRequest: Sendable, Hashable {
    /// File stem.
    public var name: String
    /// The experiment and its tasks.
    public var experiment: String, tasks: [String]
    /// The reference backbone.
    public var reference: String
    /// Coordinates down the rows (usually `backbone`) and across the columns.
    public var rows: [ReportCoordinate], columns: [ReportCoordinate]
    /// The caption; a description when nil.
    public var caption: String?
    /// Declared value orders and display names.
    public var valueOrder: [ReportCoordinate: [String]]
    public var vocabulary: ReportVocabulary

    /// Creates a request.
    public init(name: String, experiment: String, tasks: [String], reference: String, rows: [ReportCoordinate] = [.backbone],
                columns: [ReportCoordinate] = [.task, .fraction], caption: String? = nil,
                valueOrder: [ReportCoordinate: [String]] = [:], vocabulary: ReportVocabulary = ReportVocabulary()) {
        self.name = name
        self.experiment = experiment
        self.tasks = tasks
        self.reference = reference
        self.rows = rows
        self.columns = columns
        self.caption = caption
        self.valueOrder = valueOrder
        self.vocabulary = vocabulary
    }

    /// The caption printed above the table and the figure.
    var title: String {
        caption ?? "Convergence speedup against \(vocabulary.name(.backbone, reference)): \(tasks.joined(separator: ", "))"
    }
}

extension ResultReader {
    /// A convergence table (and its figure) from `latest_training_curve` alone.
    /// - Throws: `ResultsError.invalidTableInput` when the tasks recorded no training curves;
    ///   `ResultsError.readFailed`.
    public func convergenceTable(_ request: ConvergenceRequest) throws -> ConvergenceTable {
        let curves = try trainingCurves(experiment: request.experiment, tasks: request.tasks)
        guard !curves.isEmpty else {
            throw ResultsError.invalidTableInput(reason: "table \(request.name): no training curves for experiment \(request.experiment), "
                + "tasks \(request.tasks.joined(separator: ", ")) in \(path.path); only trained heads (mlp, linear) record them")
        }
        let (outcomes, notes) = ConvergenceAnalysis.outcomes(curves, reference: request.reference)
        return ConvergenceTable(request: request, outcomes: outcomes, notes: notes)
    }
}
