import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a cache lookup found.
public enum ArtifactState: Sendable, Equatable {
    /// A complete artifact, at this folder.
    case present(URL)
    /// Nothing there.
    case missing
    /// Something there that does not match its manifest (it has been removed: treat as a miss).
    case corrupt(String)
}

/// A stage's artifact being written: the runner fills `directory`, then `commit` publishes it.
public struct PendingArtifact: Sendable {
    /// The stage.
    public var key: StageKey
    /// Its kind.
    public var kind: StageKind
    /// The temporary folder to write into.
    public var directory: URL

    /// Creates a pending artifact: `beginWrite` makes them; committing a folder under another
    /// key (a volatile stage's content key) makes one by hand.
    public init(key: StageKey, kind: StageKind, directory: URL) {
        self.key = key
        self.kind = kind
        self.directory = directory
    }
}

/// Content-addressed artifacts under `root/<kind>/<key>/`.
///
/// Writers fill a temporary folder (`root/tmp/<key>.<pid>.<random>`), a completeness manifest is
/// written into it, and one `rename` publishes it, so readers see either nothing or a complete
/// artifact. A partial or corrupt entry is removed and reported as a miss, never trusted.
public struct ArtifactCache: Sendable {
    /// The cache folder (default `.xrbench/cache`).
    public let root: URL

    /// Opens (creating if needed) the cache at `root`.
    /// - Throws: `CacheError` when the folders cannot be created.
    public init(root: URL) throws {
        self.root = root.standardizedFileURL
        for folder in ["tmp", "locks", "stages"] {
            do {
                try FileManager.default.createDirectory(at: self.root.appendingPathComponent(folder), withIntermediateDirectories: true)
            } catch {
                throw CacheError(path: self.root.path, problem: "cannot create the cache folder: \(error.localizedDescription)")
            }
        }
    }

    /// Where the artifact of `key` lives once committed.
    public func directory(for key: StageKey, kind: StageKind) -> URL {
        root.appendingPathComponent(kind.rawValue, isDirectory: true).appendingPathComponent(key.rawValue, isDirectory: true)
    }

    /// Looks up an artifact, removing it when it is incomplete or corrupt.
    /// - Parameter thorough: hash every file even when sizes and times match (used before an
    ///   artifact is fed to another stage after a crash, and by `--verify`).
    public func lookup(_ key: StageKey, kind: StageKind, thorough: Bool = false) -> ArtifactState {
        let folder = directory(for: key, kind: kind)
        // A miss costs one stat (a failed read would build an error to throw away first).
        guard FileManager.default.fileExists(atPath: folder.path) else { return .missing }
        let manifestURL = folder.appendingPathComponent(ArtifactManifest.fileName)
        // Checked one file entry at a time when the text allows (a generated dataset's artifact
        // lists every image), else decoded whole.
        if FileManager.default.isReadableFile(atPath: manifestURL.path),
           let check = ArtifactManifest.streamedCheck(of: manifestURL, key: key, directory: folder, thorough: thorough) {
            switch check {
            case .complete: return .present(folder)
            case .unreadable:
                discard(folder)
                return .corrupt("the completeness manifest is unreadable")
            case .problem(let problem):
                discard(folder)
                return .corrupt(problem)
            }
        }
        guard let data = try? Data(contentsOf: manifestURL) else {
            let problem = "the artifact has no completeness manifest"
            discard(folder)
            return .corrupt(problem)
        }
        guard let manifest = try? JSONDecoder().decode(ArtifactManifest.self, from: data), manifest.key == key else {
            discard(folder)
            return .corrupt("the completeness manifest is unreadable")
        }
        if let problem = manifest.problem(in: folder, thorough: thorough) {
            discard(folder)
            return .corrupt(problem)
        }
        return .present(folder)
    }

    /// A fresh temporary folder for writing the artifact of `key`, named by the key, this
    /// process and this host (cluster nodes share the cache; a process id means something only
    /// on its own host).
    /// - Throws: `CacheError` when it cannot be created.
    public func beginWrite(_ key: StageKey, kind: StageKind) throws -> PendingArtifact {
        let name = "\(key.rawValue).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).\(Self.hostTag)"
        let folder = root.appendingPathComponent("tmp").appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw CacheError(path: folder.path, problem: "cannot create a temporary folder: \(error.localizedDescription)")
        }
        return PendingArtifact(key: key, kind: kind, directory: folder)
    }

    /// Writes the completeness manifest and publishes the artifact with one rename.
    ///
    /// If another process committed the same key first, this copy is discarded and theirs kept
    /// (same key, same content by construction).
    /// - Returns: the committed artifact's folder.
    /// - Throws: `CacheError` when hashing or renaming fails.
    @discardableResult
    public func commit(_ pending: PendingArtifact) throws -> URL {
        try ArtifactManifest.write(scanning: pending.directory, key: pending.key, kind: pending.kind,
                                   to: pending.directory.appendingPathComponent(ArtifactManifest.fileName))
        let destination = directory(for: pending.key, kind: pending.kind)
        try? FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        if case .present = lookup(pending.key, kind: pending.kind) {
            discard(pending.directory)
            return destination
        }
        if rename(pending.directory.path, destination.path) != 0 {
            let code = errno
            if case .present = lookup(pending.key, kind: pending.kind) {
                discard(pending.directory)
                return destination
            }
            throw CacheError(path: destination.path, problem: "cannot publish the artifact: \(String(cString: strerror(code)))")
        }
        return destination
    }

    /// Deletes a pending artifact (after a failure or an interrupt).
    public func abandon(_ pending: PendingArtifact) {
        discard(pending.directory)
    }

    /// Removes a committed artifact.
    public func remove(_ key: StageKey, kind: StageKind) {
        discard(directory(for: key, kind: kind))
    }

    /// Keys of the artifact folders of `kind` (committed or not yet found corrupt), from one
    /// directory listing: stages absent from it need no `lookup`.
    public func keysPresent(kind: StageKind) -> Set<StageKey> {
        let folder = root.appendingPathComponent(kind.rawValue, isDirectory: true).path
        return Set(((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.map(StageKey.init))
    }

    /// Every committed artifact folder, as (kind, key).
    public func entries() -> [(kind: StageKind, key: StageKey)] {
        let manager = FileManager.default
        var result: [(StageKind, StageKey)] = []
        for kind in (try? manager.contentsOfDirectory(atPath: root.path)) ?? [] where !["tmp", "locks", "stages"].contains(kind) && !kind.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: root.appendingPathComponent(kind).path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for key in (try? manager.contentsOfDirectory(atPath: root.appendingPathComponent(kind).path)) ?? [] where !key.hasPrefix(".") {
                result.append((StageKind(kind), StageKey(key)))
            }
        }
        return result.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    /// This host's short name, as temporary folder names carry it (letters, digits and `-`).
    static let hostTag: String = {
        let short = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        let tag = String(short.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "-" }.map(Character.init))
        return tag.isEmpty ? "host" : tag
    }()

    /// Removes temporary folders left by processes of this host that no longer exist (after
    /// `kill -9`); another host's are left alone (its process ids cannot be checked from here).
    /// - Returns: how many were removed.
    @discardableResult
    public func removeStaleTemporaries() -> Int {
        let folder = root.appendingPathComponent("tmp")
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
            let parts = name.split(separator: ".")
            guard parts.count >= 3, let pid = Int32(parts[1]) else { continue }
            if parts.count >= 4, String(parts[3]) != Self.hostTag { continue }
            if pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
                discard(folder.appendingPathComponent(name))
                removed += 1
            }
        }
        return removed
    }

    /// Runs `body` holding an exclusive, process-wide lock on `key` (an `flock` on a lock file;
    /// the kernel releases it when the process dies, so `kill -9` never leaves it held).
    /// Two runs that need the same stage thus compute it once: the second waits, then finds it cached.
    public func withLock<Result>(_ key: StageKey, _ body: () throws -> Result) throws -> Result {
        let path = root.appendingPathComponent("locks").appendingPathComponent(key.rawValue).path
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CacheError(path: path, problem: "cannot open the lock file: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw CacheError(path: path, problem: "cannot lock: \(String(cString: strerror(errno)))") }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }

    /// Runs `body` holding the lock on `key` if no other holder has it (a non-blocking `flock`);
    /// returns nil at once otherwise, so several processes can share out work item by item.
    public func withLockIfFree<Result>(_ key: StageKey, _ body: () throws -> Result) throws -> Result? {
        let path = root.appendingPathComponent("locks").appendingPathComponent(key.rawValue).path
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CacheError(path: path, problem: "cannot open the lock file: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EWOULDBLOCK { return nil }
            guard errno == EINTR else { throw CacheError(path: path, problem: "cannot lock: \(String(cString: strerror(errno)))") }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }

    /// Moves a folder aside with one rename, then deletes it, so a half-deleted folder never
    /// sits at an artifact's address.
    private func discard(_ folder: URL) {
        let trash = root.appendingPathComponent("tmp").appendingPathComponent("trash.\(getpid()).\(UInt32.random(in: 0...UInt32.max))")
        if rename(folder.path, trash.path) == 0 {
            try? FileManager.default.removeItem(at: trash)
        } else {
            try? FileManager.default.removeItem(at: folder)
        }
    }
}
