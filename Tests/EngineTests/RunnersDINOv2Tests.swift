import Engine
import Foundation
import Pipeline
import Results
import TestSupport
import Testing

/// The `dinov2` backbone end to end: a model folder with its own mean/std, odd-shaped 8- and
/// 16-bit PNGs through a CSV dataset, against transformers (`scripts/fixtures/runners.py`).
@Suite struct RunnersDINOv2Tests {
    struct Expected: Decodable {
        var ids: [String]
        var cls: [[Double]]
        var mean: [[Double]]
    }

    @Test func embedStageMatchesTransformersOnAModelFolder() throws {
        let fixtures = fixturesDirectory()
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: fixtures.appendingPathComponent("tiny-dinov2-expected.json")))
        let project = try RunnersProject()
        let report = try project.run("""
            experiment: dinov2-parity
            backbones:
              tiny: {kind: dinov2, path: \(fixtures.appendingPathComponent("tiny-dinov2").path), resolution: 28}
            datasets:
              images: {kind: csv, manifest: \(fixtures.appendingPathComponent("labels.csv").path), image_column: path, patient_column: patient, label_columns: [finding]}
            tasks:
              - name: neighbours
                kind: retrieval
                k: [1]
                relevance: finding
                matrix: {backbone: [tiny], dataset: [images], features: [cls, mean]}
            """)
        #expect(report.failures.map(\.message) == [])
        let embedFolder = project.configuration.cacheDirectory.appendingPathComponent("embed")
        let entries = try FileManager.default.contentsOfDirectory(at: embedFolder, includingPropertiesForKeys: nil)
        #expect(entries.count == 1)
        guard let artifact = entries.first else { return }
        let info = try JSONSerialization.jsonObject(with: Data(contentsOf: artifact.appendingPathComponent("embedding.json"))) as? [String: Any]
        #expect(info?["ids"] as? [String] == expected.ids)
        // The rows live in the embedding store; the artifact names their shards.
        let embedding = try EmbeddingArtifact.read(from: artifact, cacheDirectory: project.configuration.cacheDirectory)
        for (values, reference) in [(embedding.cls, expected.cls), (embedding.mean ?? [], expected.mean)] {
            expectClose(values.map(Double.init), reference.flatMap { $0 }, tolerance: 1e-5)
        }
        #expect(try project.number("SELECT count(*) FROM result WHERE metric = 'precision@1' AND value IS NOT NULL") == 2)
    }
}

/// Every F32 tensor of a safetensors file, flattened (enough for artifacts the engine writes).
func readFloat32Safetensors(_ url: URL) throws -> [String: [Float]] {
    let data = try Data(contentsOf: url)
    let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
    let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any] ?? [:]
    var tensors: [String: [Float]] = [:]
    for (name, entry) in header where name != "__metadata__" {
        guard let entry = entry as? [String: Any], entry["dtype"] as? String == "F32",
              let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else { continue }
        let bytes = data.subdata(in: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1]))
        tensors[name] = bytes.withUnsafeBytes { raw in
            (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
    return tensors
}
