import Engine
import Foundation
import Pipeline
import Testing

/// Mask options are checked before any work, like the csv adapter's columns: a column, file or
/// folder an option names that is not there is reported with its key path, line and column.
@Suite struct MaskPlanTimeChecksTests {
    func configuration(_ folder: URL) -> EngineConfiguration {
        EngineConfiguration(cacheDirectory: folder.appendingPathComponent("cache"), databasePath: folder.appendingPathComponent("results.sqlite"),
                            environment: [:], observer: nil, handlesInterrupts: false)
    }

    /// The diagnostics `plan` reports for a spec in a folder holding `files`.
    func planDiagnostics(_ yaml: String, files: [String: String]) throws -> [SpecDiagnostic] {
        let folder = try makeFolder(files: files)
        let url = folder.appendingPathComponent("spec.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        do {
            _ = try Engine.plan(specURL: url, configuration: configuration(folder))
            Issue.record("the spec planned without errors")
            return []
        } catch let error as SpecError {
            return error.diagnostics
        }
    }

    /// The diagnostics `xrbench dataset` reports for dataset `name`.
    func describeDiagnostics(_ yaml: String, name: String, files: [String: String]) throws -> [SpecDiagnostic] {
        let folder = try makeFolder(files: files)
        let url = folder.appendingPathComponent("spec.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        do {
            _ = try Engine.describeDataset(specURL: url, name: name, perOfficialSplit: false, configuration: configuration(folder))
            Issue.record("the dataset was described without errors")
            return []
        } catch let error as SpecError {
            return error.diagnostics
        }
    }

    static let csv = "path,patient,finding,lung_mask,heart_mask\na.png,p0,1,m/a.png,\nb.png,p1,0,m/b.png,\n"

    func csvSpec(_ masks: String) -> String {
        """
        experiment: x
        backbones: {pixels: {kind: pixels}}
        datasets:
          local: {kind: csv, manifest: labels.csv, patient_column: patient, label_columns: [finding], \(masks)}
        tasks:
          - {name: f, kind: classification, labels: [finding], metric: auroc, matrix: {backbone: [pixels], dataset: [local]}}
        """
    }

    @Test func aMaskColumnThatDoesNotExistIsNamedWithTheHeader() throws {
        let found = try planDiagnostics(csvSpec("mask_columns: [lung_mask, hart_mask]"), files: ["labels.csv": Self.csv])
        let diagnostic = expectSingle(found, .badValue, line: 4, column: 121, keyPath: "datasets.local.mask_columns[1]")
        #expect(diagnostic?.message.contains("no column \"hart_mask\"") == true && diagnostic?.message.contains("did you mean \"heart_mask\"?") == true)
    }

    @Test func maskOptionsThatDoNotFitTogether() throws {
        let both = try planDiagnostics(csvSpec("mask_columns: [lung_mask], label_map_column: lung_mask, mask_classes: [lung]"),
                                       files: ["labels.csv": Self.csv])
        #expect(both.map(\.keyPath) == ["datasets.local.label_map_column"])
        #expect(both.first?.message.contains("not both") == true)
        let noClasses = try planDiagnostics(csvSpec("label_map_column: lung_mask"), files: ["labels.csv": Self.csv])
        #expect(noClasses.map(\.keyPath) == ["datasets.local.label_map_column"])
        #expect(noClasses.first?.message.contains("needs mask_classes") == true)
        let counts = try planDiagnostics(csvSpec("mask_columns: [lung_mask, heart_mask], mask_classes: [lung]"), files: ["labels.csv": Self.csv])
        #expect(counts.map(\.keyPath) == ["datasets.local.mask_classes"])
        let twice = try planDiagnostics(csvSpec("mask_columns: [lung_mask, heart_mask], mask_classes: [lung, lung]"), files: ["labels.csv": Self.csv])
        #expect(twice.map(\.keyPath) == ["datasets.local.mask_classes[1]"])
        let orphan = try planDiagnostics(csvSpec("label_map_encoding: bits"), files: ["labels.csv": Self.csv])
        #expect(orphan.map(\.keyPath) == ["datasets.local.label_map_encoding"])
    }

    @Test func aRunLengthFileWithoutItsColumnsIsNamed() throws {
        let spec = """
            experiment: x
            backbones: {pixels: {kind: pixels}}
            datasets:
              siim: {kind: siim-acr, rle_csv: rle.csv, root: .}
            tasks:
              - {name: f, kind: classification, labels: [Pneumothorax], metric: auroc, matrix: {backbone: [pixels], dataset: [siim]}}
            """
        let found = try planDiagnostics(spec, files: ["rle.csv": "ImageId,Pixels\na,-1\n"])
        #expect(found.map(\.keyPath) == ["datasets.siim.rle_csv"])
        #expect(found.first?.message.contains("no column \"EncodedPixels\"") == true)
        #expect(found.first?.location.line == 4)
    }

    @Test func jsrtFoldersAndVinDrJSONAreCheckedBeforeReading() throws {
        let spec = """
            experiment: x
            backbones: {pixels: {kind: pixels}}
            datasets:
              jsrt: {kind: jsrt, root: data, masks: scr}
              ribs: {kind: vindr-ribcxr, root: data, train_json: ribs.json}
            tasks:
              - {name: f, kind: classification, labels: [nodule], metric: auroc, matrix: {backbone: [pixels], dataset: [jsrt]}}
            """
        let files = ["data/images/JPCLN001.png": "", "data/masks/heart/JPCLN001.png": "", "ribs.json": "{\"img\": {\"0\": \"a.png\"}}"]
        let jsrt = try describeDiagnostics(spec, name: "jsrt", files: files)
        #expect(jsrt.map(\.keyPath) == ["datasets.jsrt.masks"])
        #expect(jsrt.first?.message.contains("scr: file not found") == true)
        let ribs = try describeDiagnostics(spec, name: "ribs", files: files)
        #expect(ribs.map(\.keyPath) == ["datasets.ribs.train_json"])
        #expect(ribs.first?.message.contains("at R1: expected an object mapping row numbers to outlines") == true)
        let structures = try describeDiagnostics(spec.replacingOccurrences(of: "masks: scr", with: "structures: [heart, left_lung]"), name: "jsrt", files: files)
        #expect(structures.map(\.keyPath) == ["datasets.jsrt.structures"])
    }
}
