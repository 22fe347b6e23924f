import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Results
import Testing

@Suite struct BoxPlotTests {
    static let fairness = BoxPlot(
        title: "Effusion AUROC by training subgroup", yLabel: "AUROC", legendTitle: "trained on",
        groups: [
            BoxPlotGroup(name: "test: female", series: [
                BoxPlotSeries(name: "female", values: [0.80, 0.82, 0.81, 0.83, 0.79, 0.84, 0.70]),
                BoxPlotSeries(name: "male", values: [0.76, 0.78, 0.77, 0.75, 0.79, 0.78, 0.74]),
                BoxPlotSeries(name: "all", values: [0.80, 0.81, 0.79, 0.82, 0.80, 0.81, 0.80]),
            ]),
            BoxPlotGroup(name: "test: male", series: [
                BoxPlotSeries(name: "female", values: [0.78, 0.80, 0.79, 0.77, 0.81, 0.79, 0.80]),
                BoxPlotSeries(name: "male", values: [0.79, 0.81, 0.80, 0.82, 0.78, 0.80, 0.81]),
            ]),
        ],
        comparisons: [
            BoxPlotComparison(group: "test: female", series1: "female", series2: "male", pValue: 0.0004),
            BoxPlotComparison(group: "test: female", series1: "male", series2: "all", pValue: 0.03),
            BoxPlotComparison(group: "test: male", series1: "female", series2: "male", pValue: 0.2),
        ])

    @Test func fairnessFigureHasEveryBoxAndMarker() throws {
        let svg = Self.fairness.svg()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        // Five boxes plus three legend swatches; one outlier (0.70 among female-trained).
        #expect(svg.components(separatedBy: "fill-opacity=\"0.75\"").count - 1 == 8)
        #expect(svg.components(separatedBy: "<circle").count - 1 == 1)
        for marker in [">***</text>", ">*</text>", ">ns</text>"] {
            #expect(svg.contains(marker), "missing \(marker)")
        }
        // It is well-formed XML.
        #expect(XMLParser(data: Data(svg.utf8)).parse())
    }
}

extension BoxPlotTests {
    static let tiny = BoxPlot(
        title: "A & B", yLabel: "AUROC", legendTitle: "trained on",
        groups: [BoxPlotGroup(name: "test: all", series: [
            BoxPlotSeries(name: "a", values: [1, 2, 3, 4]),
            BoxPlotSeries(name: "b<", values: [2, 3, 4, 10]),
        ])],
        comparisons: [BoxPlotComparison(group: "test: all", series1: "a", series2: "b<", pValue: 0.004)])

    /// Checked by hand: y(v) = 290 - v / 10 · 222 (the axis spans 0...10 over 290...68, one
    /// bracket level reserved); box a: quartiles 1.75, 3.25, median 2.5, whiskers 1 and 4;
    /// box b: quartiles 2.75, 5.5, median 3.5, whiskers 2 and 4, outlier 10 (fence 9.625).
    @Test func tinyPlotGolden() {
        #expect(Self.tiny.svg() == #"""
            <svg xmlns="http://www.w3.org/2000/svg" width="460.0" height="370.0" viewBox="0 0 460.0 370.0" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <title>A &amp; B</title>
            <rect width="100%" height="100%" fill="white"/>
            <text x="230.0" y="24" text-anchor="middle" font-size="15">A &amp; B</text>
            <g stroke="#cccccc" stroke-width="1">
            <line x1="70.0" y1="290.0" x2="440.0" y2="290.0"/>
            <line x1="70.0" y1="245.6" x2="440.0" y2="245.6"/>
            <line x1="70.0" y1="201.2" x2="440.0" y2="201.2"/>
            <line x1="70.0" y1="156.8" x2="440.0" y2="156.8"/>
            <line x1="70.0" y1="112.4" x2="440.0" y2="112.4"/>
            <line x1="70.0" y1="68.0" x2="440.0" y2="68.0"/>
            </g>
            <g text-anchor="end">
            <text x="64.0" y="294.0">0</text>
            <text x="64.0" y="249.6">2</text>
            <text x="64.0" y="205.2">4</text>
            <text x="64.0" y="160.8">6</text>
            <text x="64.0" y="116.4">8</text>
            <text x="64.0" y="72.0">10</text>
            </g>
            <line x1="70.0" y1="50.0" x2="70.0" y2="290.0" stroke="black"/>
            <line x1="70.0" y1="290.0" x2="440.0" y2="290.0" stroke="black"/>
            <text x="18" y="170.0" text-anchor="middle" transform="rotate(-90 18 170.0)">AUROC</text>
            <text x="255.0" y="308.0" text-anchor="middle">test: all</text>
            <g stroke="black" stroke-width="1">
            <line x1="237.0" y1="201.2" x2="237.0" y2="217.8"/>
            <line x1="237.0" y1="251.2" x2="237.0" y2="267.8"/>
            <line x1="230.0" y1="267.8" x2="244.0" y2="267.8"/>
            <line x1="230.0" y1="201.2" x2="244.0" y2="201.2"/>
            <rect x="223.0" y="217.8" width="28.0" height="33.3" fill="#0072B2" fill-opacity="0.75"/>
            <line x1="223.0" y1="234.5" x2="251.0" y2="234.5" stroke-width="2"/>
            </g>
            <g stroke="black" stroke-width="1">
            <line x1="273.0" y1="201.2" x2="273.0" y2="167.9"/>
            <line x1="273.0" y1="228.9" x2="273.0" y2="245.6"/>
            <line x1="266.0" y1="245.6" x2="280.0" y2="245.6"/>
            <line x1="266.0" y1="201.2" x2="280.0" y2="201.2"/>
            <rect x="259.0" y="167.9" width="28.0" height="61.1" fill="#E69F00" fill-opacity="0.75"/>
            <line x1="259.0" y1="212.3" x2="287.0" y2="212.3" stroke-width="2"/>
            <circle cx="273.0" cy="68.0" r="2" fill="none"/>
            </g>
            <path d="M237.0 65.0V60.0H273.0V65.0" fill="none" stroke="black"/>
            <text x="255.0" y="57.0" text-anchor="middle" font-size="11">**</text>
            <text x="70.0" y="344.0">trained on:</text>
            <rect x="155.0" y="334.0" width="12" height="12" fill="#0072B2" fill-opacity="0.75" stroke="black"/>
            <text x="171.0" y="344.0">a</text>
            <rect x="194.0" y="334.0" width="12" height="12" fill="#E69F00" fill-opacity="0.75" stroke="black"/>
            <text x="210.0" y="344.0">b&lt;</text>
            <text x="70.0" y="362.0" font-size="10">Mann–Whitney U: * p &lt; 0.05, ** p &lt; 0.01, *** p &lt; 0.001, ns not significant</text>
            </svg>

            """#)
    }
}

@Suite struct StoreFigureTests {
    @Test func buildsTheSubgroupFigureFromRecordedReplicatesAndTests() throws {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let runID = try store.beginRun(SampleData.run())
        var replicates: [BootstrapReplicateRow] = []
        for test in ["female", "male"] {
            for train in ["female", "male"] {
                let coordinates = SampleData.coordinates(seed: 0, trainSubgroup: train, testSubgroup: test)
                for replicate in 0..<5 {
                    let value = (train == test ? 0.8 : 0.75) + Double(replicate) / 100
                    replicates.append(BootstrapReplicateRow(coordinates: coordinates, metric: "auroc",
                                                            replicate: replicate, value: value))
                }
            }
        }
        // An undefined replicate is left out of its box.
        replicates.append(BootstrapReplicateRow(coordinates: SampleData.coordinates(seed: 0, trainSubgroup: "male", testSubgroup: "male"),
                                                metric: "auroc", replicate: 5, value: nil))
        let tests = ["female", "male"].map { test in
            StatisticalTestRow(coordinates: SampleData.coordinates(seed: 0, trainSubgroup: "", testSubgroup: test),
                               metric: "auroc", testName: "mann-whitney-u", comparedDimension: "train_subgroup",
                               group1: "female", group2: "male", statistic: 25, pValue: 0.008, effectSize: 1,
                               count1: 5, count2: 5, method: .exact, holmPValue: test == "female" ? 0.016 : 0.04)
        }
        try store.recordOutputs(StageOutputs(bootstrapReplicates: replicates, statisticalTests: tests),
                                stageKey: "fairness", runID: runID)
        try store.recordStageExecution(StageExecutionRecord(runID: runID, stageKey: "fairness", kind: "metric", parametersJSON: "{}", status: .succeeded))

        let reader = try ResultStore.openReadOnly(path: store.path)
        let selection = ReplicateSelection(experiment: "demo", task: "findings", backbone: "vit-tiny-random",
                                           label: "effusion", dataset: "phantom", seed: 0)
        let plot = try reader.subgroupBoxPlot(selection, title: "Effusion AUROC")
        #expect(plot.groups.map(\.name) == ["test: female", "test: male"])
        #expect(plot.groups[0].series.map(\.name) == ["female", "male"])
        #expect(plot.groups[1].series[1].values == (0..<5).map { 0.8 + Double($0) / 100 })
        #expect(plot.comparisons == [
            BoxPlotComparison(group: "test: female", series1: "female", series2: "male", pValue: 0.016),
            BoxPlotComparison(group: "test: male", series1: "female", series2: "male", pValue: 0.04),
        ])
        #expect(plot.comparisons.map(\.marker) == ["*", "*"])
        #expect(plot.yLabel == "AUROC")

        var other = selection
        other.backbone = "rad-dino"
        #expect(throws: ResultsError.self) { try reader.subgroupBoxPlot(other, title: "none") }
    }
}
