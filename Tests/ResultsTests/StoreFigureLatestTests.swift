import Foundation
import Results
import Testing

@Suite struct StoreFigureLatestTests {
    /// A re-run with a changed parameter recorded the same coordinates again under a new stage:
    /// the figure uses only the newer stage's replicates and tests.
    @Test func figureUsesTheMostRecentlyUsedStage() throws {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let runID = try store.beginRun(SampleData.run())
        func outputs(_ base: Double, p: Double) -> StageOutputs {
            let coordinates = SampleData.coordinates(seed: 0, trainSubgroup: "male", testSubgroup: "female")
            return StageOutputs(
                bootstrapReplicates: (0..<3).map {
                    BootstrapReplicateRow(coordinates: coordinates, metric: "auroc", replicate: $0, value: base + Double($0) / 100)
                },
                statisticalTests: [StatisticalTestRow(
                    coordinates: SampleData.coordinates(seed: 0, trainSubgroup: "", testSubgroup: "female"),
                    metric: "auroc", testName: "mann-whitney-u", comparedDimension: "train_subgroup",
                    group1: "female", group2: "male", statistic: 1, pValue: p, effectSize: 0.5, count1: 3, count2: 3,
                    method: .exact)])
        }
        try store.recordOutputs(outputs(0.5, p: 0.5), stageKey: "old", runID: runID)
        try store.recordStageExecution(SampleData.execution(runID: runID, stageKey: "old"))
        try store.recordOutputs(outputs(0.7, p: 0.01), stageKey: "new", runID: runID)
        try store.recordStageExecution(SampleData.execution(runID: runID, stageKey: "new"))
        let reader = try ResultStore.openReadOnly(path: store.path)
        let plot = try reader.subgroupBoxPlot(
            ReplicateSelection(experiment: "demo", task: "findings", backbone: "vit-tiny-random", label: "effusion"),
            title: "t")
        #expect(plot.groups.map { $0.series.map(\.values) } == [[[0.7, 0.71, 0.72]]])
        #expect(plot.comparisons.map(\.pValue) == [0.01])
        #expect(try reader.query("SELECT count(*) FROM bootstrap_replicate").rows == [[.integer(6)]])
    }
}
