import Foundation

/// The completeness record written into every committed artifact: each file's size and SHA-256.
/// An artifact without it, or whose files disagree with it, is incomplete and never trusted.
public struct ArtifactManifest: Codable, Sendable, Hashable {
    /// One file of the artifact.
    public struct File: Codable, Sendable, Hashable {
        /// Path relative to the artifact folder.
        public var path: String
        /// Size in bytes.
        public var size: Int64
        /// Hex SHA-256 of the content.
        public var sha256: String
        /// Modification time when committed (nanoseconds since 1970): an unchanged size and time
        /// lets a lookup skip re-hashing; a changed time forces a hash check.
        public var modifiedNanoseconds: Int64
    }

    /// The stage key the artifact belongs to.
    public var key: StageKey
    /// The stage kind.
    public var kind: StageKind
    /// Every file except this manifest.
    public var files: [File]
    /// When it was committed.
    public var committedAt: Date

    /// The manifest's file name inside an artifact folder.
    public static let fileName = ".xrbench-artifact.json"

    /// Lists and hashes every regular file under `directory` (except the manifest itself).
    static func scan(_ directory: URL, key: StageKey, kind: StageKind) throws -> ArtifactManifest {
        var files: [File] = []
        let base = directory.path
        guard let enumerator = FileManager.default.enumerator(atPath: base) else {
            throw CacheError(path: base, problem: "cannot list the artifact folder")
        }
        while let relative = enumerator.nextObject() as? String {
            guard relative != fileName, let stamp = FileStamp.of(path: base + "/" + relative) else { continue }
            files.append(File(path: relative, size: stamp.size, sha256: try FileDigester.hash(path: base + "/" + relative),
                              modifiedNanoseconds: stamp.modifiedNanoseconds))
        }
        files.sort { $0.path < $1.path }
        return ArtifactManifest(key: key, kind: kind, files: files, committedAt: Date())
    }

    /// Why the artifact in `directory` does not match this manifest, or `nil` when it does.
    ///
    /// Sizes are always checked; contents are hashed when `thorough` is set or a file's
    /// modification time differs from the recorded one.
    func problem(in directory: URL, thorough: Bool) -> String? {
        for file in files {
            if let problem = Self.problem(of: file, in: directory, thorough: thorough) { return problem }
        }
        return nil
    }

    /// Why `file` in `directory` does not match its entry, or `nil` when it does (see
    /// `problem(in:thorough:)`).
    static func problem(of file: File, in directory: URL, thorough: Bool) -> String? {
        let path = directory.path + "/" + file.path
        guard let stamp = FileStamp.of(path: path) else { return "\(file.path) is missing" }
        if stamp.size != file.size { return "\(file.path) has \(stamp.size) bytes, \(file.size) were committed" }
        if thorough || stamp.modifiedNanoseconds != file.modifiedNanoseconds {
            guard let digest = try? FileDigester.hash(path: path) else { return "\(file.path) cannot be read" }
            if digest != file.sha256 { return "\(file.path) content differs from what was committed" }
        }
        return nil
    }
}

/// A cache operation that failed for a reason other than a miss.
public struct CacheError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// The path involved.
    public var path: String
    /// What went wrong.
    public var problem: String

    /// Creates an error.
    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    /// `path: problem`.
    public var description: String { "artifact cache: \(path): \(problem)" }
    /// Same as `description`.
    public var errorDescription: String? { description }
}
