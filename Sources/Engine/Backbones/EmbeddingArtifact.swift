import Evaluation
import Foundation
import Pipeline
import Tensor

/// The `embed` artifact: CLS and mean-pooled features per sample, in manifest order, and for
/// dense tasks the patch tokens and intermediate blocks.
///
/// For an image backbone the artifact is small: `embedding.json` names, for every sample, its
/// shard and row in the embedding store (`EmbeddingStore`), where the rows live once per image
/// content. For embeddings computed elsewhere (`precomputed`) the rows are in the artifact:
/// `embeddings.safetensors` with `cls` `[N, D]` and, when the file had them, `mean` `[N, D]`.
public struct EmbeddingArtifact: Sendable {
    static let tensorFile = "embeddings.safetensors"
    static let infoFile = "embedding.json"

    /// Where the rows of an image backbone's embedding are in the store.
    public struct StoreReference: Codable, Sendable {
        /// The embedding space.
        var space: String
        /// The shards used, by key.
        var shards: [String]
        /// Per sample: index into `shards`, then the row in that shard.
        var rows: [[Int]]
        /// What the shards hold besides CLS and mean.
        var outputs: EmbeddingOutputs
        /// The patch grid of token outputs.
        var grid: [Int]?
    }

    /// What the rows are.
    public struct Info: Codable, Sendable {
        /// Sample ids in row order (the manifest's order).
        public var ids: [String]
        /// Width of each row.
        public var dimension: Int
        /// The backbone's description.
        public var backbone: String
        /// Whether mean-pooled patch tokens are stored.
        public var hasMean: Bool
        /// What the rows are (e.g. how `pixels` pools).
        public var note: String
        /// Where the rows are in the embedding store (nil: in this artifact).
        public var store: StoreReference?

        /// Creates the description.
        public init(ids: [String], dimension: Int, backbone: String, hasMean: Bool, note: String) {
            self.ids = ids
            self.dimension = dimension
            self.backbone = backbone
            self.hasMean = hasMean
            self.note = note
        }
    }

    /// What the rows are.
    public var info: Info
    /// Row-major `[N, D]`.
    public var cls: [Float]
    /// Row-major `[N, D]`, when stored.
    public var mean: [Float]?

    /// Creates an artifact; `cls` (and `mean`) hold one row of `info.dimension` per id.
    public init(info: Info, cls: [Float], mean: [Float]?) {
        self.info = info
        self.cls = cls
        self.mean = mean
    }

    /// Writes the artifact; the rows go into the folder only when they are not in the store.
    func write(to directory: URL) throws {
        if info.store == nil {
            let count = info.ids.count
            precondition(cls.count == count * info.dimension && (mean?.count ?? cls.count) == cls.count, "embedding shapes")
            var tensors = ["cls": Tensor(shape: [count, info.dimension], scalars: cls)]
            if let mean { tensors["mean"] = Tensor(shape: [count, info.dimension], scalars: mean) }
            try saveSafetensors(tensors, to: directory.appendingPathComponent(Self.tensorFile))
        }
        try ArtifactJSON.write(info, to: directory, name: Self.infoFile)
    }

    /// The description alone (for garbage collection and sizes).
    static func info(in directory: URL) throws -> Info {
        try ArtifactJSON.read(Info.self, from: directory, name: infoFile)
    }

    /// Reads the CLS and mean rows of a committed `embed` artifact, from the store when they are there.
    /// - Parameter cacheDirectory: the cache the store is in.
    /// - Throws: `RunnerError.artifact` for a missing shard or a file that does not fit.
    public static func read(from directory: URL, cacheDirectory: URL) throws -> EmbeddingArtifact {
        let info = try Self.info(in: directory)
        guard let store = info.store else {
            let url = directory.appendingPathComponent(tensorFile)
            let file = try SafetensorsFile(contentsOf: url)
            func matrix(_ name: String) throws -> [Float] {
                let tensor = try file.tensor(named: name)
                guard tensor.shape == [info.ids.count, info.dimension] else {
                    throw RunnerError.artifact(path: url.path, problem: "tensor \(name) has shape \(tensor.shape), expected [\(info.ids.count), \(info.dimension)]")
                }
                return tensor.scalars
            }
            return EmbeddingArtifact(info: info, cls: try matrix("cls"), mean: info.hasMean ? try matrix("mean") : nil)
        }
        let shards = try ShardFiles(store: store, cacheDirectory: cacheDirectory)
        let width = info.dimension
        var cls = [Float](repeating: 0, count: info.ids.count * width)
        var mean = cls
        for (sample, location) in store.rows.enumerated() {
            let (file, row) = (try shards.file(location[0]), location[1])
            cls.replaceSubrange((sample * width)..<((sample + 1) * width), with: try file.floats(named: "cls", elements: (row * width)..<((row + 1) * width)))
            mean.replaceSubrange((sample * width)..<((sample + 1) * width), with: try file.floats(named: "mean", elements: (row * width)..<((row + 1) * width)))
        }
        return EmbeddingArtifact(info: info, cls: cls, mean: mean)
    }
}

/// The token outputs of an image backbone's embedding, read one sample at a time from the
/// memory-mapped shards: what dense heads stream, so memory does not grow with the dataset.
public struct EmbeddingTokens: Sendable {
    /// Sample ids in row order.
    public let ids: [String]
    /// Token width.
    public let dimension: Int
    /// Patch grid (rows, columns).
    public let grid: (height: Int, width: Int)
    /// What is stored.
    public let outputs: EmbeddingOutputs
    private let store: EmbeddingArtifact.StoreReference
    private let shards: ShardFiles

    /// Opens the token outputs of a committed `embed` artifact.
    /// - Throws: `RunnerError.artifact` when the embedding stored no tokens (a backbone without
    ///   them, or a stage compiled without a dense task) or a shard is missing.
    public init(embedDirectory: URL, cacheDirectory: URL) throws {
        let info = try EmbeddingArtifact.info(in: embedDirectory)
        guard let store = info.store, let grid = store.grid, store.outputs != .pooled else {
            throw RunnerError.artifact(path: embedDirectory.path, problem: "the embedding stores no patch tokens or blocks")
        }
        ids = info.ids
        dimension = info.dimension
        self.grid = (grid[0], grid[1])
        outputs = store.outputs
        self.store = store
        shards = try ShardFiles(store: store, cacheDirectory: cacheDirectory)
    }

    /// Sample `index`'s final-layer patch tokens, `[h, w, D]` row-major (float16 precision).
    public func patchTokens(_ index: Int) throws -> [Float] {
        try tokens("patch", index)
    }

    /// Sample `index`'s output of block `layer`, `[h, w, D]` row-major (float16 precision).
    public func layer(_ layer: Int, _ index: Int) throws -> [Float] {
        try tokens("layer.\(layer)", index)
    }

    private func tokens(_ name: String, _ index: Int) throws -> [Float] {
        let location = store.rows[index]
        let size = grid.height * grid.width * dimension
        return try shards.file(location[0]).floats(named: name, elements: (location[1] * size)..<((location[1] + 1) * size))
    }
}

/// The memory-mapped tensor files of the shards an embedding uses.
struct ShardFiles: Sendable {
    private let files: [SafetensorsFile]

    init(store reference: EmbeddingArtifact.StoreReference, cacheDirectory: URL) throws {
        let store = EmbeddingStore(cache: try ArtifactCache(root: cacheDirectory))
        files = try reference.shards.map { key in
            try SafetensorsFile(contentsOf: store.directory(of: key).appendingPathComponent(EmbeddingStore.tensorFile))
        }
    }

    func file(_ index: Int) throws -> SafetensorsFile {
        files[index]
    }

    /// Every shard's file, in the reference's order.
    var all: [SafetensorsFile] { files }
}

/// The CLS and mean rows of a committed `embed` artifact, read on demand from memory-mapped
/// files (the store's shards, or the artifact's own tensor file): what probes read, so a
/// stage holds the rows it trains and tests on and never a second copy of the whole embedding.
public struct EmbeddingRows: Sendable {
    /// What the rows are.
    public let info: EmbeddingArtifact.Info
    private let directory: URL
    /// Per sample: file index and row (in the store), or nil for the artifact's own file.
    private let locations: [[Int]]?
    private let files: [SafetensorsFile]

    /// Opens the rows of the `embed` artifact in `embedDirectory`.
    /// - Throws: `RunnerError.artifact` for a missing shard or a tensor file that does not fit.
    public init(embedDirectory: URL, cacheDirectory: URL) throws {
        info = try EmbeddingArtifact.info(in: embedDirectory)
        directory = embedDirectory
        if let store = info.store {
            locations = store.rows
            files = try ShardFiles(store: store, cacheDirectory: cacheDirectory).all
        } else {
            let url = embedDirectory.appendingPathComponent(EmbeddingArtifact.tensorFile)
            let file = try SafetensorsFile(contentsOf: url)
            for name in ["cls"] + (info.hasMean ? ["mean"] : []) {
                guard let entry = file.entry(named: name), entry.shape == [info.ids.count, info.dimension] else {
                    throw RunnerError.artifact(path: url.path, problem: "tensor \(name) is missing or not [\(info.ids.count), \(info.dimension)]")
                }
            }
            locations = nil
            files = [file]
        }
    }

    /// Width of each feature row for `selection`.
    public func width(_ selection: ProbeFeatures) -> Int {
        selection == .clsAndMeanPatch ? 2 * info.dimension : info.dimension
    }

    /// The feature rows of `samples` (indices in manifest order), in that order, read on demand
    /// from the mapped files (`EmbeddingRowReader`): what a probe trains and tests on, so its
    /// memory does not grow with the dataset.
    /// - Throws: `EvaluationError` when the embedding lacks what `selection` needs;
    ///   `RunnerError.artifact` for a shard whose tensors do not hold the rows it should.
    public func rows(of samples: [Int], _ selection: ProbeFeatures) throws -> FeatureRows {
        try rows(of: samples, selection, openFiles: EmbeddingRowReader.openFileLimit)
    }

    /// `rows(of:_:)` keeping at most `openFiles` shard files open at once.
    func rows(of samples: [Int], _ selection: ProbeFeatures, openFiles: Int) throws -> FeatureRows {
        let names = try tensorNames(selection)
        var places: [Int32] = []
        places.reserveCapacity(2 * samples.count)
        for sample in samples {
            let (file, row) = locations.map { ($0[sample][0], $0[sample][1]) } ?? (0, sample)
            places.append(Int32(file))
            places.append(Int32(row))
        }
        return .reader(try EmbeddingRowReader(files: files, places: places, names: names, dimension: info.dimension, openFiles: openFiles))
    }

    private func tensorNames(_ selection: ProbeFeatures) throws -> [String] {
        let names: [String]
        switch selection {
        case .cls: names = ["cls"]
        case .meanPatch: names = ["mean"]
        case .clsAndMeanPatch: names = ["cls", "mean"]
        }
        if names.contains("mean"), !info.hasMean {
            throw EvaluationError.invalidParameter(name: "probe features", value: selection.rawValue,
                                                   reason: "the embed stage did not store mean patch embeddings; re-run it with them enabled")
        }
        return names
    }

    /// The feature rows of `samples` (indices in manifest order), concatenated in that order:
    /// `rows(of:_:)` read once into memory, for probes small enough to hold them.
    /// - Throws: `EvaluationError` when the embedding lacks what `selection` needs or a value is
    ///   not finite (naming the sample); `RunnerError.artifact` for a file that does not fit.
    public func features(of samples: [Int], _ selection: ProbeFeatures) throws -> [Float] {
        let width = info.dimension
        let names = try tensorNames(selection)
        let values = try rows(of: samples, selection).allValues(width: names.count * width)
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            let position = bad / (names.count * width), part = bad % (names.count * width) / width, sample = samples[position]
            throw EvaluationError.nonFiniteValue(what: "\(names[part] == "cls" ? "CLS" : "mean patch") embedding of sample \(sample) (\(info.ids[sample]))",
                                                 index: bad % width)
        }
        return values
    }
}
