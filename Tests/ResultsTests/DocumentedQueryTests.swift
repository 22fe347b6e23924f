import Foundation
import Results
import Testing

@Suite struct DocumentedQueryTests {
    /// The ```sql blocks of docs/RESULTS.md.
    static func documentedQueries(filePath: String = #filePath) throws -> [String] {
        let docs = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/RESULTS.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        return text.components(separatedBy: "```sql\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
    }

    /// Every example query in the docs runs read-only and returns rows on a populated database.
    @Test func documentedExamplesRun() throws {
        let queries = try Self.documentedQueries()
        #expect(queries.count == 5)
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let runID = try store.beginRun(SampleData.run())
        for tag in 0..<3 {
            var outputs = SampleData.outputs(tag: tag)
            outputs.results = outputs.results.map {
                var row = $0
                row.coordinates.label = ResultCoordinates.allLabels
                return row
            }
            try store.recordOutputs(outputs, stageKey: "stage-\(tag)", runID: runID)
            var execution = SampleData.execution(runID: runID, stageKey: "stage-\(tag)")
            execution.kind = "metric"
            try store.recordStageExecution(execution)
        }
        try store.recordOutputs(SampleData.segmentationOutputs(), stageKey: "segmentation", runID: runID)
        var segmentation = SampleData.execution(runID: runID, stageKey: "segmentation")
        segmentation.kind = "segmentation-metric"
        try store.recordStageExecution(segmentation)
        try store.recordStageExecution(SampleData.execution(runID: runID, stageKey: "broken", status: .failed,
                                                            error: "embed: weights file missing"))
        let reader = try ResultStore.openReadOnly(path: store.path)
        for query in queries {
            let table = try reader.query(query)
            #expect(!table.rows.isEmpty, "no rows from:\n\(query)")
        }
        let means = try reader.query(queries[0])
        #expect(means.columns == ["backbone", "fraction", "mean_auroc", "seeds"])
        #expect(means.rows == [[.text("vit-tiny-random"), .real(0.1), .real(0.51), .integer(3)]])
    }
}
