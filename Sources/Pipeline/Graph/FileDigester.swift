import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file-system problem met while digesting the files a spec points at.
public struct FileDigestError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// The path.
    public var path: String
    /// What went wrong.
    public var problem: String

    /// Creates an error.
    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    /// `path: problem`.
    public var description: String { "\(path): \(problem)" }
    /// Same as `description`.
    public var errorDescription: String? { description }
}

/// Size and modification time: if both are unchanged the content is assumed unchanged.
struct FileStamp: Codable, Hashable, Sendable {
    var size: Int64
    var modifiedNanoseconds: Int64

    /// The stamp of a regular file, or `nil` if there is none at `path`.
    static func of(path: String) -> FileStamp? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        #if canImport(Darwin)
        let time = info.st_mtimespec
        #else
        let time = info.st_mtim
        #endif
        return FileStamp(size: Int64(info.st_size), modifiedNanoseconds: Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
    }
}

/// SHA-256 of file contents, memoised by (path, size, modification time) in a small JSON file,
/// so an unchanged 350 MB weight file is hashed once, not on every run.
///
/// Thread-safe; `save()` writes the memo atomically (last writer wins, which only costs a re-hash).
public final class FileDigester: @unchecked Sendable {
    private struct Entry: Codable {
        var stamp: FileStamp
        var digest: String
    }

    private let memoURL: URL?
    private let lock = NSLock()
    private var entries: [String: Entry]
    private var changed = false
    /// Bytes actually read and hashed since creation (tests use it to see the memo work).
    public private(set) var bytesHashed: Int64 = 0

    /// Opens (or starts) the memo at `memoURL`; `nil` keeps it in memory only.
    public init(memoURL: URL?) {
        self.memoURL = memoURL
        if let memoURL, let data = try? Data(contentsOf: memoURL),
           let decoded = try? JSONDecoder().decode([String: Entry].self, from: data) {
            entries = decoded
        } else {
            entries = [:]
        }
    }

    /// The hex SHA-256 of the file at `path`.
    /// - Throws: `FileDigestError` when it is missing, not a regular file or unreadable.
    public func digest(ofFile path: String) throws -> String {
        guard let stamp = FileStamp.of(path: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw FileDigestError(path: path, problem: exists ? "is not a regular file" : "does not exist")
        }
        lock.lock()
        if let entry = entries[path], entry.stamp == stamp {
            lock.unlock()
            return entry.digest
        }
        lock.unlock()
        let digest = try Self.hash(path: path)
        lock.lock()
        entries[path] = Entry(stamp: stamp, digest: digest)
        changed = true
        bytesHashed += stamp.size
        lock.unlock()
        return digest
    }

    /// One digest for a folder: SHA-256 over the sorted relative paths and digests of its regular
    /// files (recursively, hidden files skipped).
    /// - Throws: `FileDigestError` when the folder is missing or a file is unreadable.
    public func digest(ofDirectory path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FileDigestError(path: path, problem: "is not an existing folder")
        }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else {
            throw FileDigestError(path: path, problem: "cannot be listed")
        }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            if FileStamp.of(path: path + "/" + relative) != nil { files.append(relative) }
        }
        var hasher = SHA256()
        for relative in files.sorted() {
            hasher.update(data: Data("\(relative)\u{0}\(try digest(ofFile: path + "/" + relative))\n".utf8))
        }
        return hexString(hasher.finalize())
    }

    /// Writes the memo if anything changed.
    public func save() throws {
        lock.lock()
        defer { lock.unlock() }
        guard changed, let memoURL else { return }
        try FileManager.default.createDirectory(at: memoURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Entry by entry: the encoder's tree of a whole 20,000-image memo took 30 MB, twice the
        // text. Each entry is encoded as a one-key object whose braces are dropped, so keys are
        // escaped exactly as the encoder escapes them. The text goes out in pieces of about
        // 1 MiB to a temporary file that then replaces the memo (the whole text took 6.6 MB).
        let temporary = memoURL.deletingLastPathComponent()
            .appendingPathComponent(".\(memoURL.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
              let file = FileHandle(forWritingAtPath: temporary.path) else {
            throw FileDigestError(path: temporary.path, problem: "cannot be created")
        }
        do {
            defer { try? file.close() }
            let encoder = JSONEncoder()
            var data = Data([0x7B])
            var first = true
            for (path, entry) in entries {
                let member = try encoder.encode([path: entry])
                if !first { data.append(0x2C) }
                first = false
                data.append(member[(member.startIndex + 1)..<(member.endIndex - 1)])
                if data.count >= 1 << 20 {
                    try file.write(contentsOf: data)
                    data.removeAll(keepingCapacity: true)
                }
            }
            data.append(0x7D)
            try file.write(contentsOf: data)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        guard rename(temporary.path, memoURL.path) == 0 else {
            let problem = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw FileDigestError(path: memoURL.path, problem: "cannot replace the memo: \(problem)")
        }
        changed = false
    }

    /// Streams the file through SHA-256 in 4 MiB chunks.
    static func hash(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileDigestError(path: path, problem: "cannot be opened for reading")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: 4 << 20) ?? Data()
            } catch {
                throw FileDigestError(path: path, problem: "read failed: \(error.localizedDescription)")
            }
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return hexString(hasher.finalize())
    }
}
