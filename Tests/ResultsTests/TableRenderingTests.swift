import Foundation
import Results
import Testing

@Suite struct TableRenderingTests {
    static let values: [SeedValue] = {
        var values: [SeedValue] = []
        func add(_ row: String, _ column: String, _ seeds: [Double?]) {
            values += seeds.map { SeedValue(rowLabel: row, columnLabel: column, value: $0) }
        }
        add("dinov2-base", "CheXpert / 1%", [0.70, 0.72, 0.74])
        add("dinov2-base", "CheXpert / 100%", [0.90, 0.92])
        add("rad-dino", "CheXpert / 1%", [0.75, 0.77, 0.76])
        add("rad-dino", "CheXpert / 100%", [0.93, nil, 0.91])
        add("xr_0", "CheXpert / 1%", [0.71, 0.71])
        add("xr_0", "CheXpert / 100%", [0.88])
        add("rad-dino", "MURA / 100%", [0.80, 0.84])
        add("xr_0", "MURA / 100%", [0.79])
        return values
    }()

    static let spec = TableSpec(
        name: "table2-classification", title: "Classification AUROC", rowHeader: "Backbone",
        rowOrder: ["xr_0", "dinov2-base", "rad-dino", "pixels"], columnOrder: ["CheXpert / 1%", "CheXpert / 100%"],
        spread: .standardDeviation, higherIsBetter: true, decimals: 3, columnGroupSeparator: " / ")

    @Test func ranksByPrintedMeanAndDirection() {
        let table = SummaryTable(spec: Self.spec, values: Self.values)
        #expect(table.rows == ["xr_0", "dinov2-base", "rad-dino", "pixels"])
        #expect(table.columns == ["CheXpert / 1%", "CheXpert / 100%", "MURA / 100%"])
        #expect(table.ranks == [
            [.other, .other, .other],          // MURA has two rows only: no second best
            [.secondBest, .secondBest, .other],
            [.best, .best, .best],
            [.other, .other, .other],
        ])
        var lowerIsBetter = Self.spec
        lowerIsBetter.higherIsBetter = false
        #expect(SummaryTable(spec: lowerIsBetter, values: Self.values).ranks[0] == [.best, .best, .best])
        // Means equal once printed tie for best.
        let tie = SummaryTable(spec: TableSpec(name: "t", title: "T", rowHeader: "R", decimals: 2), values: [
            SeedValue(rowLabel: "a", columnLabel: "c", value: 0.801),
            SeedValue(rowLabel: "b", columnLabel: "c", value: 0.799),
            SeedValue(rowLabel: "d", columnLabel: "c", value: 0.7),
        ])
        #expect(tie.ranks == [[.best], [.best], [.secondBest]])
    }

    @Test func markdownGolden() {
        #expect(SummaryTable(spec: Self.spec, values: Self.values).markdown() == """
            **Classification AUROC.** Mean ± standard deviation over seeds; best in bold, second best in italics.

            | Backbone | CheXpert / 1% | CheXpert / 100% | MURA / 100% |
            | --- | ---: | ---: | ---: |
            | xr_0 | 0.710 ± 0.000 | 0.880 | 0.790 |
            | dinov2-base | *0.720 ± 0.020* | *0.910 ± 0.014* | – |
            | rad-dino | **0.760 ± 0.010** | **0.920 ± 0.014** | **0.820 ± 0.028** |
            | pixels | – | – | – |

            """)
    }

    @Test func latexGolden() {
        #expect(SummaryTable(spec: Self.spec, values: Self.values).latex() == #"""
            \begin{table}[t]
              \centering
              \caption{Classification AUROC (mean $\pm$ standard deviation over seeds; best in bold, second best underlined).}
              \label{tab:table2-classification}
              \begin{tabular}{lccc}
                \toprule
                 & \multicolumn{2}{c}{CheXpert} & \multicolumn{1}{c}{MURA} \\
                \cmidrule(lr){2-3} \cmidrule(lr){4-4}
                Backbone & 1\% & 100\% & 100\% \\
                \midrule
                xr\_0 & 0.710 $\pm$ 0.000 & 0.880 & 0.790 \\
                dinov2-base & \underline{0.720 $\pm$ 0.020} & \underline{0.910 $\pm$ 0.014} & -- \\
                rad-dino & \textbf{0.760 $\pm$ 0.010} & \textbf{0.920 $\pm$ 0.014} & \textbf{0.820 $\pm$ 0.028} \\
                pixels & -- & -- & -- \\
                \bottomrule
              \end{tabular}
            \end{table}

            """#)
    }

    @Test func latexWithoutColumnGroupsHasOneHeaderRow() {
        let spec = TableSpec(name: "t1", title: "Retrieval P@5 & P@10", rowHeader: "Model_name", decimals: 2)
        let values = [SeedValue(rowLabel: "a", columnLabel: "P@5", value: 0.5),
                      SeedValue(rowLabel: "b", columnLabel: "P@5", value: 0.25)]
        #expect(SummaryTable(spec: spec, values: values).latex() == #"""
            \begin{table}[t]
              \centering
              \caption{Retrieval P@5 \& P@10 (mean $\pm$ standard deviation over seeds; best in bold, second best underlined).}
              \label{tab:t1}
              \begin{tabular}{lc}
                \toprule
                Model\_name & P@5 \\
                \midrule
                a & \textbf{0.50} \\
                b & 0.25 \\
                \bottomrule
              \end{tabular}
            \end{table}

            """#)
    }

    @Test func intervalCSVAndMarkdownGolden() {
        var spec = Self.spec
        spec.spread = .confidenceInterval95
        spec.scale = 100
        spec.decimals = 1
        let table = SummaryTable(spec: spec, values: Self.values)
        // t(0.975, 2) = 4.3027 and t(0.975, 1) = 12.706: 72 ± 4.3027 · 2 / √3 = [67.03, 76.97].
        #expect(table.csv() == "Backbone,CheXpert / 1% mean,CheXpert / 1% ci95 low,CheXpert / 1% ci95 high,"
            + "CheXpert / 1% n,CheXpert / 100% mean,CheXpert / 100% ci95 low,CheXpert / 100% ci95 high,"
            + "CheXpert / 100% n,MURA / 100% mean,MURA / 100% ci95 low,MURA / 100% ci95 high,MURA / 100% n\r\n"
            + "xr_0,71.0000,71.0000,71.0000,2,88.0000,,,1,79.0000,,,1\r\n"
            + "dinov2-base,72.0000,67.0317,76.9683,3,91.0000,78.2938,103.7062,2,,,,0\r\n"
            + "rad-dino,76.0000,73.5159,78.4841,3,92.0000,79.2938,104.7062,2,82.0000,56.5876,107.4124,2\r\n"
            + "pixels,,,,0,,,,0,,,,0\r\n")
        #expect(table.markdown() == """
            **Classification AUROC.** Mean [95% confidence interval] over seeds; best in bold, second best in italics.

            | Backbone | CheXpert / 1% | CheXpert / 100% | MURA / 100% |
            | --- | ---: | ---: | ---: |
            | xr_0 | 71.0 [71.0, 71.0] | 88.0 | 79.0 |
            | dinov2-base | *72.0 [67.0, 77.0]* | *91.0 [78.3, 103.7]* | – |
            | rad-dino | **76.0 [73.5, 78.5]** | **92.0 [79.3, 104.7]** | **82.0 [56.6, 107.4]** |
            | pixels | – | – | – |

            """)
    }
}

@Suite struct TableSpecDecodingTests {
    @Test func decodesWithDefaults() throws {
        let minimal = try JSONDecoder().decode(TableSpec.self, from: Data(#"""
            {"name": "table1", "title": "Retrieval", "rowHeader": "Backbone"}
            """#.utf8))
        #expect(minimal == TableSpec(name: "table1", title: "Retrieval", rowHeader: "Backbone"))
        let full = try JSONDecoder().decode(TableSpec.self, from: Data(#"""
            {"name": "t2", "title": "T", "rowHeader": "B", "spread": "ci95", "higherIsBetter": false,
             "decimals": 1, "scale": 100, "columnOrder": ["1%"], "columnGroupSeparator": " / "}
            """#.utf8))
        #expect(full.spread == .confidenceInterval95 && !full.higherIsBetter && full.decimals == 1 && full.scale == 100)
        #expect(try JSONDecoder().decode(TableSpec.self, from: JSONEncoder().encode(full)) == full)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(TableSpec.self, from: Data(#"{"name": "t", "title": "T", "rowHeader": "B", "decimals": 40}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(TableSpec.self, from: Data(#"{"name": "t", "title": "T", "rowHeader": "B", "spread": "sem"}"#.utf8))
        }
    }
}
