@testable import Engine
import Evaluation
import Foundation
import Pipeline
import Testing

/// The rows a probe stage reads on demand from the store's shards are the rows of the embed
/// artifact, in the order asked, across shard boundaries.
@Suite struct EmbeddingRowReaderTests {
    @Test func rowsReadOnDemandFromShardsAreTheArtifactsRows() throws {
        let project = try ViTStoreProject(shardImages: 6)
        defer { try? FileManager.default.removeItem(at: project.folder) }
        _ = try project.run()
        let cache = try project.cache
        let entry = try #require(cache.entries().first { $0.kind == .embed })
        let directory = cache.directory(for: entry.key, kind: .embed)
        let embedding = try EmbeddingRows(embedDirectory: directory, cacheDirectory: cache.root)
        let artifact = try EmbeddingArtifact.read(from: directory, cacheDirectory: cache.root)
        let mean = try #require(artifact.mean)
        let width = embedding.info.dimension
        #expect(try #require(embedding.info.store).shards.count == (ViTStoreProject.imageCount + 5) / 6)
        let samples = [37, 0, 5, 6, 12, 5, 39, 18]
        for selection in [ProbeFeatures.cls, .meanPatch, .clsAndMeanPatch] {
            let rows = try embedding.rows(of: samples, selection)
            let expected = samples.flatMap { sample -> [Float] in
                let cls = Array(artifact.cls[(sample * width)..<((sample + 1) * width)])
                let pooled = Array(mean[(sample * width)..<((sample + 1) * width)])
                switch selection {
                case .cls: return cls
                case .meanPatch: return pooled
                case .clsAndMeanPatch: return cls + pooled
                }
            }
            #expect(try rows.allValues(width: embedding.width(selection)) == expected, "\(selection)")
            // With fewer files open than the rows' shards: descriptors are closed and reopened.
            let few = try embedding.rows(of: samples, selection, openFiles: 2)
            #expect(try few.allValues(width: embedding.width(selection)) == expected, "\(selection), 2 files open")
            #expect(try embedding.features(of: samples, selection) == expected, "\(selection)")
        }
    }
}

/// A probe stage gives the same artifact whether it holds its rows or reads them from the
/// shards batch by batch, for every head that reads pooled rows.
@Suite struct StreamedProbeTests {
    static let spec = """
        experiment: streamed-probes
        backbones: {b: {kind: pixels, size: 12}}
        datasets: {phantom: {kind: phantom, count: 360, seed: 3, size: 48}}
        heads: {small-mlp: {kind: mlp, hidden: [24], learning_rate: 1e-3, max_epochs: 30}}
        tasks:
          - {name: findings, kind: classification, labels: [nodule, effusion], metric: auroc,
             matrix: {backbone: [b], dataset: [phantom], head: [linear, small-mlp, knn], features: [cls, cls+mean], fraction: [1.0], seed: [0]}}
          - {name: anatomy, kind: classification, labels: [anatomy], target: multiclass, metric: accuracy,
             matrix: {backbone: [b], dataset: [phantom], head: [linear, knn], fraction: [1.0], seed: [1]}}
        """

    func probeArtifacts(heldRowBytes: Int, in folder: URL) throws -> [String: Data] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent("spec.yaml")
        try Self.spec.write(to: url, atomically: true, encoding: .utf8)
        var registry = Registry.standard
        registry.register(runner: ProbeRunner(heldRowBytes: heldRowBytes))
        let configuration = EngineConfiguration(
            cacheDirectory: folder.appendingPathComponent("cache"), databasePath: folder.appendingPathComponent("results.sqlite"),
            jobs: 2, environment: [:], registry: registry, observer: nil, handlesInterrupts: false)
        let report = try Engine.run(specURL: url, configuration: configuration)
        #expect(report.failures.isEmpty, "\(report.failures.map(\.message))")
        let cache = try ArtifactCache(root: configuration.cacheDirectory)
        var artifacts: [String: Data] = [:]
        for entry in cache.entries() where entry.kind == .probe {
            artifacts[entry.key.rawValue] = try Data(contentsOf: cache.directory(for: entry.key, kind: .probe).appendingPathComponent("probe.json"))
        }
        return artifacts
    }

    @Test func probesOnRowsReadFromTheShardsEqualProbesOnHeldRows() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-streamed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let held = try probeArtifacts(heldRowBytes: Int.max, in: folder.appendingPathComponent("held"))
        let streamed = try probeArtifacts(heldRowBytes: 0, in: folder.appendingPathComponent("streamed"))
        #expect(held.count == 8)
        #expect(held == streamed)
    }
}
