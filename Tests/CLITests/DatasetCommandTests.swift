import Foundation
import Testing
import TestSupport

/// `xrbench dataset` and `xrbench kinds` through the built binary.
@Suite struct DatasetCommandTests {
    static let nihFixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("DatasetsTests/Fixtures/nih_small")

    @Test func describesANIHDatasetNamedInASpecWithoutItsImages() throws {
        let folder = try makeTemporaryDirectory()
        try """
            experiment: describe
            datasets:
              nih:
                kind: nih
                data_entry: \(Self.nihFixture.path)/Data_Entry_2017.csv
                root: \(Self.nihFixture.path)
                test_list: \(Self.nihFixture.path)/test_list.txt
            backbones: {pixels: {kind: pixels}}
            tasks:
              - {name: f, kind: classification, labels: [Effusion], metric: auroc, matrix: {backbone: [pixels], dataset: [nih]}}
            """.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let text = try CLI.run(["dataset", "spec.yaml", "nih"], in: folder)
        #expect(text.status == 0, "\(text.errorOutput)")
        #expect(text.output.hasPrefix("dataset nih: "))
        #expect(text.output.contains("Effusion"))
        let json = try CLI.run(["dataset", "spec.yaml", "nih", "--format", "json", "--splits"], in: folder)
        #expect(json.status == 0, "\(json.errorOutput)")
        let decoded = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        #expect(decoded?["dataset"] as? String == "nih")

        let unknown = try CLI.run(["dataset", "spec.yaml", "nihh"], in: folder)
        #expect(unknown.status != 0 && !unknown.crashed)
        #expect(unknown.errorOutput.contains("no dataset \"nihh\" (defined: nih)") && unknown.errorOutput.contains("did you mean \"nih\"?"))
    }

    @Test func kindsListsEveryRegistration() throws {
        let result = try CLI.run(["kinds"], in: try makeTemporaryDirectory())
        #expect(result.status == 0)
        for kind in ["`dinov2`", "`pixels`", "`csv`", "`nih`", "`chexpert`", "`mlp`", "`classification`", "`fairness`", "`local`"] {
            #expect(result.output.contains(kind), "\(kind) missing")
        }
    }
}

/// `xrbench tables` finds the spec of an experiment from its runs when it is not under Experiments/.
@Suite struct TablesFromRunsTests {
    @Test func declaredTablesOfASpecOutsideExperimentsAreRendered() throws {
        let folder = try makeTemporaryDirectory()
        let elsewhere = folder.appendingPathComponent("studies/mine")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        try """
            experiment: mine
            backbones: {pixels: {kind: pixels, size: 8, display: Pixels 8×8}}
            datasets: {phantom: {kind: phantom, count: 48, seed: 2, size: 32}}
            heads: {quick: {kind: linear, max_epochs: 5}}
            tasks:
              - name: anatomy
                kind: classification
                labels: [anatomy]
                target: multiclass
                metric: accuracy
                matrix: {backbone: [pixels], dataset: [phantom], head: [quick], seed: [0, 1]}
            tables:
              - {name: my-table, tasks: anatomy, rows: backbone, columns: fraction, metric: accuracy, show_count: true}
            """.write(to: elsewhere.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", "studies/mine/spec.yaml", "--quiet"], in: folder)
        #expect(run.status == 0, "\(run.errorOutput)")
        let tables = try CLI.run(["tables"], in: folder)
        #expect(tables.status == 0, "\(tables.errorOutput)")
        #expect(!tables.errorOutput.contains("no spec declares tables"))
        let markdown = try String(contentsOf: folder.appendingPathComponent("results/tables/my-table.md"), encoding: .utf8)
        #expect(markdown.contains("| Pixels 8×8 |") && markdown.contains("(n = "), "\(markdown)")
    }
}
