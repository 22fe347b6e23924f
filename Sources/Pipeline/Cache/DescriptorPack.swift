import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file of stage descriptors, `stages/<name>.pack`: one line per stage, sorted by key,
///
///     <64 hex digits of the key> <the stage as canonical JSON>
///
/// so a lookup is a binary search over a memory-mapped file. One pack holds every descriptor a
/// `plan` or `run` saved at once: a 100,000-stage spec is one file written in one go instead of
/// 100,000 files (which took minutes and 400 MB of disk blocks). Packs are written under a
/// temporary name and renamed into place, so readers see whole packs only.
struct DescriptorPack {
    static let fileExtension = "pack"
    private static let keyLength = 64
    private static let newline = UInt8(ascii: "\n")

    /// The pack file.
    let url: URL
    /// Its bytes (memory-mapped).
    private let bytes: Data

    /// Opens a pack; nil when it vanished (a concurrent compaction) or cannot be read.
    init?(url: URL) {
        guard let bytes = try? Data(contentsOf: url, options: .alwaysMapped) else { return nil }
        self.url = url
        self.bytes = bytes
    }

    /// The descriptor lines of `stages` (sorted by key, one per key), encoded on every core.
    static func lines(of stages: some Sequence<Stage>) throws -> [(key: StageKey, line: [UInt8])] {
        var seen = Set<StageKey>()
        let unique = stages.filter { seen.insert($0.key).inserted }.sorted { $0.key < $1.key }
        let lines = Mutex([[UInt8]?](repeating: nil, count: unique.count))
        let failure = Mutex<(any Error)?>(nil)
        let chunk = 1024
        DispatchQueue.concurrentPerform(iterations: (unique.count + chunk - 1) / chunk) { part in
            let range = (part * chunk)..<min(unique.count, (part + 1) * chunk)
            var encoded: [[UInt8]] = []
            encoded.reserveCapacity(range.count)
            do {
                for stage in unique[range] {
                    var line = Array(stage.key.rawValue.utf8)
                    line.append(UInt8(ascii: " "))
                    line += Array(try ParameterValue(encoding: stage).canonicalJSON.utf8)
                    line.append(newline)
                    encoded.append(line)
                }
            } catch {
                failure.withLock { $0 = $0 ?? error }
                return
            }
            lines.withLock { lines in
                for (offset, line) in zip(range, encoded) { lines[offset] = line }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        let encoded = lines.withLock { $0 }
        return zip(unique, encoded).map { ($0.key, $1 ?? []) }
    }

    /// Writes `lines` (sorted by key) as a new pack in `folder`.
    /// - Throws: `CacheError` when the file cannot be written.
    @discardableResult
    static func write(_ lines: [(key: StageKey, line: [UInt8])], in folder: URL) throws -> URL {
        let name = String(format: "%08x%08x", UInt32.random(in: 0...UInt32.max), UInt32.random(in: 0...UInt32.max))
        let url = folder.appendingPathComponent("\(name).\(fileExtension)")
        var contents: [UInt8] = []
        contents.reserveCapacity(lines.reduce(0) { $0 + $1.line.count })
        for entry in lines { contents += entry.line }
        do {
            // `.atomic` writes a temporary file beside it and renames it into place.
            try Data(contents).write(to: url, options: .atomic)
        } catch {
            throw CacheError(path: url.path, problem: "cannot write the stage descriptors: \(error.localizedDescription)")
        }
        return url
    }

    /// The line starting at `offset`: its key and the range of its JSON.
    private func line(at offset: Int) -> (key: Substring, json: Range<Int>, next: Int)? {
        bytes.withUnsafeBytes { raw -> (Substring, Range<Int>, Int)? in
            let base = raw.bindMemory(to: UInt8.self)
            guard offset + Self.keyLength + 1 < base.count else { return nil }
            var end = offset + Self.keyLength + 1
            if let found = memchr(base.baseAddress! + end, Int32(Self.newline), base.count - end) {
                end = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - base.baseAddress!
            } else {
                end = base.count
            }
            let key = Substring(String(decoding: UnsafeBufferPointer(rebasing: base[offset..<(offset + Self.keyLength)]), as: UTF8.self))
            return (key, (offset + Self.keyLength + 1)..<end, end + 1)
        }
    }

    /// The start of the line that contains `offset`.
    private func lineStart(containing offset: Int) -> Int {
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Int in
            var index = offset
            while index > 0 && raw[index - 1] != Self.newline { index -= 1 }
            return index
        }
    }

    /// The offset of the first line whose key is not below `key` (for a prefix: the first key
    /// that could start with it), or the end of the file.
    private func lowerBound(_ key: String) -> Int {
        // `low` is always a line start whose predecessors are below `key`; `high` a line start
        // (or the end) at or above it. Each step moves one of them past the middle line.
        var low = 0, high = bytes.count
        while low < high {
            let start = lineStart(containing: low + (high - low) / 2)
            guard let line = line(at: start) else { return bytes.count }
            if line.key < key {
                low = line.next
            } else {
                high = start
            }
        }
        return low
    }

    /// The JSON of the descriptor of `key`, if this pack has it.
    func json(for key: StageKey) -> Data? {
        guard let line = line(at: lowerBound(key.rawValue)), line.key == key.rawValue else { return nil }
        return bytes.subdata(in: line.json)
    }

    /// Keys that start with `prefix` (at most `limit`).
    func keys(withPrefix prefix: String, limit: Int) -> [StageKey] {
        var result: [StageKey] = []
        var offset = lowerBound(prefix)
        while result.count < limit, let line = line(at: offset), line.key.hasPrefix(prefix) {
            result.append(StageKey(String(line.key)))
            offset = line.next
        }
        return result
    }

    /// Every line, in key order.
    func entries() -> [(key: StageKey, line: [UInt8])] {
        var result: [(StageKey, [UInt8])] = []
        var offset = 0
        while let line = line(at: offset) {
            result.append((StageKey(String(line.key)), [UInt8](bytes[offset..<line.json.upperBound]) + [Self.newline]))
            offset = line.next
        }
        return result
    }

    /// Every key, in order.
    func keys() -> [StageKey] {
        var result: [StageKey] = []
        var offset = 0
        while let line = line(at: offset) {
            result.append(StageKey(String(line.key)))
            offset = line.next
        }
        return result
    }
}
