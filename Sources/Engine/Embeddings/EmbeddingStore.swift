import Crypto
import Foundation
import Pipeline
import Tensor

/// The identity of a backbone's embeddings apart from the image: the family, its options
/// without the paths that only say where files are, the content digests of its files, and the
/// embed code version. An image's embedding is (space, image digest); labels, splits and where
/// the dataset or the model folder lies never enter it.
struct EmbeddingSpace: Sendable, Hashable {
    /// Hex SHA-256 of the identity.
    let key: String
    /// What the backbone is, for `xrbench cache du`.
    let description: String

    init(parameters: EmbedParameters, pathOptions: Set<String>, codeVersion: Int, description: String) {
        var material: [String: ParameterValue] = [
            "backbone": .string(parameters.backbone),
            "options": .object(parameters.options.filter { !pathOptions.contains($0.key) }),
            "files": .object(parameters.files.mapValues { .string($0.digest) }),
            "version": .integer(codeVersion),
        ]
        material["kind"] = .string("embedding-space")
        key = sha256Hex(Data(ParameterValue.object(material).canonicalJSON.utf8))
        self.description = description
    }
}

/// Where one image's rows are: a shard and a row in it.
struct ShardLocation: Sendable, Hashable, Codable {
    /// The shard's key.
    var shard: String
    /// The row in the shard.
    var row: Int
}

/// What a shard holds (`shard.json`).
struct ShardRecord: Codable, Sendable {
    /// The embedding space.
    var space: String
    /// The backbone's description.
    var backbone: String
    /// The images' digests, one per row.
    var images: [String]
    /// Width of each row.
    var dimension: Int
    /// Patch grid of token outputs.
    var grid: [Int]?
    /// What it stores besides CLS and mean.
    var outputs: EmbeddingOutputs
}

/// The embedding store: rows of embeddings in shards of a bounded number of images, each an
/// artifact of the cache (kind `embedding-shard`, committed atomically with its completeness
/// manifest as soon as it is computed), keyed by its space, outputs and images. A marker file
/// per shard under `embedding-spaces/<space>/` lists a space's shards without reading the others.
///
/// An image is looked up by (space, digest) in any shard of the space that stores at least what
/// is asked, so the same image in two datasets is embedded once, a grown dataset embeds only its
/// new images, and a killed stage resumes at its first missing shard. Several processes fill one
/// stage's shards at once: each takes the next shard whose lock is free.
struct EmbeddingStore: Sendable {
    static let kind: StageKind = "embedding-shard"
    static let recordFile = "shard.json"
    static let tensorFile = "rows.safetensors"

    let cache: ArtifactCache

    private var spacesFolder: URL { cache.root.appendingPathComponent("embedding-spaces", isDirectory: true) }

    /// The key of the shard of `images` in `space` with `outputs`.
    static func shardKey(space: String, outputs: EmbeddingOutputs, images: [String]) -> StageKey {
        var hasher = SHA256()
        hasher.update(data: Data("\(space)\n\(outputs.patchTokens)\n\(outputs.layers)\n".utf8))
        for image in images { hasher.update(data: Data("\(image)\n".utf8)) }
        return StageKey(hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }

    /// Where each image of `space` has rows that include `outputs`.
    /// - Complexity: one small file read per shard of the space.
    func index(space: String, outputs: EmbeddingOutputs) -> [String: ShardLocation] {
        var index: [String: ShardLocation] = [:]
        let folder = spacesFolder.appendingPathComponent(space)
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted() {
            let key = StageKey(name)
            guard case .present(let directory) = cache.lookup(key, kind: Self.kind),
                  let record = try? ArtifactJSON.read(ShardRecord.self, from: directory, name: Self.recordFile) else {
                // The shard is gone (garbage-collected or corrupt): its marker goes too.
                try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
                continue
            }
            guard record.outputs.covers(outputs) else { continue }
            for (row, image) in record.images.enumerated() where index[image] == nil {
                index[image] = ShardLocation(shard: name, row: row)
            }
        }
        return index
    }

    /// Computes and commits the shard of `images` unless it exists, holding its lock; returns
    /// nil at once when another process holds the lock (it is computing that shard).
    /// - Parameter compute: embeds the images, returning the rows of those it could read.
    /// - Returns: the positions of `images` that have rows in the committed shard, and the
    ///   problems of the others.
    func fillShard(space: String, backbone: String, outputs: EmbeddingOutputs, images: [String], dimension: Int,
                   grid: (height: Int, width: Int)?, wait: Bool,
                   compute: () throws -> EmbeddingBatch) throws -> (rows: [Int], failures: [Int: String])? {
        let key = Self.shardKey(space: space, outputs: outputs, images: images)
        let body = { () throws -> (rows: [Int], failures: [Int: String]) in
            if case .present(let directory) = cache.lookup(key, kind: Self.kind) {
                let record = try ArtifactJSON.read(ShardRecord.self, from: directory, name: Self.recordFile)
                // A process killed between committing the shard and marking it left no marker.
                try mark(space: space, shard: key)
                let present = Set(record.images)
                return (images.indices.filter { present.contains(images[$0]) }, [:])
            }
            let batch = try compute()
            guard !batch.rows.isEmpty else { return ([], batch.failures) }
            let pending = try cache.beginWrite(key, kind: Self.kind)
            do {
                try write(batch, images: batch.rows.map { images[$0] }, record: ShardRecord(
                    space: space, backbone: backbone, images: batch.rows.map { images[$0] }, dimension: dimension,
                    grid: grid.map { [$0.height, $0.width] }, outputs: outputs), to: pending.directory)
                try cache.commit(pending)
            } catch {
                cache.abandon(pending)
                throw error
            }
            try mark(space: space, shard: key)
            return (batch.rows, batch.failures)
        }
        return wait ? try cache.withLock(key, body) : try cache.withLockIfFree(key, body)
    }

    private func write(_ batch: EmbeddingBatch, images: [String], record: ShardRecord, to directory: URL) throws {
        let count = images.count, width = record.dimension
        var tensors = ["cls": Tensor(shape: [count, width], scalars: batch.cls),
                       "mean": Tensor(shape: [count, width], scalars: batch.mean)]
        var half: Set<String> = []
        if let grid = record.grid {
            if let patch = batch.patchTokens {
                tensors["patch"] = Tensor(shape: [count, grid[0], grid[1], width], scalars: patch)
                half.insert("patch")
            }
            for (layer, values) in batch.layers {
                tensors["layer.\(layer)"] = Tensor(shape: [count, grid[0], grid[1], width], scalars: values)
                half.insert("layer.\(layer)")
            }
        }
        try saveSafetensors(tensors, to: directory.appendingPathComponent(Self.tensorFile), asFloat16: half)
        try ArtifactJSON.write(record, to: directory, name: Self.recordFile)
    }

    private func mark(space: String, shard: StageKey) throws {
        let folder = spacesFolder.appendingPathComponent(space)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: folder.appendingPathComponent(shard.rawValue).path, contents: nil)
    }

    /// The committed shard `key`'s folder.
    func directory(of key: String) throws -> URL {
        guard case .present(let directory) = cache.lookup(StageKey(key), kind: Self.kind) else {
            throw RunnerError.artifact(path: cache.directory(for: StageKey(key), kind: Self.kind).path,
                                       problem: "the embedding shard is missing or corrupt")
        }
        return directory
    }

    /// Every shard's record, by key (for garbage collection and `xrbench cache du`).
    func shards() -> [String: ShardRecord] {
        var records: [String: ShardRecord] = [:]
        for entry in cache.entries() where entry.kind == Self.kind {
            let directory = cache.directory(for: entry.key, kind: Self.kind)
            if let record = try? ArtifactJSON.read(ShardRecord.self, from: directory, name: Self.recordFile) {
                records[entry.key.rawValue] = record
            }
        }
        return records
    }

    /// Removes a shard and its marker.
    func remove(_ key: String, space: String) {
        cache.remove(StageKey(key), kind: Self.kind)
        try? FileManager.default.removeItem(at: spacesFolder.appendingPathComponent(space).appendingPathComponent(key))
    }
}
