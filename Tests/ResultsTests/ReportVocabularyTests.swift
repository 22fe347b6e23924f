import Foundation
import Results
import Testing

@Suite struct ReportVocabularyTests {
    @Test(arguments: [
        ("auroc", "auroc", nil, nil), ("precision@10", "precision", 10, nil), ("auroc-ci-low", "auroc", nil, MetricName.Bound.low),
        ("precision@5-ci-high", "precision", 5, .high), ("balanced-accuracy", "balanced-accuracy", nil, nil),
    ] as [(String, String, Int?, MetricName.Bound?)])
    func metricNamesRoundTrip(text: String, family: String, parameter: Int?, bound: MetricName.Bound?) {
        let name = MetricName(text)
        #expect(name.family == family && name.parameter == parameter && name.bound == bound)
        #expect(name.description == text)
    }

    func store(sampleCounts: [Int]) throws -> ResultStore {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let run = try store.beginRun(SampleData.run())
        for (seed, count) in sampleCounts.enumerated() {
            for (backbone, value) in [("dinov2-base", 0.8), ("rad-dino", 0.85)] {
                let key = "\(backbone)-\(seed)"
                let coordinates = SampleData.coordinates(backbone: backbone, fraction: 1, seed: seed, label: "effusion")
                try store.recordOutputs(StageOutputs(results: [ResultRow(coordinates: coordinates, metric: "brier", value: value + Double(seed) * 0.01,
                                                                         sampleCount: count)]), stageKey: key, runID: run)
                try store.recordStageExecution(SampleData.execution(runID: run, stageKey: key))
            }
        }
        return store
    }

    @Test func displayNamesDirectionAndCountsComeFromTheVocabulary() throws {
        let store = try store(sampleCounts: [40, 42])
        let vocabulary = ReportVocabulary(names: [.backbone: ["dinov2-base": "DINOv2-B", "rad-dino": "RAD-DINO"]],
                                          metrics: ["brier": .init(displayName: "Brier", higherIsBetter: false)])
        let request = ReportTableRequest(name: "t", experiment: "demo", tasks: ["findings"], rows: [.backbone], columns: [.fraction],
                                         metric: "brier", summary: .mean, vocabulary: vocabulary, showCount: true)
        let markdown = try ResultStore.openReadOnly(path: store.path).reportTable(request).markdown()
        #expect(markdown.contains("| DINOv2-B | **0.805 (n = 40–42)** |"), "\(markdown)")
        #expect(markdown.contains("| RAD-DINO | 0.855 (n = 40–42) |"))
        #expect(markdown.hasPrefix("**Brier of demo: findings.**"))
    }

    @Test func longFigureTitlesWrapInsideTheFigure() {
        let title = "Fairness of nodule detection by sex — dinov2-base, phantom, mlp, mean-pooled features, mean over labels"
        let plot = BoxPlot(title: title, yLabel: "AUROC", legendTitle: "trained on",
                           groups: [BoxPlotGroup(name: "test: all", series: [BoxPlotSeries(name: "a", values: [1, 2, 3])])])
        let svg = plot.svg()
        #expect(svg.components(separatedBy: "<tspan").count - 1 >= 2)
        #expect(svg.contains(#"<g transform="translate(0 18.8)">"#))
    }
}
