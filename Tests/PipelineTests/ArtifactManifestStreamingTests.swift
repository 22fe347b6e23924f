import Foundation
@testable import Pipeline
import Testing

/// The streamed check of completeness manifests (`ArtifactManifest.streamedCheck`) against the
/// whole-file decode it replaces, and the memo `FileDigester.save` writes in pieces.
@Suite struct ArtifactManifestStreamingTests {
    let key = StageKey(String(repeating: "cd", count: 32))

    /// An artifact of `count` files (names with characters the encoder escapes) and its manifest's URL.
    func commitArtifact(_ cache: ArtifactCache, count: Int) throws -> URL {
        let pending = try cache.beginWrite(key, kind: .manifest)
        let data = pending.directory.appendingPathComponent("data/a \"quoted\" {dir}", isDirectory: true)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        for index in 0..<count {
            try Data("image \(index)".utf8).write(to: data.appendingPathComponent("image,\(index)]\\.png"))
        }
        try Data("{}".utf8).write(to: pending.directory.appendingPathComponent("manifest.json"))
        return try cache.commit(pending)
    }

    /// What `lookup` said before streaming: the whole file decoded, then `problem(in:thorough:)`.
    func wholeCheck(_ folder: URL, thorough: Bool) -> ArtifactManifest.StreamedCheck {
        let url = folder.appendingPathComponent(ArtifactManifest.fileName)
        guard let data = try? Data(contentsOf: url), let manifest = try? JSONDecoder().decode(ArtifactManifest.self, from: data),
              manifest.key == key else { return .unreadable }
        return manifest.problem(in: folder, thorough: thorough).map { .problem($0) } ?? .complete
    }

    func streamed(_ folder: URL, thorough: Bool, chunkSize: Int = 1 << 20) -> ArtifactManifest.StreamedCheck? {
        ArtifactManifest.streamedCheck(of: folder.appendingPathComponent(ArtifactManifest.fileName), key: key, directory: folder,
                                       thorough: thorough, chunkSize: chunkSize)
    }

    @Test func splitterGivesEveryEntryAndTheSkeletonInAnyPieces() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let folder = try commitArtifact(cache, count: 40)
        let data = try Data(contentsOf: folder.appendingPathComponent(ArtifactManifest.fileName))
        let whole = try JSONDecoder().decode(ArtifactManifest.self, from: data)
        #expect(whole.files.count == 41)
        for size in [1, 7, 64, data.count] {
            var splitter = ArtifactManifest.FilesArraySplitter()
            var files: [ArtifactManifest.File] = []
            for start in stride(from: 0, to: data.count, by: size) {
                splitter.feed(data[start..<min(start + size, data.count)]) { files.append(try! JSONDecoder().decode(ArtifactManifest.File.self, from: $0)) }
            }
            #expect(!splitter.failed && splitter.finished)
            #expect(files == whole.files, "pieces of \(size) bytes")
            var skeleton = whole
            skeleton.files = []
            #expect(try JSONDecoder().decode(ArtifactManifest.self, from: splitter.skeleton) == skeleton)
        }
    }

    @Test func manifestWrittenEntryByEntryIsTheEncodersBytes() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let folder = try commitArtifact(cache, count: 25)
        let date = Date(timeIntervalSinceReferenceDate: 818_265_585.203_296_1)
        let written = folder.appendingPathComponent("streamed.json")
        try ArtifactManifest.write(scanning: folder, key: key, kind: .manifest, to: written, committedAt: date)
        try FileManager.default.removeItem(at: written)   // so the scans below list the same files
        var whole = try ArtifactManifest.scan(folder, key: key, kind: .manifest)
        whole.committedAt = date
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try ArtifactManifest.write(scanning: folder, key: key, kind: .manifest, to: written, committedAt: date)
        #expect(try Data(contentsOf: written) == encoder.encode(whole))
        #expect(whole.files.count == 26)
        // An artifact of no files.
        let empty = try makeFolder()
        try ArtifactManifest.write(scanning: empty, key: key, kind: .embed, to: empty.appendingPathComponent(ArtifactManifest.fileName), committedAt: date)
        #expect(try Data(contentsOf: empty.appendingPathComponent(ArtifactManifest.fileName))
                == encoder.encode(ArtifactManifest(key: key, kind: .embed, files: [], committedAt: date)))
    }

    @Test func streamedCheckSaysWhatTheWholeDecodeSays() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let folder = try commitArtifact(cache, count: 30)
        let images = folder.appendingPathComponent("data/a \"quoted\" {dir}")
        for thorough in [false, true] {
            #expect(streamed(folder, thorough: thorough, chunkSize: 13) == .complete)
            #expect(wholeCheck(folder, thorough: thorough) == .complete)
        }
        // Same size, other bytes, time kept: only a thorough check sees it.
        let changed = images.appendingPathComponent("image,12]\\.png")
        let time = try FileManager.default.attributesOfItem(atPath: changed.path)[.modificationDate] as! Date
        try Data("image 99".utf8).write(to: changed)
        try FileManager.default.setAttributes([.modificationDate: time], ofItemAtPath: changed.path)
        try FileManager.default.removeItem(at: images.appendingPathComponent("image,20]\\.png"))
        for thorough in [false, true] {
            let expected = wholeCheck(folder, thorough: thorough)
            guard case .problem = expected else {
                Issue.record("the whole decode found no problem")
                continue
            }
            #expect(streamed(folder, thorough: thorough, chunkSize: 13) == expected)
            #expect(streamed(folder, thorough: thorough) == expected)
        }
    }

    @Test func otherKeyIsUnreadableAndMalformedTextFallsBack() throws {
        let cache = try ArtifactCache(root: makeFolder())
        let folder = try commitArtifact(cache, count: 3)
        let url = folder.appendingPathComponent(ArtifactManifest.fileName)
        let text = try String(contentsOf: url, encoding: .utf8)
        try text.replacingOccurrences(of: key.rawValue, with: String(repeating: "ef", count: 32)).write(to: url, atomically: true, encoding: .utf8)
        #expect(streamed(folder, thorough: false) == .unreadable)
        for malformed in [String(text.dropLast(2)), text.replacingOccurrences(of: "\"files\":[{", with: "\"files\":[1,{"), "[" + text + "]"] {
            try malformed.write(to: url, atomically: true, encoding: .utf8)
            #expect(streamed(folder, thorough: false) == nil)
        }
        // Through lookup: a malformed manifest is still a corrupt artifact, removed.
        #expect(cache.lookup(key, kind: .manifest) == .corrupt("the completeness manifest is unreadable"))
        #expect(!FileManager.default.fileExists(atPath: folder.path))
    }

    @Test func memoWrittenInPiecesReadsBack() throws {
        // More than 1 MiB of memo text, so it is written in several pieces.
        let folder = try makeFolder()
        let name = String(repeating: "n", count: 200)
        var paths: [String] = []
        for index in 0..<4000 {
            let path = folder.appendingPathComponent("\(index)-\(name)\"é").path
            try Data("\(index)".utf8).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let memo = folder.appendingPathComponent("memo/digests.json")
        let digester = FileDigester(memoURL: memo)
        let digests = try paths.map { try digester.digest(ofFile: $0) }
        try digester.save()
        #expect(try Data(contentsOf: memo).count > 1 << 20)
        let reopened = FileDigester(memoURL: memo)
        #expect(try paths.map { try reopened.digest(ofFile: $0) } == digests)
        #expect(reopened.bytesHashed == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: memo.deletingLastPathComponent().path) == ["digests.json"])
    }
}
