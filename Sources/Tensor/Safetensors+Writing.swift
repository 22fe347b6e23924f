import Foundation

/// Writes tensors as a safetensors file of F32 data (F16 for the names in `asFloat16`).
///
/// Tensors are stored in name order; the JSON header has sorted keys and is padded with spaces
/// to a multiple of 8 bytes so that the data section, and so every F32 tensor, is aligned for
/// memory-mapped reading. The file is written under a temporary name and renamed into place,
/// so readers never see a partial file.
/// - Parameters:
///   - tensors: name → tensor. Names must not be `__metadata__`.
///   - url: destination; replaced if it exists.
///   - metadata: stored as `__metadata__` (omitted when empty).
/// - Throws: `TensorFileError` (`.inputOutput`) when the file cannot be written.
/// - Complexity: O(total bytes); each tensor is copied once into the write buffer.
public func saveSafetensors(_ tensors: [String: Tensor], to url: URL, metadata: [String: String] = [:],
                            asFloat16 halfNames: Set<String> = []) throws {
    precondition(tensors["__metadata__"] == nil, "'__metadata__' is reserved in safetensors headers")
    let names = tensors.keys.sorted()
    var header: [String: Any] = [:]
    var offset = 0
    for name in names {
        let tensor = tensors[name]!
        let half = halfNames.contains(name)
        let byteCount = tensor.count * (half ? 2 : MemoryLayout<Float>.size)
        header[name] = ["dtype": half ? "F16" : "F32", "shape": tensor.shape, "data_offsets": [offset, offset + byteCount]] as [String: Any]
        offset += byteCount
    }
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var headerBytes: Data
    do {
        headerBytes = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
    } catch {
        throw TensorFileError(file: url, kind: .inputOutput("cannot encode the header: \(error)"))
    }
    headerBytes.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8))
    var lengthPrefix = Data(count: 8)
    lengthPrefix.withUnsafeMutableBytes { $0.storeBytes(of: UInt64(headerBytes.count).littleEndian, as: UInt64.self) }
    try writeAtomically(to: url) { handle in
        try handle.write(contentsOf: lengthPrefix)
        try handle.write(contentsOf: headerBytes)
        for name in names {
            if halfNames.contains(name) {
                // Rounded to nearest, ties to even (IEEE binary16, as torch's .half()).
                let halves = tensors[name]!.scalars.map { Float16($0).bitPattern.littleEndian }
                try halves.withUnsafeBufferPointer { try handle.write(contentsOf: Data(buffer: $0)) }
            } else {
                try tensors[name]!.withUnsafeBufferPointer { try handle.write(contentsOf: Data(buffer: $0)) }
            }
        }
    }
}

/// Creates `url` by writing a sibling temporary file through `body` and renaming it into place.
func writeAtomically(to url: URL, _ body: (FileHandle) throws -> Void) throws {
    let temporary = url.deletingLastPathComponent()
        .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).partial")
    func failure(_ reason: String) -> TensorFileError { TensorFileError(file: url, kind: .inputOutput(reason)) }
    guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
        throw failure("cannot create \(temporary.lastPathComponent) in \(url.deletingLastPathComponent().path)")
    }
    do {
        let handle = try FileHandle(forWritingTo: temporary)
        do {
            try body(handle)
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        if rename(temporary.path, url.path) != 0 {
            throw failure("cannot rename into place: \(String(cString: strerror(errno)))")
        }
    } catch let error as TensorFileError {
        try? FileManager.default.removeItem(at: temporary)
        throw error
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw failure("write failed: \(error.localizedDescription)")
    }
}
