import Foundation
import GRDB
import Testing
@testable import Results

@Suite struct ComparisonReportTests {
    /// Three backbones × two seeds of AUROC in one column, with paired tests of the seeds between
    /// the best backbone (`a`) and the others at the given p-values, and `c`'s second seed on 12 samples.
    func store(pValues: [String: [Double]], testFor: Set<String> = ["b", "c"], replicates: Int = 1000) throws -> ResultStore {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let run = try store.beginRun(SampleData.run())
        let means = ["a": 0.90, "b": 0.85, "c": 0.70]
        for seed in 0..<2 {
            for backbone in ["a", "b", "c"] {
                let key = "\(backbone)-\(seed)"
                let coordinates = SampleData.coordinates(backbone: backbone, fraction: 1, seed: seed, label: "")
                let count = backbone == "c" && seed == 1 ? 12 : 200
                try store.recordOutputs(StageOutputs(results: [ResultRow(coordinates: coordinates, metric: "auroc",
                                                                         value: means[backbone]! + Double(seed) * 0.01, sampleCount: count)]),
                                        stageKey: key, runID: run)
                try store.recordStageExecution(SampleData.execution(runID: run, stageKey: key))
            }
            var tests: [StatisticalTestRow] = []
            for other in ["b", "c"] where testFor.contains(other) {
                var coordinates = SampleData.coordinates(backbone: "", fraction: 1, seed: seed, label: "")
                coordinates.testSubgroup = "all"
                tests.append(StatisticalTestRow(coordinates: coordinates, metric: "auroc", testName: "paired-bootstrap",
                                                comparedDimension: "backbone", group1: other, group2: "a", statistic: -0.05,
                                                pValue: pValues[other]![seed], effectSize: -0.05, count1: 200, count2: 200,
                                                method: .bootstrap, interval: -0.09...(-0.01), replicates: replicates))
            }
            try store.recordOutputs(StageOutputs(statisticalTests: tests), stageKey: "paired-\(seed)", runID: run)
            try store.recordStageExecution(SampleData.execution(runID: run, stageKey: "paired-\(seed)"))
        }
        try store.finishRun(id: run, status: .succeeded, endedAt: Date())
        return store
    }

    func table(_ store: ResultStore, significance: SignificanceMarks?, threshold: Int? = nil) throws -> ReportTable {
        let request = ReportTableRequest(name: "t", experiment: "demo", tasks: ["findings"], rows: [.backbone], columns: [.fraction],
                                         metric: "auroc", summary: .mean, significance: significance, smallSampleThreshold: threshold)
        return try ResultStore.openReadOnly(path: store.path).reportTable(request)
    }

    @Test func holmAdjustsAsStatsmodelsDoes() {
        // Sorted 0.01, 0.02, 0.04, 0.3 times 4, 3, 2, 1 with running maxima.
        for (raw, expected) in [([0.04, 0.01, 0.3, 0.02], [0.08, 0.04, 0.3, 0.06]), ([0.3, 0.2, 0.9], [0.6, 0.6, 0.9])] {
            let adjusted = holmAdjustedPValues(raw)
            #expect(zip(adjusted, expected).allSatisfy { abs($0 - $1) < 1e-15 }, "\(adjusted)")
        }
        #expect(holmAdjustedPValues([]) == [])
    }

    @Test func cellsNotSignificantlyDifferentFromTheBestAreMarked() throws {
        // b: p 0.03 and 0.2; c: 0.001 and 0.002. Raw, b is significant in seed 0; after Holm over
        // the four tests b's 0.03 (third smallest) becomes 0.06 ≥ 0.05, while c stays significant.
        let holm = try table(store(pValues: ["b": [0.03, 0.2], "c": [0.001, 0.002]]), significance: SignificanceMarks())
        let markdown = holm.markdown()
        #expect(markdown.contains("| a | **0.905** |"), "\(markdown)")
        #expect(markdown.contains("| b | *0.855* †|") || markdown.contains("| b | *0.855* † |"), "\(markdown)")
        #expect(markdown.contains("| c | 0.705 |"), "\(markdown)")
        #expect(markdown.contains("Holm-adjusted over the table's 4 tests"), "\(markdown)")
        #expect(holm.latex().contains("\\underline{0.855}$^{\\dagger}$"))
        #expect(holm.html().contains("<u>0.855</u> †"))
        let raw = try table(store(pValues: ["b": [0.03, 0.2], "c": [0.001, 0.002]]), significance: SignificanceMarks(holm: false))
        #expect(!raw.markdown().contains("†|") && !raw.markdown().contains("† |"), "\(raw.markdown())")
    }

    @Test func tooFewReplicatesForTheFamilyAreCalledOut() throws {
        // 2/(99 + 1) = 0.02 at best, times 4 tests = 0.08: nothing can be significant at 0.05.
        let markdown = try table(store(pValues: ["b": [0.02, 0.02], "c": [0.02, 0.02]], replicates: 99), significance: SignificanceMarks()).markdown()
        #expect(markdown.contains("With 99 bootstrap replicates the smallest attainable p-value is 0.02, 0.08 after Holm"), "\(markdown)")
        let enough = try table(store(pValues: ["b": [0.5, 0.5], "c": [0.001, 0.001]]), significance: SignificanceMarks()).markdown()
        #expect(!enough.contains("smallest attainable"))
    }

    @Test func aCellWithoutATestForEverySeedStaysUnmarked() throws {
        let table = try table(store(pValues: ["b": [0.5, 0.6]], testFor: ["b"]), significance: SignificanceMarks())
        let markdown = table.markdown()
        #expect(markdown.contains("| b | *0.855* †"), "\(markdown)")
        #expect(markdown.contains("| c | 0.705 |"))
        #expect(markdown.contains("1 cells without a test against their best are unmarked"), "\(markdown)")
    }

    @Test func smallSamplesAreMarkedWithTheirThreshold() throws {
        let table = try table(store(pValues: ["b": [0.5, 0.6], "c": [0.5, 0.5]]), significance: nil, threshold: 30)
        let markdown = table.markdown()
        #expect(markdown.contains("| c | 0.705 ‡ |"), "\(markdown)")
        #expect(markdown.contains("‡ fewer than 30 test samples"))
        #expect(table.latex().contains("0.705$^{\\ddagger}$"))
    }

    func curve(_ backbone: String, seed: Int, values: [Double], best: Int) -> [TrainingCurveRow] {
        let coordinates = ResultCoordinates(experiment: "demo", task: "anatomy", backbone: backbone, dataset: "phantom", head: "mlp",
                                            features: "cls", fraction: 1, seed: seed, testSubgroup: "", label: "")
        return values.enumerated().map { index, value in
            TrainingCurveRow(coordinates: coordinates, epoch: index + 1, trainingLoss: 1 / Double(index + 1), validationLoss: 1 - value,
                             validationMetric: "auroc", validationValue: value, learningRate: 1e-4, isBest: index + 1 == best)
        }
    }

    @Test func convergenceSpeedupFollowsItsDefinition() throws {
        let curves = curve("ref", seed: 0, values: [0.5, 0.6, 0.7, 0.8, 0.8, 0.75], best: 4)
            + curve("fast", seed: 0, values: [0.7, 0.81, 0.82], best: 3)
            + curve("slow", seed: 0, values: [0.5, 0.6, 0.79], best: 3)
            + curve("ref", seed: 1, values: [0.6, 0.7], best: 2)
            + curve("fast", seed: 1, values: [0.5, 0.65], best: 2)
            + curve("slow", seed: 1, values: [0.7, 0.72], best: 2)
        let (outcomes, notes) = ConvergenceAnalysis.outcomes(curves, reference: "ref")
        #expect(notes.isEmpty)
        func speedup(_ backbone: String, _ seed: Int) -> Double? { outcomes.first { $0.backbone == backbone && $0.seed == seed }?.speedup }
        // Seed 0: τ = 0.8 reached by ref at epoch 4, by fast at 2, never by slow.
        #expect(speedup("ref", 0) == 1 && speedup("fast", 0) == 2 && speedup("slow", 0) == nil)
        // Seed 1: τ = 0.7 at epoch 2; fast never reaches it; slow at epoch 1.
        #expect(speedup("fast", 1) == nil && speedup("slow", 1) == 2)

        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let run = try store.beginRun(SampleData.run())
        try store.recordOutputs(StageOutputs(trainingCurves: curves), stageKey: "curves", runID: run)
        try store.recordStageExecution(SampleData.execution(runID: run, stageKey: "curves"))
        let table = try ResultStore.openReadOnly(path: store.path).convergenceTable(
            ConvergenceRequest(name: "c", experiment: "demo", tasks: ["anatomy"], reference: "ref", rows: [.backbone], columns: [.task, .fraction]))
        let markdown = table.markdown()
        #expect(markdown.contains("| ref | 1.0× | 1.0× |"), "\(markdown)")
        #expect(markdown.contains("| fast | 2.0× (1/2) | 2.0× |"), "\(markdown)")
        #expect(markdown.contains("| slow | 2.0× (1/2) | 2.0× |"), "\(markdown)")
        #expect(table.csv().contains("not converged"))
        let svg = table.chart().svg()
        #expect(svg.contains("2.0× (1/2)") && !svg.contains(">ref<"))
        // A backbone that never converges anywhere says so.
        let never = ConvergenceTable.text(outcomes.filter { $0.backbone == "slow" && $0.seed == 0 })
        #expect(never == "not converged")
    }

    @Test func aDatabaseOfTheLastReleaseKeepsItsTestsWhenUpgraded() throws {
        let path = try SampleData.temporaryDatabase()
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: path.path)
        try Schema.migrator.migrate(queue, upTo: "v6: sample issues")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO run (spec_digest, experiment, engine_version, host, started_at) VALUES ('d', 'demo', '0', 'h', '2026-01-01');
                INSERT INTO stage_output (stage_key, run_id, recorded_at) VALUES ('k', 1, '2026-01-01');
                INSERT INTO statistical_test (stage_key, experiment, task, backbone, dataset, head, features, fraction, seed,
                    train_subgroup, test_subgroup, label, metric, test_name, compared_dimension, group1, group2, statistic,
                    p_value, effect_size, n1, n2, method, holm_p_value)
                VALUES ('k', 'demo', 'sex', 'b', 'phantom', 'mlp', 'cls', 1, 0, '', 'all', 'nodule', 'auroc', 'mann-whitney-u',
                    'train_subgroup', 'male', 'female', 12, 0.04, 0.3, 20, 20, 'exact', 0.08);
                """)
        }
        try queue.close()
        let store = try ResultStore(path: path)
        let tests = try #require(try store.outputs(stageKey: "k")).statisticalTests
        #expect(tests.count == 1 && tests[0].pValue == 0.04 && tests[0].holmPValue == 0.08 && tests[0].interval == nil)
        #expect(tests[0].coordinates.shots == nil)
        // The rebuilt table keeps its rules: a Mann–Whitney effect outside [-1, 1] is refused, a paired one is not.
        var paired = tests[0]
        paired.testName = "paired-bootstrap"
        paired.effectSize = -1.4
        paired.method = .bootstrap
        paired.interval = -1.6...(-1.1)
        try store.recordOutputs(StageOutputs(statisticalTests: [paired]), stageKey: "m", runID: 1)
        paired.testName = "mann-whitney-u"
        #expect(throws: ResultsError.self) { try store.recordOutputs(StageOutputs(statisticalTests: [paired]), stageKey: "n", runID: 1) }
    }

    @Test func smallTestSubgroupsGetNoStars() {
        let groups = [BoxPlotGroup(name: "test: young", series: [BoxPlotSeries(name: "a", values: [0.9, 0.91]), BoxPlotSeries(name: "b", values: [0.5, 0.52])],
                                   sampleCount: 5),
                      BoxPlotGroup(name: "test: old", series: [BoxPlotSeries(name: "a", values: [0.9, 0.91]), BoxPlotSeries(name: "b", values: [0.5, 0.52])],
                                   sampleCount: 300)]
        let comparisons = ["test: young", "test: old"].map { BoxPlotComparison(group: $0, series1: "a", series2: "b", pValue: 1e-6) }
        let marked = BoxPlot(title: "t", yLabel: "AUROC", legendTitle: "trained on", groups: groups, comparisons: comparisons,
                             smallSampleThreshold: 30).svg()
        #expect(marked.contains("n = 5 ‡") && marked.contains(">n &lt; 30<") && marked.contains("fewer than 30 test samples"))
        #expect(marked.components(separatedBy: ">***<").count - 1 == 1, "the large group keeps its stars")
        let unmarked = BoxPlot(title: "t", yLabel: "AUROC", legendTitle: "trained on", groups: groups, comparisons: comparisons).svg()
        #expect(unmarked.components(separatedBy: ">***<").count - 1 == 2 && !unmarked.contains("‡"))
    }

    @Test func chartsAreDeterministicText() {
        let chart = LineChart(title: "Reliability", panels: [
            LineChart.Panel(title: "Reliability", xLabel: "confidence", yLabel: "frequency",
                            series: [.init(name: "a", points: [.init(x: 0.1, y: 0.2), .init(x: 0.9, y: 0.8)], dots: true)],
                            xRange: 0...1, yRange: 0...1, diagonal: true),
        ])
        #expect(chart.svg() == chart.svg())
        #expect(chart.svg().contains(#"stroke-dasharray="4 3""#) && chart.svg().contains("<circle"))
        let bars = SpeedupChart(title: "Speed", reference: "ref", bars: [.init(group: "anatomy / 100%", series: "b", speedup: nil, label: "not converged"),
                                                                        .init(group: "anatomy / 100%", series: "c", speedup: 4, label: "4.0×")],
                                footnotes: [])
        #expect(bars.svg().contains("not converged") && bars.svg().contains("4×"))
    }
}
