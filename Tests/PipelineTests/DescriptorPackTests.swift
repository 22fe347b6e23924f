import Foundation
import Pipeline
import Testing

/// Stage descriptors are saved as packs: many per file, found by binary search.
@Suite struct DescriptorPackTests {
    private func stages(_ count: Int, seed: Int = 0) -> [Stage] {
        (0..<count).map { index in
            Stage(kind: StageKind(index % 3 == 0 ? "split" : "probe"), codeVersion: 2,
                  parameters: .object(["seed": .integer(seed), "index": .integer(index), "fraction": .number(0.25), "note": .string("a \"quoted\"\ttab")]),
                  inputs: index > 0 ? ["previous": StageKey(String(repeating: "0", count: 64))] : [:],
                  threads: index % 2 == 0 ? .all : .count(2),
                  coordinates: StageCoordinates(experiment: "e", task: "t", fraction: 0.25, seed: index), label: "stage \(index)")
        }
    }

    private func packFiles(_ cache: ArtifactCache) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: cache.root.appendingPathComponent("stages").path).filter { $0.hasSuffix(".pack") }
    }

    @Test func everyDescriptorOfAPackIsFoundAndEqual() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let saved = stages(500)
        try cache.saveDescriptors(saved + saved.prefix(10))  // repeats are saved once
        #expect(try packFiles(cache).count == 1)
        for stage in saved { #expect(try cache.descriptor(stage.key) == stage) }
        #expect(cache.descriptorKeys() == Set(saved.map(\.key)))
        #expect(throws: CacheError.self) { try cache.descriptor(StageKey(String(repeating: "f", count: 64))) }
        #expect(throws: CacheError.self) { try cache.descriptor(StageKey(String(repeating: "0", count: 64))) }
    }

    @Test func savingAgainWritesOnlyNewStagesAndManyPacksAreMerged() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let first = stages(20)
        try cache.saveDescriptors(first)
        try cache.saveDescriptors(first)
        #expect(try packFiles(cache).count == 1)
        var all = first
        for seed in 1...9 {
            let more = stages(20, seed: seed)
            all += more
            try cache.saveDescriptors(more)
        }
        #expect(try packFiles(cache).count <= 8)  // the ninth pack triggered a merge
        #expect(cache.descriptorKeys() == Set(all.map(\.key)))
        for stage in all { #expect(try cache.descriptor(stage.key) == stage) }
    }

    @Test func prefixesResolveAcrossPacksAndSingleFiles() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let packed = stages(200)
        try cache.saveDescriptors(packed)
        // A descriptor file as caches before packs hold them.
        let legacy = Stage(kind: StageKind("metric"), codeVersion: 1, parameters: .object([:]), label: "legacy")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try encoder.encode(legacy).write(to: cache.root.appendingPathComponent("stages/\(legacy.key.rawValue).json"))
        #expect(try cache.descriptor(legacy.key) == legacy)
        for stage in packed.prefix(50) + [legacy] {
            #expect(try cache.resolveKey(prefix: String(stage.key.rawValue.prefix(12))) == stage.key)
        }
        #expect(throws: CacheError.self) { try cache.resolveKey(prefix: "") }   // every key matches
        #expect(throws: CacheError.self) { try cache.resolveKey(prefix: "xyz") }
    }

    @Test func removedDescriptorsAreGoneAndTheRestStay() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let saved = stages(100)
        try cache.saveDescriptors(saved)
        let removed = Set(saved.prefix(30).map(\.key))
        cache.removeDescriptors(removed)
        #expect(cache.descriptorKeys() == Set(saved.map(\.key)).subtracting(removed))
        for stage in saved { #expect((try? cache.descriptor(stage.key)) == (removed.contains(stage.key) ? nil : stage)) }
    }

    @Test func aTamperedDescriptorIsRefused() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let stage = stages(1)[0]
        try cache.saveDescriptors([stage])
        let pack = cache.root.appendingPathComponent("stages").appendingPathComponent(try packFiles(cache)[0])
        let text = try String(contentsOf: pack, encoding: .utf8).replacingOccurrences(of: "stage 0", with: "stage X")
            .replacingOccurrences(of: "\"seed\":0", with: "\"seed\":1")
        try text.write(to: pack, atomically: true, encoding: .utf8)
        #expect(throws: CacheError.self) { try cache.descriptor(stage.key) }
    }
}
