import Evaluation
import Foundation
import Synchronization
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// Feature rows of chosen samples read from embedding files (the store's shards, or an `embed`
/// artifact's own tensor file) each time they are asked for: what a probe trains and tests on,
/// so its memory does not grow with the dataset.
///
/// Float32 rows (what `embed` writes for CLS and mean) are read with `pread` from the kernel's
/// page cache: after the first epoch no disk I/O, no page of the files in the process's
/// resident set, ~0.5 µs of system call per row. Other dtypes are converted out of the mapping,
/// whose pages are given back after every request. At most `openFileLimit` files are open at
/// once (closed oldest first): half the process's descriptor limit, which is first raised to
/// its hard limit (up to 65,536), so CheXpert's ~900 shards of 256 images stay open together.
///
/// Every position is checked against its file's tensor shapes when the reader is made, so a
/// later read cannot run past a tensor.
final class EmbeddingRowReader: FeatureRowReader {
    let count: Int
    let width: Int
    /// Files open at once, at most.
    static let openFileLimit: Int = {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 64 }
        let wanted = min(limit.rlim_max, 65_536)
        if limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = wanted
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return max(16, Int(limit.rlim_cur) / 2)
    }()

    private let files: [SafetensorsFile]
    /// Per row: file index, row in that file.
    private let places: [Int32]
    /// Tensors concatenated per row (`cls`, `mean` or both), each `dimension` wide.
    private let names: [String]
    private let dimension: Int
    /// Per file and tensor of `names`: its byte offset when it is F32 (read by `pread`), else nil.
    private let offsets: [[Int?]]
    private let descriptors = Mutex(OpenFiles())
    /// Files this reader keeps open at once, at most.
    private let openFiles: Int

    private struct OpenFiles: ~Copyable {
        var byFile: [Int: Int32] = [:]
        var order: [Int] = []
        deinit { for descriptor in byFile.values { close(descriptor) } }
    }

    /// - Throws: `RunnerError.artifact` naming the file when a tensor is missing, not
    ///   `[rows, dimension]`, or shorter than a position needs.
    /// - Parameter openFiles: files kept open at once, at most (default `openFileLimit`).
    init(files: [SafetensorsFile], places: [Int32], names: [String], dimension: Int, openFiles: Int = openFileLimit) throws {
        var rowsPerFile = [Int](repeating: Int.max, count: files.count)
        var offsets: [[Int?]] = []
        for (index, file) in files.enumerated() {
            var fileOffsets: [Int?] = []
            for name in names {
                guard let entry = file.entry(named: name), entry.shape.count == 2, entry.shape[1] == dimension else {
                    throw RunnerError.artifact(path: file.url.path, problem: "tensor \(name) is missing or not [rows, \(dimension)]")
                }
                rowsPerFile[index] = min(rowsPerFile[index], entry.shape[0])
                #if _endian(little)
                fileOffsets.append(entry.dtype == .float32 ? file.fileOffset(of: name) : nil)
                #else
                fileOffsets.append(nil)
                #endif
            }
            offsets.append(fileOffsets)
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
        self.offsets = offsets
        self.openFiles = max(1, openFiles)
        count = places.count / 2
        width = names.count * dimension
    }

    func copyRows(_ rows: UnsafeBufferPointer<Int>, into destination: UnsafeMutablePointer<Float>) throws {
        var mapped = Set<Int>()
        defer { for file in mapped { files[file].releaseData() } }
        let rowBytes = dimension * MemoryLayout<Float>.size
        for (position, row) in rows.enumerated() {
            let file = Int(places[2 * row]), fileRow = Int(places[2 * row + 1])
            for (part, name) in names.enumerated() {
                let target = destination + position * width + part * dimension
                if let offset = offsets[file][part] {
                    try read(file: file, at: offset + fileRow * rowBytes, bytes: rowBytes, into: UnsafeMutableRawPointer(target))
                } else {
                    mapped.insert(file)
                    try files[file].copyFloats(named: name, elements: (fileRow * dimension)..<((fileRow + 1) * dimension),
                                               into: target, releasing: false)
                }
            }
        }
    }

    /// Reads under the lock, so that no other caller closes the descriptor in between.
    private func read(file: Int, at offset: Int, bytes: Int, into target: UnsafeMutableRawPointer) throws {
        try descriptors.withLock { open in
            let descriptor = try descriptor(of: file, in: &open)
            var done = 0
            while done < bytes {
                let count = pread(descriptor, target + done, bytes - done, off_t(offset + done))
                if count < 0, errno == EINTR { continue }
                guard count > 0 else {
                    let reason = count == 0 ? "ends before byte \(offset + bytes)" : String(cString: strerror(errno))
                    throw RunnerError.artifact(path: files[file].url.path, problem: "cannot read an embedding row: \(reason)")
                }
                done += count
            }
        }
    }

    private func descriptor(of file: Int, in open: inout OpenFiles) throws -> Int32 {
        if let descriptor = open.byFile[file] { return descriptor }
        let descriptor = Glibc.open(files[file].url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw RunnerError.artifact(path: files[file].url.path, problem: "cannot open: \(String(cString: strerror(errno)))")
        }
        if open.order.count >= openFiles {
            let oldest = open.order.removeFirst()
            if let closing = open.byFile.removeValue(forKey: oldest) { close(closing) }
        }
        open.byFile[file] = descriptor
        open.order.append(file)
        return descriptor
    }
}
