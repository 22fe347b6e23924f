import Foundation

/// Marks a table cell can carry besides bold and underline.
public struct CellMarks: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// † — not significantly different from the column's best cell: every paired test between
    /// the two cells' values (one per seed) has a p-value of at least α after correction.
    public static let notSignificantlyDifferent = CellMarks(rawValue: 1)
    /// ‡ — fewer test samples than the table's small-sample threshold behind some value.
    public static let smallSample = CellMarks(rawValue: 2)

    /// The symbols, in a fixed order.
    var symbols: [String] {
        (contains(.notSignificantlyDifferent) ? ["†"] : []) + (contains(.smallSample) ? ["‡"] : [])
    }
}

/// When a table marks the cells not significantly different from their column's best.
public struct SignificanceMarks: Sendable, Hashable {
    /// The level α (default 0.05).
    public var alpha: Double
    /// Whether p-values are Holm-adjusted across every test the table's marks rely on (default).
    public var holm: Bool

    /// Creates the settings.
    public init(alpha: Double = 0.05, holm: Bool = true) {
        precondition(alpha > 0 && alpha < 1, "α must lie in (0, 1)")
        self.alpha = alpha
        self.holm = holm
    }
}

/// A recorded paired test between two backbones (`statistical_test` with
/// `compared_dimension = backbone`), as table marks need it.
struct PairedTestRecord: Sendable, Hashable {
    /// The coordinates both backbones share (`backbone` empty), as a lookup key.
    var cell: CellKey
    var group1: String, group2: String
    var testName: String
    var pValue: Double
    /// Paired bootstrap: the replicates behind the p-value (its resolution is 2/(replicates + 1)).
    var replicates: Int?
}

/// The coordinates of a value other than its backbone: two values with equal keys are the same
/// cell of two backbones, which a paired test can compare.
struct CellKey: Hashable, Sendable {
    var task: String, dataset: String, head: String, features: String
    var fraction: Double?, seed: Int?, shots: Int?
    var trainSubgroup: String, testSubgroup: String, label: String, metric: String

    init(_ row: ReportSourceRow) {
        self.init(task: row.task, dataset: row.dataset, head: row.head, features: row.features, fraction: row.fraction, seed: row.seed,
                  shots: row.shots, trainSubgroup: row.trainSubgroup, testSubgroup: row.testSubgroup, label: row.label, metric: row.metric)
    }

    init(task: String, dataset: String, head: String, features: String, fraction: Double?, seed: Int?, shots: Int?,
         trainSubgroup: String, testSubgroup: String, label: String, metric: String) {
        self.task = task
        self.dataset = dataset
        self.head = head
        self.features = features
        self.fraction = fraction
        self.seed = seed
        self.shots = shots
        self.trainSubgroup = trainSubgroup
        self.testSubgroup = testSubgroup
        // The macro mean is recorded as `` (some stages wrote `mean`).
        self.label = label == "mean" ? "" : label
        self.metric = metric
    }
}

/// Decides which cells of a table are not significantly different from their column's best.
enum SignificanceMarking {
    /// The decision for every cell, and the tests it rested on.
    struct Outcome {
        /// `marked[row][column]`.
        var marked: [[Bool]]
        /// Distinct tests behind the decisions (the Holm family).
        var testCount: Int
        /// Their names (`delong`, `paired-bootstrap`).
        var testNames: [String]
        /// Cells compared with their column's best that had no test for some seed.
        var untested: Int
        /// The fewest replicates behind a bootstrap test of the family, when there is one.
        var fewestReplicates: Int?
    }

    /// For each column, the cells of other rows compared with its best (bold) cell: a cell is
    /// marked when, for each of its values, the best cell has the value of the same seed (same
    /// coordinates but the backbone) and a paired test between the two backbones there exists,
    /// and every such test has p ≥ α after Holm's adjustment across all tests the table uses.
    static func decide(table: SummaryTable, sources: [ReportCellSource], tests: [PairedTestRecord],
                       settings: SignificanceMarks) -> Outcome {
        var byCell: [String: [String: [ReportSourceRow]]] = [:]
        for source in sources where source.source.value != nil {
            byCell[source.rowLabel, default: [:]][source.columnLabel, default: []].append(source.source)
        }
        var testIndex: [CellKey: [Int]] = [:]
        for (index, test) in tests.enumerated() { testIndex[test.cell, default: []].append(index) }
        func test(between first: ReportSourceRow, and second: ReportSourceRow) -> Int? {
            testIndex[CellKey(first)]?.first { index in
                Set([tests[index].group1, tests[index].group2]) == Set([first.backbone, second.backbone])
            }
        }
        var decisions: [[[Int]?]] = table.rows.map { _ in table.columns.map { _ in nil } }
        var untested = 0
        for (column, columnLabel) in table.columns.enumerated() {
            guard let best = table.rows.indices.first(where: { table.ranks[$0][column] == .best }),
                  let bestValues = byCell[table.rows[best]]?[columnLabel] else { continue }
            let bestByKey = Dictionary(bestValues.map { (CellKey($0), $0) }, uniquingKeysWith: { first, _ in first })
            for row in table.rows.indices where row != best && table.ranks[row][column] != .best {
                guard let values = byCell[table.rows[row]]?[columnLabel], !values.isEmpty else { continue }
                var used: [Int] = []
                for value in values {
                    guard let partner = bestByKey[CellKey(value)], partner.backbone != value.backbone,
                          let index = test(between: value, and: partner) else {
                        used = []
                        break
                    }
                    used.append(index)
                }
                if used.isEmpty { untested += 1 } else { decisions[row][column] = used }
            }
        }
        let family = Array(Set(decisions.flatMap { $0.compactMap { $0 }.flatMap { $0 } })).sorted()
        let raw = family.map { tests[$0].pValue }
        let adjusted = settings.holm ? holmAdjustedPValues(raw) : raw
        let adjustedByTest = Dictionary(uniqueKeysWithValues: zip(family, adjusted))
        let marked = decisions.map { row in
            row.map { used in used.map { $0.allSatisfy { (adjustedByTest[$0] ?? 0) >= settings.alpha } } ?? false }
        }
        return Outcome(marked: marked, testCount: family.count, testNames: Array(Set(family.map { tests[$0].testName })).sorted(),
                       untested: untested, fewestReplicates: family.compactMap { tests[$0].replicates }.min())
    }
}

/// Holm–Bonferroni step-down adjustment (`statsmodels.stats.multitest.multipletests(p,
/// method="holm")[1]`): sort ascending, multiply the i-th smallest (0-based) by (m − i), carry the
/// running maximum, cap at 1; returned in input order. The same rule as Evaluation's
/// `holmAdjusted`, which the compare stages use: Results depends on no numerics module.
func holmAdjustedPValues(_ pValues: [Double]) -> [Double] {
    let count = pValues.count
    let order = pValues.indices.sorted { pValues[$0] < pValues[$1] || (pValues[$0] == pValues[$1] && $0 < $1) }
    var adjusted = [Double](repeating: 0, count: count)
    var running = 0.0
    for (rank, index) in order.enumerated() {
        running = max(running, min(1, Double(count - rank) * pValues[index]))
        adjusted[index] = running
    }
    return adjusted
}
