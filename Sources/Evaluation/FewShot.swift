import Random

/// Training rows of one kind that a few-shot draw takes its shots from: the positives or the
/// negatives of a binary label, or the samples of one class of a multi-class label.
public struct FewShotGroup: Sendable, Equatable {
    /// What the rows are (`nodule=1`, `anatomy=hand`), for messages.
    public var name: String
    /// Manifest row indices of the group's training samples.
    public var rows: [Int]

    /// Creates a group.
    public init(name: String, rows: [Int]) {
        self.name = name
        self.rows = rows
    }
}

/// A few-shot training set: `shots` samples of every group, each from a patient no other drawn
/// sample has (so the draw is patient-disjoint within itself, as the split around it is from
/// validation and test).
///
/// Groups are served in order; each group's rows are shuffled by
/// `SeededGenerator(seed: seed, stream: stableHash("few-shot"))` (one generator for the whole
/// draw) and taken in that order, skipping rows of patients already drawn. A row may serve
/// several groups (a sample positive for two labels counts for both), so multi-label draws can
/// hold fewer than `groups × shots` rows.
///
/// - Parameters:
///   - groups: the groups, in a fixed order (labels, then classes).
///   - patientIDs: the patient of every manifest row.
///   - shots: samples per group, at least 1.
///   - seed: the draw's seed (the cell's seed: a different seed is a different episode).
/// - Returns: the drawn rows, ascending.
/// - Throws: `EvaluationError.insufficientShots` when a group has fewer than `shots` rows of
///   patients not drawn already; `.invalidParameter` for `shots < 1`.
public func drawFewShot(groups: [FewShotGroup], patientIDs: [String], shots: Int, seed: UInt64) throws -> [Int] {
    guard shots >= 1 else { throw EvaluationError.invalidParameter(name: "shots", value: "\(shots)", reason: "must be at least 1") }
    var generator = SeededGenerator(seed: seed, stream: stableHash("few-shot"))
    var drawn = Set<Int>(), usedPatients = Set<String>()
    for group in groups {
        var candidates = group.rows
        generator.shuffle(&candidates)
        // Rows drawn for an earlier group count for this one too.
        var taken = candidates.filter(drawn.contains).count
        for row in candidates where taken < shots && !drawn.contains(row) && !usedPatients.contains(patientIDs[row]) {
            drawn.insert(row)
            usedPatients.insert(patientIDs[row])
            taken += 1
        }
        guard taken >= shots else {
            throw EvaluationError.insufficientShots(group: group.name, available: taken, shots: shots)
        }
    }
    return drawn.sorted()
}
