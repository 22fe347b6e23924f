import Foundation
import Pipeline
import Testing

@Suite struct ArtifactCacheTests {
    let key = StageKey(String(repeating: "ab", count: 32))

    func commitSample(_ cache: ArtifactCache) throws -> URL {
        let pending = try cache.beginWrite(key, kind: .embed)
        try Data(repeating: 7, count: 4096).write(to: pending.directory.appendingPathComponent("embeddings.bin"))
        try FileManager.default.createDirectory(at: pending.directory.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try "ids".write(to: pending.directory.appendingPathComponent("sub/ids.txt"), atomically: true, encoding: .utf8)
        return try cache.commit(pending)
    }

    @Test func committedArtifactIsFoundAndTemporaryFolderIsGone() throws {
        let cache = try ArtifactCache(root: makeFolder())
        #expect(cache.lookup(key, kind: .embed) == .missing)
        let folder = try commitSample(cache)
        #expect(cache.lookup(key, kind: .embed) == .present(folder))
        #expect(cache.lookup(key, kind: .embed, thorough: true) == .present(folder))
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.root.appendingPathComponent("tmp").path).isEmpty)
        #expect(cache.entries().map(\.key) == [key])
    }

    @Test func sameSizeCorruptionIsDetectedAndTheEntryRemoved() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let folder = try commitSample(cache)
        // Same size, different bytes: the changed modification time triggers a hash check.
        try Data(repeating: 8, count: 4096).write(to: folder.appendingPathComponent("embeddings.bin"))
        guard case .corrupt(let problem) = cache.lookup(key, kind: .embed) else {
            Issue.record("corruption not detected")
            return
        }
        #expect(problem.contains("embeddings.bin"))
        #expect(!FileManager.default.fileExists(atPath: folder.path))
        #expect(cache.lookup(key, kind: .embed) == .missing)
    }

    @Test func truncatedFileOrMissingManifestIsAMiss() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let folder = try commitSample(cache)
        try Data(repeating: 7, count: 100).write(to: folder.appendingPathComponent("embeddings.bin"))
        #expect(cache.lookup(key, kind: .embed) != .present(folder))
        let again = try commitSample(cache)
        try FileManager.default.removeItem(at: again.appendingPathComponent(ArtifactManifest.fileName))
        guard case .corrupt = cache.lookup(key, kind: .embed) else {
            Issue.record("an artifact without manifest was trusted")
            return
        }
    }

    @Test func committingAnExistingKeyKeepsTheFirstCopy() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let folder = try commitSample(cache)
        let second = try commitSample(cache)
        #expect(folder == second)
        #expect(cache.lookup(key, kind: .embed, thorough: true) == .present(folder))
    }

    @Test func staleTemporariesOfDeadProcessesAreRemoved() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let tmp = cache.root.appendingPathComponent("tmp")
        // Process ids near the maximum are not in use in a test environment.
        try FileManager.default.createDirectory(at: tmp.appendingPathComponent("\(key.rawValue).4194300.1"), withIntermediateDirectories: true)
        let live = try cache.beginWrite(key, kind: .embed)
        // A folder of a process on another host (a cluster node) is not judged from here.
        let elsewhere = tmp.appendingPathComponent("\(key.rawValue).4194301.2.othernode")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        #expect(cache.removeStaleTemporaries() == 1)
        #expect(FileManager.default.fileExists(atPath: live.directory.path))
        #expect(FileManager.default.fileExists(atPath: elsewhere.path))
    }

    @Test func descriptorsRoundTripAndResolveByPrefix() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let stage = Stage(kind: StageKind("probe"), codeVersion: 3, parameters: .object(["seed": .integer(1)]), label: "probe")
        try cache.saveDescriptors([stage])
        #expect(try cache.descriptor(stage.key) == stage)
        #expect(try cache.resolveKey(prefix: stage.key.short) == stage.key)
        #expect(throws: CacheError.self) { try cache.descriptor(StageKey(String(repeating: "0", count: 64))) }
    }
}
