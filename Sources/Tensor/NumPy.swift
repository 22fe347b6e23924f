import Foundation

// NumPy `.npy` files (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
// the magic "\x93NUMPY", a version byte pair, a header length (2 bytes in v1, 4 in v2/v3), a
// Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)}, then the data.

/// Reads a NumPy `.npy` array as a Float32 tensor.
///
/// Accepts format versions 1.0, 2.0 and 3.0 and the little-endian (or byte-order-free) dtypes
/// `<f4`, `<f8`, `<f2`, `<i8`, `<i4`, `<i2`, `|i1`, `|u1`, `<u2`, `<u4`, `<u8`, `|b1`; other
/// dtypes are converted to Float (integers to the nearest Float). C order only. A `<f4`
/// array is memory-mapped without copying.
/// - Throws: `TensorFileError` naming the file when it is unreadable, not a `.npy` file, in
///   Fortran order, of an unsupported dtype (e.g. big-endian, complex, structured), or shorter
///   or longer than its header says.
public func loadNumPy(at url: URL) throws -> Tensor {
    let file = try MappedFile(url: url)
    func failure(_ kind: TensorFileError.Kind) -> TensorFileError { TensorFileError(file: url, kind: kind) }
    let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
    guard file.size >= 10 else { throw failure(.fileTooSmall(size: file.size, minimum: 10)) }
    let prefix = file.buffer(0..<min(file.size, 12))
    guard Array(prefix[0..<6]) == magic else {
        throw failure(.malformedHeader("missing the \\x93NUMPY magic string, so this is not a .npy file (.npz archives are not supported)"))
    }
    let major = prefix[6], minor = prefix[7]
    let headerStart: Int, headerLength: Int
    switch major {
    case 1:
        headerStart = 10
        headerLength = Int(prefix.loadUnaligned(fromByteOffset: 8, as: UInt16.self).littleEndian)
    case 2, 3:
        guard file.size >= 12 else { throw failure(.fileTooSmall(size: file.size, minimum: 12)) }
        headerStart = 12
        headerLength = Int(prefix.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian)
    default:
        throw failure(.malformedHeader("format version \(major).\(minor) is not 1.0, 2.0 or 3.0; save it with a current numpy"))
    }
    guard headerStart + headerLength <= file.size else {
        throw failure(.headerBeyondFile(length: UInt64(headerLength), fileSize: file.size))
    }
    let headerBytes = file.buffer(headerStart..<(headerStart + headerLength))
    // v1/v2 headers are latin-1 (in practice ASCII); v3 headers are UTF-8.
    guard let headerText = major == 3 ? String(validating: headerBytes, as: UTF8.self)
                                      : String(bytes: headerBytes, encoding: .isoLatin1) else {
        throw failure(.headerNotText)
    }
    let header: NumPyHeader
    do {
        header = try NumPyHeader(parsing: headerText)
    } catch let error as NumPyHeader.ParseError {
        throw failure(.malformedHeader(error.message))
    }
    guard !header.fortranOrder else { throw failure(.fortranOrder) }
    guard let encoding = header.encoding else { throw failure(.unsupportedDtype(header.descr)) }
    var count = 1
    for extent in header.shape {
        let (product, overflow) = count.multipliedReportingOverflow(by: extent)
        guard !overflow else { throw failure(.sizeOverflow) }
        count = product
    }
    let (byteCount, overflow) = count.multipliedReportingOverflow(by: encoding.byteSize)
    let dataStart = headerStart + headerLength
    guard !overflow, dataStart <= Int.max - byteCount else { throw failure(.sizeOverflow) }
    guard dataStart + byteCount == file.size else {
        throw failure(.fileSizeMismatch(expected: dataStart + byteCount, actual: file.size))
    }
    let data = file.buffer(dataStart..<(dataStart + byteCount))
    if encoding == .float32, count > 0, let base = data.baseAddress,
       Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
        let storage = TensorStorage(wrapping: base.assumingMemoryBound(to: Float.self), count: count, owner: file)
        return Tensor(shape: header.shape, storage: storage)
    }
    var tensor = Tensor(uninitializedShape: header.shape)
    if count > 0 { decodeElements(encoding, from: data.baseAddress!, count: count, into: tensor.mutableBase()) }
    return tensor
}

/// Writes a tensor as a NumPy `.npy` file: dtype `<f4`, C order, format 1.0 (2.0 when the
/// header would not fit), header padded so the data starts 64-byte aligned. Written under a
/// temporary name and renamed into place.
///
/// Read it back with `numpy.load(path)`.
/// - Throws: `TensorFileError` (`.inputOutput`) when the file cannot be written.
public func saveNumPy(_ tensor: Tensor, to url: URL) throws {
    let shapeText: String
    switch tensor.shape.count {
    case 0: shapeText = "()"
    case 1: shapeText = "(\(tensor.shape[0]),)"
    default: shapeText = "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
    }
    let dictionary = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
    let useVersion2 = 10 + dictionary.utf8.count + 1 > Int(UInt16.max)
    let prefixLength = useVersion2 ? 12 : 10
    // Pad with spaces and end with a newline so that prefix + header is a multiple of 64.
    let unpadded = prefixLength + dictionary.utf8.count + 1
    let header = dictionary + String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var bytes = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, useVersion2 ? 2 : 1, 0])
    if useVersion2 {
        withUnsafeBytes(of: UInt32(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
    } else {
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
    }
    bytes.append(contentsOf: Array(header.utf8))
    try writeAtomically(to: url) { handle in
        try handle.write(contentsOf: bytes)
        try tensor.withUnsafeBufferPointer { try handle.write(contentsOf: Data(buffer: $0)) }
    }
}
