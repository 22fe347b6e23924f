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
            #expect(try embedding.features(of: samples, selection) == expected, "\(selection)")
        }
    }
}
