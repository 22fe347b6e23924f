import Engine
import Foundation
import Pipeline
import Testing

/// What can be known before any work is reported by `plan` (and `run`), with file, line and
/// column: problems that used to surface only when a stage ran, or never (NULL results).
@Suite struct PlanTimeChecksTests {
    static let tinyModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/tiny-dinov2").standardizedFileURL

    func planDiagnostics(_ yaml: String, files: [String: String] = [:]) throws -> [SpecDiagnostic] {
        let folder = try makeFolder(files: files)
        let configuration = EngineConfiguration(cacheDirectory: folder.appendingPathComponent("cache"),
                                                databasePath: folder.appendingPathComponent("results.sqlite"),
                                                environment: [:], observer: nil, handlesInterrupts: false)
        let url = folder.appendingPathComponent("spec.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        do {
            _ = try Engine.plan(specURL: url, configuration: configuration)
            Issue.record("the spec planned without errors")
            return []
        } catch let error as SpecError {
            return error.diagnostics
        }
    }

    @Test func aRelevanceNameTheDatasetLacksIsAnErrorAtItsPosition() throws {
        let found = try planDiagnostics("""
            experiment: x
            backbones: {pixels: {kind: pixels}}
            datasets: {phantom: {kind: phantom, count: 20}}
            tasks:
              - name: views
                kind: retrieval
                k: [5]
                relevance: [anatomy, projecton]
                matrix: {backbone: [pixels], dataset: [phantom]}
            """)
        let diagnostic = expectSingle(found, .badValue, line: 8, column: 26, keyPath: "tasks[0].relevance[1]")
        #expect(diagnostic?.message.contains("has no label or attribute \"projecton\"") == true)
    }

    @Test func aSubgroupOnAnAttributeTheCSVDoesNotMapIsAnError() throws {
        let csv = "path,patient,gender,finding\nimages/0.png,p0,F,1\nimages/1.png,p1,M,0\n"
        let spec = """
            experiment: x
            backbones: {pixels: {kind: pixels}}
            datasets:
              local: {kind: csv, manifest: labels.csv, patient_column: patient, label_columns: [finding]}
            tasks:
              - name: sex
                kind: fairness
                labels: [finding]
                matrix: {backbone: [pixels], dataset: [local], train: [male, female], test: [all]}
            """
        let found = try planDiagnostics(spec, files: ["labels.csv": csv])
        #expect(found.count == 2)
        let first = try #require(found.first)
        #expect(first.keyPath == "tasks[0].matrix.train[0]" && first.location.line == 9)
        #expect(first.message.contains("attribute \"sex\"") && first.message.contains("attributes: {sex: COLUMN}"))
        // Mapping the column fixes it.
        let fixed = spec.replacingOccurrences(of: "label_columns: [finding]}", with: "label_columns: [finding], attributes: {sex: gender}}")
        let folder = try makeFolder(files: ["labels.csv": csv, "spec.yaml": fixed])
        let configuration = EngineConfiguration(cacheDirectory: folder.appendingPathComponent("cache"),
                                                databasePath: folder.appendingPathComponent("results.sqlite"),
                                                environment: [:], observer: nil, handlesInterrupts: false)
        _ = try Engine.plan(specURL: folder.appendingPathComponent("spec.yaml"), configuration: configuration)
    }

    @Test func aCSVColumnThatDoesNotExistIsNamedWithTheHeader() throws {
        let found = try planDiagnostics("""
            experiment: x
            backbones: {pixels: {kind: pixels}}
            datasets:
              local: {kind: csv, manifest: labels.csv, patient_column: patiant, label_columns: [finding]}
            tasks:
              - {name: f, kind: classification, labels: [finding], metric: auroc, matrix: {backbone: [pixels], dataset: [local]}}
            """, files: ["labels.csv": "path,patient,finding\nimages/0.png,p0,1\n"])
        let diagnostic = expectSingle(found, .badValue, line: 4, column: 60, keyPath: "datasets.local.patient_column")
        #expect(diagnostic?.message.contains("no column \"patiant\" (it has path, patient, finding); did you mean \"patient\"?") == true)
    }

    @Test func aResolutionThatIsNotAMultipleOfThePatchSizeIsAnErrorAtPlanTime() throws {
        let found = try planDiagnostics("""
            experiment: x
            backbones:
              tiny: {kind: dinov2, path: \(Self.tinyModel.path), resolution: 30}
              random: {kind: vit-tiny-random, resolution: 100}
            datasets: {phantom: {kind: phantom, count: 20}}
            tasks:
              - {name: f, kind: classification, labels: [nodule], metric: auroc, matrix: {backbone: [tiny, random], dataset: [phantom]}}
            """)
        #expect(found.map(\.keyPath) == ["backbones.tiny.resolution", "backbones.random.resolution"])
        #expect(found[0].location.line == 3 && found[0].message.contains("not a multiple of the patch size 14"))
        #expect(found[1].location.line == 4)
    }

    @Test func outOfRangeOptionsAreErrors() throws {
        let spec = """
            experiment: x
            backbones: {pixels: {kind: pixels, size: 1024}}
            datasets: {phantom: {kind: phantom, count: 20, bit_depth: 12}}
            tasks:
              - {name: f, kind: classification, labels: [nodule], metric: auroc, matrix: {backbone: [pixels], dataset: [phantom]}}
            """
        // The schema's range first; once the spec is well formed, the adapter's own check.
        #expect(try planDiagnostics(spec).map(\.keyPath) == ["backbones.pixels.size"])
        #expect(try planDiagnostics(spec.replacingOccurrences(of: "size: 1024", with: "size: 16")).map(\.keyPath) == ["datasets.phantom.bit_depth"])
    }
}
