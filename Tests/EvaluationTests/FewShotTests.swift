import Testing
@testable import Evaluation

@Suite struct FewShotTests {
    /// 40 rows, 20 patients with two images each; class of row r is r % 4.
    let patients = (0..<40).map { "p\($0 / 2)" }
    var groups: [FewShotGroup] { (0..<4).map { c in FewShotGroup(name: "class=\(c)", rows: (0..<40).filter { $0 % 4 == c }) } }

    @Test func drawsShotsPerGroupFromDistinctPatients() throws {
        for shots in [1, 2, 5] {
            let rows = try drawFewShot(groups: groups, patientIDs: patients, shots: shots, seed: 3)
            #expect(rows == rows.sorted())
            for c in 0..<4 { #expect(rows.filter { $0 % 4 == c }.count == shots, "\(shots)-shot class \(c)") }
            #expect(Set(rows.map { patients[$0] }).count == rows.count, "one image per patient")
        }
    }

    @Test func episodesDependOnTheSeedOnly() throws {
        let first = try drawFewShot(groups: groups, patientIDs: patients, shots: 3, seed: 0)
        #expect(try drawFewShot(groups: groups, patientIDs: patients, shots: 3, seed: 0) == first)
        let others = try (1..<6).map { try drawFewShot(groups: groups, patientIDs: patients, shots: 3, seed: UInt64($0)) }
        #expect(others.contains { $0 != first }, "different seeds draw different episodes")
    }

    @Test func aSampleCountsForEveryGroupItBelongsTo() throws {
        // Two overlapping groups (multi-label positives): row 0 is in both.
        let overlapping = [FewShotGroup(name: "a=1", rows: [0]), FewShotGroup(name: "b=1", rows: [0, 2])]
        let rows = try drawFewShot(groups: overlapping, patientIDs: ["p0", "p1", "p2"], shots: 1, seed: 9)
        #expect(rows == [0])
    }

    @Test func tooFewPatientsIsAnErrorNamingTheGroup() {
        #expect(throws: EvaluationError.insufficientShots(group: "class=0", available: 10, shots: 11)) {
            try drawFewShot(groups: groups, patientIDs: patients, shots: 11, seed: 0)
        }
        // Classes 0 and 1 share their ten patients: six drawn for class 0 leave four for class 1.
        #expect(throws: EvaluationError.insufficientShots(group: "class=1", available: 4, shots: 6)) {
            try drawFewShot(groups: groups, patientIDs: patients, shots: 6, seed: 0)
        }
        #expect(throws: EvaluationError.self) { try drawFewShot(groups: groups, patientIDs: patients, shots: 0, seed: 0) }
    }
}
