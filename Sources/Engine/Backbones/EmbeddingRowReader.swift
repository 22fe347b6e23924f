import Evaluation
import Foundation
import Tensor

/// Feature rows of chosen samples read from memory-mapped embedding files (the store's shards,
/// or an `embed` artifact's own tensor file): each batch copies its rows out of the mappings and
/// then gives the pages back (`SafetensorsFile.releaseData`), so a probe's resident memory stays
/// about one batch of pages however large the dataset. The pages stay in the kernel's page
/// cache, so the next epoch reads them again without disk I/O.
///
/// Every position is checked against its file's tensor shapes when the reader is made, so a
/// later read cannot run past a tensor.
struct EmbeddingRowReader: FeatureRowReader {
    let count: Int
    let width: Int
    private let files: [SafetensorsFile]
    /// Per row: file index, row in that file.
    private let places: [Int32]
    /// Tensors concatenated per row (`cls`, `mean` or both), each `dimension` wide.
    private let names: [String]
    private let dimension: Int

    /// - Throws: `RunnerError.artifact` naming the file when a tensor is missing, not
    ///   `[rows, dimension]`, or shorter than a position needs.
    init(files: [SafetensorsFile], places: [Int32], names: [String], dimension: Int) throws {
        var rowsPerFile = [Int](repeating: Int.max, count: files.count)
        for (index, file) in files.enumerated() {
            for name in names {
                guard let entry = file.entry(named: name), entry.shape.count == 2, entry.shape[1] == dimension else {
                    throw RunnerError.artifact(path: file.url.path, problem: "tensor \(name) is missing or not [rows, \(dimension)]")
                }
                rowsPerFile[index] = min(rowsPerFile[index], entry.shape[0])
            }
        }
        for position in stride(from: 0, to: places.count, by: 2) {
            let file = Int(places[position]), row = Int(places[position + 1])
            guard files.indices.contains(file) else {
                throw RunnerError.artifact(path: "embedding.json", problem: "a sample's rows are in shard \(file) of \(files.count)")
            }
            guard row >= 0, row < rowsPerFile[file] else {
                throw RunnerError.artifact(path: files[file].url.path, problem: "holds \(rowsPerFile[file]) rows, a sample's rows are at \(row)")
            }
        }
        self.files = files
        self.places = places
        self.names = names
        self.dimension = dimension
        count = places.count / 2
        width = names.count * dimension
    }

    func copyRows(_ rows: UnsafeBufferPointer<Int>, into destination: UnsafeMutablePointer<Float>) throws {
        var touched = Set<Int32>()
        defer { for file in touched { files[Int(file)].releaseData() } }
        for (position, row) in rows.enumerated() {
            let file = places[2 * row], fileRow = Int(places[2 * row + 1])
            touched.insert(file)
            for (part, name) in names.enumerated() {
                try files[Int(file)].copyFloats(named: name, elements: (fileRow * dimension)..<((fileRow + 1) * dimension),
                                                into: destination + position * width + part * dimension, releasing: false)
            }
        }
    }
}
