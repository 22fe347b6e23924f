import Datasets
import Foundation
import Pipeline
import Tensor

/// `precomputed`: embeddings computed elsewhere (say PyTorch on a GPU), matched to the manifest
/// by sample id.
///
/// Accepted files (`embeddings` option):
/// - `.npy` of shape `[N, D]` (CLS only) or `[N, 2, D]` (CLS, then mean-pooled patch tokens);
///   the ids come from the `ids` option: a text file with one id per line.
/// - `.safetensors` with `cls` `[N, D]` and optionally `mean` `[N, D]` (a file holding a single
///   `[N, D]` tensor of another name is taken as CLS); ids from the `ids` file or, without
///   one, the header metadata `ids` (a JSON array of strings).
///
/// An id is a manifest sample id, an image path as the manifest writes it (relative to the
/// dataset's root), or an absolute image path inside the dataset's root (as `xrbench embed`
/// writes with absolute inputs). Every manifest sample must have exactly one row; rows of
/// samples outside the manifest, a width other than the `dimension` option, and non-finite
/// values are errors naming the file.
public struct PrecomputedFamily: BackboneFamily {
    public var name: String { "precomputed" }
    public var summary: String { "embeddings computed elsewhere (.npy or .safetensors) matched to the manifest by sample id" }
    public var options: [SchemaField] {
        [
            SchemaField("embeddings", .path(.file), required: true),
            SchemaField("ids", .path(.file)),
            SchemaField("dimension", .integer(.atLeastOne)),
        ]
    }

    /// Creates the family.
    public init() {}

    public func makeBackbone(_ options: ComponentOptions) throws -> any Backbone {
        PrecomputedEmbeddings(file: try options.requiredPath("embeddings"),
                              idsFile: try options.string("ids").map { URL(fileURLWithPath: $0) },
                              dimension: try options.integer("dimension"))
    }
}

struct PrecomputedEmbeddings: ManifestBackbone {
    let file: URL
    let idsFile: URL?
    let dimension: Int?

    var description: String { "precomputed \(file.lastPathComponent)" }

    func embeddings(for manifest: Manifest, context: StageContext) throws -> EmbeddingArtifact {
        try load(for: manifest)
    }

    func load(for manifest: Manifest) throws -> EmbeddingArtifact {
        let (cls, mean, width, metadataIDs) = try readMatrices()
        let ids: [String]
        if let idsFile {
            guard let text = try? String(contentsOf: idsFile, encoding: .utf8) else {
                throw RunnerError.precomputed(file: idsFile.path, problem: "cannot be read as UTF-8 text (one sample id per line)")
            }
            ids = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        } else if let metadataIDs {
            ids = metadataIDs
        } else {
            throw RunnerError.precomputed(file: file.path, problem: "no sample ids: give an `ids` file (one id per line, in row order)"
                                          + (file.pathExtension == "safetensors" ? " or an `ids` JSON array in the safetensors metadata" : ""))
        }
        let rows = cls.count / width
        let idSource = idsFile?.path ?? file.path
        guard ids.count == rows else {
            throw RunnerError.precomputed(file: idSource, problem: "\(ids.count) ids for \(rows) embedding rows in \(file.lastPathComponent)")
        }
        if let dimension, dimension != width {
            throw RunnerError.precomputed(file: file.path, problem: "rows are \(width) wide, but the registry says dimension \(dimension)")
        }
        var sampleOfKey: [String: Int] = [:]
        for (index, sample) in manifest.samples.enumerated() {
            sampleOfKey[sample.id] = index
            if sampleOfKey[sample.imagePath] == nil { sampleOfKey[sample.imagePath] = index }
            let absolute = manifest.imageURL(of: sample).standardizedFileURL.path
            if sampleOfKey[absolute] == nil { sampleOfKey[absolute] = index }
        }
        var rowOfSample = [Int](repeating: -1, count: manifest.samples.count)
        var extra: [String] = []
        for (row, id) in ids.enumerated() {
            guard let sample = sampleOfKey[id] else { extra.append(id); continue }
            guard rowOfSample[sample] < 0 else {
                throw RunnerError.precomputed(file: idSource, problem: "sample \(manifest.samples[sample].id) has two rows (\(rowOfSample[sample] + 1) and \(row + 1))")
            }
            rowOfSample[sample] = row
        }
        if !extra.isEmpty {
            let known = manifest.samples.prefix(2).map(\.id)
            throw RunnerError.precomputed(file: idSource, problem: "\(extra.count) of \(ids.count) ids name no sample of the \(manifest.dataset) manifest, e.g. \(Self.examples(extra)); "
                                          + "ids must be sample ids (such as \(Self.examples(known))), image paths relative to the dataset root "
                                          + "\(manifest.root.path), or absolute image paths inside it")
        }
        let missing = manifest.samples.indices.filter { rowOfSample[$0] < 0 }.map { manifest.samples[$0].id }
        if !missing.isEmpty {
            throw RunnerError.precomputed(file: idSource, problem: "\(missing.count) of \(manifest.samples.count) manifest samples have no embedding, e.g. \(Self.examples(missing))")
        }
        func reorder(_ matrix: [Float], name: String) throws -> [Float] {
            var output = [Float](repeating: 0, count: manifest.samples.count * width)
            for (sample, row) in rowOfSample.enumerated() {
                let values = matrix[(row * width)..<((row + 1) * width)]
                if let bad = values.firstIndex(where: { !$0.isFinite }) {
                    throw RunnerError.precomputed(file: file.path, problem: "\(name) row \(row + 1) (\(ids[row])) holds a non-finite value at column \(bad - row * width)")
                }
                output.replaceSubrange((sample * width)..<((sample + 1) * width), with: values)
            }
            return output
        }
        return EmbeddingArtifact(
            info: .init(ids: manifest.samples.map(\.id), dimension: width, backbone: "precomputed \(file.lastPathComponent)",
                        hasMean: mean != nil,
                        note: mean == nil ? "CLS rows from \(file.lastPathComponent); no mean-pooled tokens" : "CLS and mean rows from \(file.lastPathComponent)"),
            cls: try reorder(cls, name: "cls"), mean: try mean.map { try reorder($0, name: "mean") })
    }

    private static func examples(_ ids: [String]) -> String {
        ids.prefix(3).map { "\"\($0)\"" }.joined(separator: ", ") + (ids.count > 3 ? ", ..." : "")
    }

    /// CLS rows, mean rows when present, the width, and ids from the file's own metadata.
    private func readMatrices() throws -> (cls: [Float], mean: [Float]?, width: Int, ids: [String]?) {
        switch file.pathExtension.lowercased() {
        case "npy":
            let tensor = try loadNumPy(at: file)
            switch tensor.shape.count {
            case 2 where tensor.shape[1] > 0:
                return (tensor.scalars, nil, tensor.shape[1], nil)
            case 3 where tensor.shape[1] == 2 && tensor.shape[2] > 0:
                let (rows, width) = (tensor.shape[0], tensor.shape[2])
                let all = tensor.scalars
                var cls: [Float] = [], mean: [Float] = []
                cls.reserveCapacity(rows * width)
                mean.reserveCapacity(rows * width)
                for row in 0..<rows {
                    cls.append(contentsOf: all[(row * 2 * width)..<((row * 2 + 1) * width)])
                    mean.append(contentsOf: all[((row * 2 + 1) * width)..<((row * 2 + 2) * width)])
                }
                return (cls, mean, width, nil)
            default:
                throw RunnerError.precomputed(file: file.path, problem: "has shape \(tensor.shape); expected [N, D] (CLS) or [N, 2, D] (CLS and mean)")
            }
        case "safetensors":
            let contents = try SafetensorsFile(contentsOf: file)
            var ids: [String]?
            if let text = contents.metadata["ids"] {
                guard let list = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
                    throw RunnerError.precomputed(file: file.path, problem: "metadata \"ids\" is not a JSON array of strings")
                }
                ids = list
            }
            let clsName = contents.entry(named: "cls") != nil ? "cls" : (contents.names.count == 1 ? contents.names[0] : nil)
            guard let clsName else {
                throw RunnerError.precomputed(file: file.path, problem: "has no tensor named \"cls\" (it has \(contents.names.joined(separator: ", ")))")
            }
            let cls = try contents.tensor(named: clsName)
            guard cls.shape.count == 2, cls.shape[1] > 0 else {
                throw RunnerError.precomputed(file: file.path, problem: "tensor \(clsName) has shape \(cls.shape); expected [N, D]")
            }
            var mean: [Float]?
            if clsName == "cls", contents.entry(named: "mean") != nil {
                let tensor = try contents.tensor(named: "mean")
                guard tensor.shape == cls.shape else {
                    throw RunnerError.precomputed(file: file.path, problem: "tensor mean has shape \(tensor.shape), but cls has \(cls.shape)")
                }
                mean = tensor.scalars
            }
            return (cls.scalars, mean, cls.shape[1], ids)
        default:
            throw RunnerError.precomputed(file: file.path, problem: "is neither .npy nor .safetensors")
        }
    }
}
