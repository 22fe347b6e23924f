import Foundation
import Results
import Testing

@Suite struct StoreTableTests {
    /// A table rendered from the database alone: seed-level results recorded by several stages.
    @Test func rendersATableFromRecordedResults() throws {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let runID = try store.beginRun(SampleData.run())
        let aurocs: [String: [Double: [Double]]] = [
            "dinov2-base": [0.1: [0.70, 0.72, 0.74], 1: [0.80, 0.82, 0.84]],
            "rad-dino": [0.1: [0.75, 0.76, 0.77], 1: [0.85, 0.86, 0.90]],
        ]
        for (backbone, byFraction) in aurocs {
            for (fraction, seeds) in byFraction {
                for (seed, value) in seeds.enumerated() {
                    let coordinates = SampleData.coordinates(backbone: backbone, fraction: fraction, seed: seed, label: "mean")
                    let key = "\(backbone)-\(fraction)-\(seed)"
                    try store.recordOutputs(StageOutputs(results: [ResultRow(coordinates: coordinates, metric: "auroc",
                                                                             value: value, sampleCount: 50)]),
                                            stageKey: key, runID: runID)
                    try store.recordStageExecution(SampleData.execution(runID: runID, stageKey: key))
                }
            }
        }
        let reader = try ResultStore.openReadOnly(path: store.path)
        let spec = TableSpec(name: "fractions", title: "AUROC by training fraction", rowHeader: "Backbone",
                             rowOrder: ["dinov2-base", "rad-dino"], columnOrder: ["10%", "100%"], decimals: 2)
        let table = try reader.summaryTable(spec, sql: """
            SELECT backbone, printf('%g%%', fraction * 100), value, stage_key FROM latest_result
            WHERE metric = 'auroc' AND label = 'mean' ORDER BY backbone, fraction, seed
            """)
        #expect(table.markdown() == """
            **AUROC by training fraction.** Mean ± standard deviation over seeds; best in bold, second best in italics.

            | Backbone | 10% | 100% |
            | --- | ---: | ---: |
            | dinov2-base | 0.72 ± 0.02 | 0.82 ± 0.02 |
            | rad-dino | **0.76 ± 0.01** | **0.87 ± 0.03** |

            """)
        let explanation = table.explanationCSV().split(separator: "\r\n")
        #expect(explanation.count == 13)
        #expect(explanation[0] == "Backbone,column,value,stage_key")
        #expect(explanation[1] == "dinov2-base,10%,0.7,dinov2-base-0.1-0")
        #expect(explanation[12] == "rad-dino,100%,0.9,rad-dino-1.0-2")
    }

    @Test func queriesOfTheWrongShapeAreNamed() throws {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let runID = try store.beginRun(SampleData.run())
        try store.recordOutputs(SampleData.outputs(tag: 1), stageKey: "s", runID: runID)
        let reader = try ResultStore.openReadOnly(path: store.path)
        #expect(throws: ResultsError.invalidTableInput(reason: "the query returns 2 columns (backbone, value); a table "
            + "needs row label, column label, value and optionally stage key")) {
            try reader.seedValues("SELECT backbone, value FROM result")
        }
        #expect(throws: ResultsError.invalidTableInput(reason: "row 1: column `metric` holds auroc, not a number")) {
            try reader.seedValues("SELECT backbone, fraction, metric FROM result ORDER BY metric")
        }
        // Not-computable values come through as nil and are left out of the mean.
        let values = try reader.seedValues("SELECT backbone, metric, value FROM result ORDER BY metric")
        #expect(values.map(\.value) == [0.51, nil])
    }
}
