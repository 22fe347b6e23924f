import Foundation
import Results
import Testing
import TestSupport

/// `xrbench tables` through the built binary, on databases filled through the Results API.
@Suite struct TablesCommandTests {
    /// A folder holding a results database with the `cli-test` findings and its spec.
    private func findingsFolder() throws -> (folder: URL, database: URL, keys: [String: String]) {
        let folder = try makeTemporaryDirectory()
        let database = folder.appendingPathComponent("results/xrbench.sqlite")
        let keys = try ResultsFixtures.fillFindings(database)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("Experiments"), withIntermediateDirectories: true)
        try ResultsFixtures.findingsSpec.write(to: folder.appendingPathComponent("Experiments/cli-test.yaml"),
                                              atomically: true, encoding: .utf8)
        return (folder, database, keys)
    }

    private func read(_ folder: URL, _ path: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func rendersTheDeclaredTableExactly() throws {
        let (folder, _, _) = try findingsFolder()

        // No arguments, as `make tables` calls it: default database, out folder and specs.
        let result = try CLI.run(["tables"], in: folder)

        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(try read(folder, "results/tables/findings-auroc.md") == """
            **AUROC on phantom findings.** Mean ± standard deviation over seeds; best in bold, second best in italics.

            | Backbone | 10% | 100% |
            | --- | ---: | ---: |
            | pixels | 0.620 ± 0.020 | 0.710 ± 0.010 |
            | vit-tiny | **0.740 ± 0.040** | *0.830 ± 0.030* |
            | vit-tiny-2 | *0.660 ± 0.010* | **0.900 ± 0.000** |

            """)
        let latex = try read(folder, "results/tables/findings-auroc.tex")
        #expect(latex.contains("\\toprule"))
        #expect(latex.contains("    vit-tiny & \\textbf{0.740 $\\pm$ 0.040} & \\underline{0.830 $\\pm$ 0.030} \\\\"))
        let csv = try read(folder, "results/tables/findings-auroc.csv")
        #expect(csv.hasPrefix("Backbone,10% mean,10% std,10% n,100% mean,100% std,100% n\r\n"
            + "pixels,0.620000,0.020000,3,0.710000,0.010000,3\r\n"))
        let index = try read(folder, "results/index.html")
        #expect(index.contains("<a href=\"tables/findings-auroc.md\">"))
        #expect(index.contains("<td><b>0.740 ± 0.040</b></td>"))
        #expect(index.contains("declared in Experiments/cli-test.yaml"))
        #expect(result.output.contains("rendered 1 tables and 0 figures"))
    }

    @Test func explanationTracesEveryCellToItsStagesAndRun() throws {
        let (folder, database, keys) = try findingsFolder()
        let result = try CLI.run(["tables", "--db", database.path, "--out", "report", "--explain",
                                  "--spec", "Experiments/cli-test.yaml"], in: folder)
        #expect(result.status == 0, "\(result.errorOutput)")
        let pixelsKey = try #require(keys["pixels 0.1 1"])
        #expect(result.output.contains("  [pixels] [10%] = 0.620 ± 0.020\n    seed 0: 0.6  stage \(try #require(keys["pixels 0.1 0"]))  run 1"))
        #expect(result.output.contains("    seed 1: 0.62  stage \(pixelsKey)  run 1 (started 2023-11-14 22:13:20.000)"))
        let explanation = try read(folder, "report/tables/findings-auroc.explain.csv")
        let lines = explanation.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 1 + 18)
        #expect(lines[0].hasPrefix("row,column,value,note,stage_key,run_id,run_started_at,spec_digest,experiment,task"))
        #expect(lines[2].hasPrefix("pixels,10%,0.62,,\(pixelsKey),1,2023-11-14 22:13:20.000,\(ResultsFixtures.key(999)),cli-test,findings,pixels,phantom,mlp,cls,0.1,1,all,all,mean,auroc"))
        // The per-label rows are left out: the table shows the macro mean.
        #expect(!explanation.contains(",nodule,"))
    }

    @Test func meanCIAndMeanSummaries() throws {
        let (folder, _, _) = try findingsFolder()
        for (summary, expected) in [("mean-ci", "| vit-tiny | **0.740 [0.641, 0.839]** |"), ("mean", "| vit-tiny | **0.740** | *0.830* |")] {
            let spec = ResultsFixtures.findingsSpec.replacingOccurrences(of: "summary: mean-std", with: "summary: \(summary)")
            try spec.write(to: folder.appendingPathComponent("Experiments/cli-test.yaml"), atomically: true, encoding: .utf8)
            let result = try CLI.run(["tables"], in: folder)
            #expect(result.status == 0, "\(result.errorOutput)")
            let markdown = try read(folder, "results/tables/findings-auroc.md")
            #expect(markdown.contains(expected), "\(summary): \(markdown)")
        }
        // `mean` prints no spread, and its caption says so.
        #expect(try read(folder, "results/tables/findings-auroc.md")
            .hasPrefix("**AUROC on phantom findings.** Mean over seeds; best in bold, second best in italics."))
        #expect(try read(folder, "results/tables/findings-auroc.tex").contains("(mean over seeds; best in bold"))
    }

    @Test func tablesOverSeveralTasksGroupColumnsByTask() throws {
        let folder = try makeTemporaryDirectory()
        let database = folder.appendingPathComponent("results/xrbench.sqlite")
        try ResultsFixtures.fillRetrieval(database, sampleIDs: [], tasks: [("view", 0.6, 300), ("anatomy", 0.8, 301)])
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("Experiments"), withIntermediateDirectories: true)
        try """
            experiment: cli-retrieval
            backbones: {pixels: {kind: pixels}}
            datasets: {phantom: {kind: phantom, count: 10}}
            tasks:
              - {name: view, kind: retrieval, k: [5], relevance: view, matrix: {backbone: [pixels], dataset: [phantom]}}
              - {name: anatomy, kind: retrieval, k: [5], relevance: anatomy, matrix: {backbone: [pixels], dataset: [phantom]}}
            tables:
              - {name: retrieval, tasks: [view, anatomy], rows: backbone, columns: k, metric: precision@k, summary: mean}
              - {name: by-label, tasks: [view, anatomy], rows: backbone, columns: label, metric: precision@k}

            """.write(to: folder.appendingPathComponent("Experiments/retrieval.yaml"), atomically: true, encoding: .utf8)

        let result = try CLI.run(["tables"], in: folder)

        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(try read(folder, "results/tables/retrieval.md").hasSuffix("""
            | Backbone | view / P@5 | anatomy / P@5 |
            | --- | ---: | ---: |
            | pixels | 0.600 | 0.800 |

            """))
        // Labels tell these tasks apart already: no task group.
        #expect(try read(folder, "results/tables/by-label.md").contains("| Backbone | view | anatomy |"))
        let latex = try read(folder, "results/tables/retrieval.tex")
        #expect(latex.contains("\\multicolumn{1}{c}{view} & \\multicolumn{1}{c}{anatomy}"))
    }

    @Test func withoutASpecRendersAutomaticTables() throws {
        let folder = try makeTemporaryDirectory()
        try ResultsFixtures.fillFindings(folder.appendingPathComponent("results/xrbench.sqlite"))
        let result = try CLI.run(["tables"], in: folder)
        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(result.errorOutput.contains("no spec declares tables for cli-test: rendered automatic tables"))
        let markdown = try read(folder, "results/tables/cli-test-findings-auroc.md")
        // Recorded order without a spec; values as in the declared table.
        #expect(markdown.contains("| vit-tiny-2 | *0.660 ± 0.010* | **0.900 ± 0.000** |\n| pixels | 0.620 ± 0.020 | 0.710 ± 0.010 |"))
    }

    @Test func fairnessBoxPlotsMarkSignificance() throws {
        let folder = try makeTemporaryDirectory()
        let database = folder.appendingPathComponent("results/xrbench.sqlite")
        try ResultsFixtures.fillFairness(database)
        let result = try CLI.run(["tables"], in: folder)
        #expect(result.status == 0, "\(result.errorOutput)")
        let svg = try read(folder, "results/figures/cli-fair-sex-fairness.svg")
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.contains(">***<"))
        #expect(svg.contains(">ns<"))
        #expect(try read(folder, "results/index.html").contains("<img src=\"figures/cli-fair-sex-fairness.svg\""))
        // The automatic table: backbone and training subgroup down, test subgroup across; no
        // tables of interval bounds.
        #expect(try read(folder, "results/tables/cli-fair-sex-auroc.md").hasSuffix("""
            | Backbone, Trained on | test male | test female |
            | --- | ---: | ---: |
            | vit-tiny, male | **0.800** | 0.700 |
            | vit-tiny, female | 0.700 | **0.800** |

            """))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("results/tables/cli-fair-sex-auroc-ci-low.md").path))
    }

    @Test func aCoordinateVaryingInOneTaskSplitsOnlyThatTasksColumns() throws {
        let folder = try makeTemporaryDirectory()
        try ResultsFixtures.fillQC(folder.appendingPathComponent("results/xrbench.sqlite"))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("Experiments"), withIntermediateDirectories: true)
        try """
            experiment: cli-qc
            backbones: {pixels: {kind: pixels}}
            datasets: {phantom: {kind: phantom, count: 10}}
            tasks:
              - {name: anatomy, kind: classification, labels: [anatomy], target: multiclass, metric: mcc,
                 matrix: {backbone: [pixels], dataset: [phantom]}}
              - {name: marker, kind: classification, labels: [marker], metric: mcc,
                 matrix: {backbone: [pixels], dataset: [phantom], features: [cls, mean]}}
            tables:
              - {name: qc, tasks: [anatomy, marker], rows: backbone, columns: fraction, metric: mcc}

            """.write(to: folder.appendingPathComponent("Experiments/qc.yaml"), atomically: true, encoding: .utf8)

        let result = try CLI.run(["tables"], in: folder)

        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(try read(folder, "results/tables/qc.md").hasSuffix("""
            | Backbone | anatomy / 100% | marker / 100%, CLS | marker / 100%, mean-pooled |
            | --- | ---: | ---: | ---: |
            | pixels | 0.900 | 0.300 | 0.700 |

            """))
    }

    @Test func declaredFairnessFigureFollowsTheSpecsSubgroupOrder() throws {
        let folder = try makeTemporaryDirectory()
        try ResultsFixtures.fillFairness(folder.appendingPathComponent("results/xrbench.sqlite"))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("Experiments"), withIntermediateDirectories: true)
        try """
            experiment: cli-fair
            backbones: {vit-tiny: {kind: vit-tiny-random}}
            datasets: {phantom: {kind: phantom, count: 10}}
            tasks:
              - name: sex
                kind: fairness
                labels: [nodule]
                matrix: {backbone: [vit-tiny], dataset: [phantom], train: [female, male], test: [female, male]}
            figures:
              - {name: fig4, kind: fairness-boxplot, task: sex, caption: Nodule AUROC by sex}

            """.write(to: folder.appendingPathComponent("Experiments/fair.yaml"), atomically: true, encoding: .utf8)

        let result = try CLI.run(["tables"], in: folder)

        #expect(result.status == 0, "\(result.errorOutput)")
        let svg = try read(folder, "results/figures/fig4.svg")
        #expect(svg.contains("Nodule AUROC by sex — vit-tiny, nodule"))
        let female = try #require(svg.range(of: "test: female")), male = try #require(svg.range(of: "test: male"))
        #expect(female.lowerBound < male.lowerBound)
        // The legend follows the training order too: female first.
        let legendFemale = try #require(svg.range(of: ">female<")), legendMale = try #require(svg.range(of: ">male<"))
        #expect(legendFemale.lowerBound < legendMale.lowerBound)
    }

    @Test func retrievalGalleryEmbedsThumbnails() throws {
        let folder = try makeTemporaryDirectory()
        let phantom = try CLI.run(["phantom", "--out", "data", "--count", "6", "--seed", "3", "--size", "64"], in: folder)
        #expect(phantom.status == 0, "\(phantom.errorOutput)")
        let manifest = try read(folder, "data/manifest.csv").split(whereSeparator: \.isNewline).map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
        let idColumn = try #require(manifest[0].firstIndex(of: "id"))
        let ids = manifest.dropFirst().map { $0[idColumn] }
        try ResultsFixtures.fillRetrieval(folder.appendingPathComponent("results/xrbench.sqlite"), sampleIDs: ids)

        let result = try CLI.run(["tables", "--images", "data", "--gallery-neighbours", "3"], in: folder)

        #expect(result.status == 0, "\(result.errorOutput)")
        let svg = try read(folder, "results/figures/cli-retrieval-view-gallery.svg")
        #expect(svg.components(separatedBy: "href=\"data:image/png;base64,").count - 1 == 2 * 4)
        #expect(svg.contains("stroke=\"#009E73\""))
        #expect(svg.contains("stroke=\"#D55E00\""))
        #expect(svg.contains("#1  0.990"))
        let markdown = try read(folder, "results/tables/cli-retrieval-view-precision.md")
        #expect(markdown.contains("| Backbone | P@5 |\n| --- | ---: |\n| pixels | 0.600 |"))
    }

    @Test func galleryWithoutNeighboursIsSkippedWithANote() throws {
        let folder = try makeTemporaryDirectory()
        let database = folder.appendingPathComponent("results/xrbench.sqlite")
        try ResultsFixtures.fillRetrieval(database, sampleIDs: [])
        let result = try CLI.run(["tables"], in: folder)
        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(result.errorOutput.contains("skipped: the retrieval stages of task view recorded no per-query neighbours"))
        #expect(try read(folder, "results/index.html").contains("Not rendered"))
    }

    @Test func missingDatabaseAndSpecAreClearErrors() throws {
        let folder = try makeTemporaryDirectory()
        let noDatabase = try CLI.run(["tables"], in: folder)
        #expect(noDatabase.status != 0)
        #expect(!noDatabase.crashed)
        #expect(noDatabase.errorOutput.contains("no results database at ") && noDatabase.errorOutput.contains("/results/xrbench.sqlite"))

        try ResultsFixtures.fillFindings(folder.appendingPathComponent("results/xrbench.sqlite"))
        let noSpec = try CLI.run(["tables", "--spec", "Experiments/missing.yaml"], in: folder)
        #expect(noSpec.status != 0)
        #expect(noSpec.errorOutput.contains("Experiments/missing.yaml: no such spec file"))
    }
}
