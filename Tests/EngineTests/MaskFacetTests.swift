import Datasets
import Engine
import Foundation
import Imaging
import Pipeline
import Results
import Testing
import TestSupport

/// Mask files are content: a segmentation dataset's manifest digests every one into its
/// `content` facet (what splits, probes and later segmentation stages key on), never into its
/// `images` facet (what embeddings key on).
struct MaskProject {
    let folder: URL
    let embedded = ImageCount()
    let configuration: EngineConfiguration

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-masks-\(UUID().uuidString)")
        var options = PhantomOptions()
        options.imageSize = 32
        try generatePhantomDataset(at: folder.appendingPathComponent("data"), count: 24, seed: 5, options: options, masks: true)
        var registry = Registry.standard
        registry.register(backbone: CountingHistogramFamily(embedded: embedded))
        configuration = EngineConfiguration(
            cacheDirectory: folder.appendingPathComponent("cache"), databasePath: folder.appendingPathComponent("results.sqlite"),
            jobs: 2, environment: [:], registry: registry, observer: nil, handlesInterrupts: false)
    }

    func spec(onError: String? = nil) -> String {
        """
        experiment: masks
        backbones:
          hist: {kind: histogram, bins: 8}
        datasets:
          phantom:
            kind: csv
            manifest: data/manifest.csv
            root: data
            patient_column: patient
            label_columns: [marker]
            label_map_column: mask
            mask_classes: [\(phantomMaskClasses.joined(separator: ", "))]
            label_map_encoding: bits\(onError.map { "\n    on_error: \($0)" } ?? "")
        heads: {quick: {kind: linear, max_epochs: 3}}
        tasks:
          - {name: marker, kind: classification, labels: [marker], metric: accuracy, matrix: {backbone: [hist], dataset: [phantom], head: [quick]}}
        """
    }

    func run(_ yaml: String) throws -> RunReport {
        let url = folder.appendingPathComponent("spec.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return try Engine.run(specURL: url, configuration: configuration)
    }

    func computed(_ report: RunReport) throws -> [String: Int] {
        let table = try ResultStore.openReadOnly(path: configuration.databasePath).query(
            "SELECT kind, count(*) FROM stage_execution WHERE run_id = \(report.runID) AND status = 'succeeded' GROUP BY kind")
        return Dictionary(uniqueKeysWithValues: table.rows.map { ($0[0].textValue ?? "", Int($0[1].doubleValue ?? -1)) })
    }

    /// The label maps, sorted.
    func masks() throws -> [URL] {
        let folder = folder.appendingPathComponent("data/masks")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { folder.appendingPathComponent($0) }
    }
}

@Suite struct MaskFacetTests {
    @Test func aChangedMaskReKeysSplitsButNoEmbeddingAndTheSameBytesChangeNothing() throws {
        let project = try MaskProject()
        let first = try project.run(project.spec())
        #expect(first.status == .succeeded, "\(first.summary)")
        #expect(project.embedded.take() == 24)
        // The same bytes written again (a new modification time): nothing is new.
        let mask = try project.masks()[5]
        let bytes = try Data(contentsOf: mask)
        Thread.sleep(forTimeInterval: 1.1)
        try bytes.write(to: mask)
        let rewritten = try project.run(project.spec())
        #expect(try project.computed(rewritten) == [:], "\(rewritten.summary)")
        // Other content at the same path: what reads the manifest's content runs again; no image is embedded.
        try DecodedImage(width: 32, height: 32, channels: 1, bitDepth: 8, samples: Array(repeating: 4, count: 1024)).writePNG(to: mask)
        let changed = try project.run(project.spec())
        #expect(changed.status == .succeeded, "\(changed.summary)")
        #expect(project.embedded.take() == 0)
        let computed = try project.computed(changed)
        #expect(computed["embed"] == nil && computed["split"] == 1 && computed["probe"] == 1, "\(computed)")
    }

    @Test func missingMasksAreListedAtOnceOrTheirSamplesSkipped() throws {
        let project = try MaskProject()
        let gone = try project.masks()
        let removed = [gone[2], gone[9]]
        for url in removed { try FileManager.default.removeItem(at: url) }
        // The manifest of a dataset outside the cache runs first, before any stage: the run stops there.
        #expect {
            _ = try project.run(project.spec())
        } throws: { error in
            let message = "\(error)"
            return message.contains("2 mask files cannot be read") && removed.allSatisfy { message.contains($0.path + ": ") }
                && message.contains("on_error: skip")
        }
        #expect(project.embedded.take() == 0)

        // A corrupt one too; with on_error: skip their samples are left out and recorded.
        try Data("not a png".utf8).write(to: gone[14])
        let skipped = try project.run(project.spec(onError: "skip"))
        #expect(skipped.status == .succeeded, "\(skipped.summary)")
        #expect(project.embedded.take() == 21)
        let issues = try ResultStore.openReadOnly(path: project.configuration.databasePath)
            .query("SELECT file, severity, message FROM latest_sample_issue ORDER BY file").rows
        #expect(issues.map { $0[0].textValue ?? "" } == [removed[0].path, removed[1].path, gone[14].path].sorted())
        #expect(issues.allSatisfy { $0[1].textValue == "skipped" && ($0[2].textValue ?? "").hasPrefix("mask: ") })
    }
}
