import Datasets
import Evaluation
import Foundation
import Synchronization

/// Rows of an embedding's stored patch tokens (float16 in the shards, converted per sample) with
/// the manifest's masks, as a patch head's samples.
///
/// Tokens are converted from float16 on first use and kept while the samples' converted tokens
/// fit in `tokenCacheBytes` (every epoch reads every sample; past the budget they are converted
/// again each time). Masks are read once per sample at the size the head asks for (padded to a square as images
/// are before embedding, then resampled as torch's nearest) and kept as 0/1 floats. A sample whose
/// manifest entry carries no masks (`Sample.masks == nil`) counts only in the classification
/// loss; in a dataset with masks every sample has a mask per class, and an `.empty` mask is a
/// real all-background target.
final class StoredPatchTokens: PatchTokenSamples {
    let tokens: EmbeddingTokens
    /// Embedding (= manifest) row of each sample.
    let rows: [Int]
    let manifest: Manifest?
    let grid: TokenGrid
    let maskClasses: Int
    /// The names of the mask planes, in order.
    let maskClassNames: [String]
    /// Plane index, in the manifest's classes, of each class the head trains on.
    private let planes: [Int]
    private let maskCache = Mutex<[Int: [Float]]>([:])
    private let tokenCache = Mutex<[Int: [Float]]>([:])
    /// The most bytes of converted tokens each part (training, validation, test) keeps (128 MiB).
    static let tokenCacheBytes = 128 << 20

    var count: Int { rows.count }

    /// - Parameter classes: the mask classes to read, in order; nil for every class of the manifest.
    /// - Throws: `RunnerError.artifact` when the manifest's samples are not the embedding's rows or
    ///   it has no mask class of that name.
    init(tokens: EmbeddingTokens, rows: [Int], manifest: Manifest?, classes: [String]? = nil) throws {
        self.tokens = tokens
        self.rows = rows
        self.manifest = manifest
        grid = TokenGrid(height: tokens.grid.height, width: tokens.grid.width, channels: tokens.dimension)
        let available = manifest?.segmentation?.classes ?? []
        planes = try (classes ?? available).map { name in
            guard let index = available.firstIndex(of: name) else {
                throw RunnerError.artifact(path: "manifest", problem: "has no mask class \"\(name)\" (it has \(available.joined(separator: ", ")))")
            }
            return index
        }
        maskClasses = planes.count
        maskClassNames = planes.map { available[$0] }
        if let manifest, manifest.samples.map(\.id) != tokens.ids {
            throw RunnerError.artifact(path: "manifest", problem: "its samples are not the embedding's rows (\(manifest.samples.count) vs \(tokens.ids.count))")
        }
    }

    func copyTokens(sample: Int, into target: UnsafeMutablePointer<Float>) throws {
        let values: [Float]
        if let cached = tokenCache.withLock({ $0[sample] }) {
            values = cached
        } else {
            values = try tokens.patchTokens(rows[sample])
            let perSample = values.count * MemoryLayout<Float>.stride
            tokenCache.withLock { cache in
                if (cache.count + 1) * perSample <= Self.tokenCacheBytes { cache[sample] = values }
            }
        }
        values.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: values.count) }
    }

    func hasMasks(sample: Int) -> Bool {
        maskClasses > 0 && manifest?.samples[rows[sample]].masks != nil
    }

    func copyMasks(sample: Int, size: Int, into target: UnsafeMutablePointer<Float>) throws {
        let row = rows[sample]
        let values: [Float]
        if let cached = maskCache.withLock({ $0[row] }) {
            values = cached
        } else {
            guard let manifest else { preconditionFailure("masks requested without a manifest") }
            let masks = try manifest.masks(of: manifest.samples[row], size: MaskSize(width: size, height: size), padToSquare: true)
            values = planes.flatMap { masks.plane($0).map(Float.init) }
            maskCache.withLock { $0[row] = values }
        }
        values.withUnsafeBufferPointer { target.update(from: $0.baseAddress!, count: values.count) }
    }
}
