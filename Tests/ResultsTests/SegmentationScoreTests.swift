import Foundation
import Results
import Testing

/// Per-image segmentation scores are recorded, read back, kept to their rules, and current.
@Suite struct SegmentationScoreTests {
    @Test func scoresRoundTripAndTheLatestViewCarriesTheCoordinates() throws {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let runID = try store.beginRun(SampleData.run())
        let outputs = SampleData.segmentationOutputs()
        try store.recordOutputs(outputs, stageKey: "segmentation", runID: runID)
        try store.recordOutputs(outputs, stageKey: "segmentation", runID: runID)   // idempotent
        try store.recordStageExecution(SampleData.execution(runID: runID, stageKey: "segmentation"))
        #expect(try store.outputs(stageKey: "segmentation")?.segmentationScores == outputs.segmentationScores)
        let reader = try ResultStore.openReadOnly(path: store.path)
        let rows = try reader.query("""
            SELECT backbone, head, seed, sample_id, patient_id, class, dice, positive
            FROM latest_segmentation_score ORDER BY sample_id, class
            """).rows
        #expect(rows.count == 6)
        #expect(rows.first == [.text("vit-tiny-random"), .text("linear"), .integer(0), .text("P0"), .text("patient0"), .text("heart"),
                               .real(0.25), .integer(0)])
        // Outputs without scores encode as before (no key), and decode with none.
        let plain = StageOutputs(results: outputs.results)
        let json = String(decoding: try JSONEncoder().encode(plain), as: UTF8.self)
        #expect(!json.contains("segmentationScores"))
        #expect(try JSONDecoder().decode(StageOutputs.self, from: Data(json.utf8)) == plain)
    }

    @Test func aDiceOutsideTheUnitIntervalBreaksARuleAndRecordsNothing() throws {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let runID = try store.beginRun(SampleData.run())
        var outputs = SampleData.segmentationOutputs()
        outputs.segmentationScores[2].dice = 1.5
        #expect(throws: ResultsError.self) { try store.recordOutputs(outputs, stageKey: "segmentation", runID: runID) }
        #expect(try store.outputs(stageKey: "segmentation") == nil)
    }
}
