import Foundation
import Tensor

/// The `embed` artifact: CLS and mean-pooled patch tokens per sample, in manifest order.
///
/// Files: `embeddings.safetensors` with `cls` `[N, D]` and (unless the backbone has no patch
/// tokens to pool, as a precomputed file with CLS alone) `mean` `[N, D]`; `embedding.json`
/// with the sample ids, the width and a note on what the features are.
public struct EmbeddingArtifact: Sendable {
    static let tensorFile = "embeddings.safetensors"
    static let infoFile = "embedding.json"

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

    func write(to directory: URL) throws {
        let count = info.ids.count
        precondition(cls.count == count * info.dimension && (mean?.count ?? cls.count) == cls.count, "embedding shapes")
        var tensors = ["cls": Tensor(shape: [count, info.dimension], scalars: cls)]
        if let mean { tensors["mean"] = Tensor(shape: [count, info.dimension], scalars: mean) }
        try saveSafetensors(tensors, to: directory.appendingPathComponent(Self.tensorFile))
        try ArtifactJSON.write(info, to: directory, name: Self.infoFile)
    }

    static func read(from directory: URL) throws -> EmbeddingArtifact {
        let info = try ArtifactJSON.read(Info.self, from: directory, name: infoFile)
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
}
