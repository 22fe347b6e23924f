import Foundation

// Reading safetensors files (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length N, N bytes of UTF-8 JSON, then the data section. Validation
// follows the reference Rust crate (`safetensors/src/tensor.rs`, `read_metadata` and
// `Metadata::validate`) check for check, so a file it accepts is accepted here and vice versa.

/// An element type defined by the safetensors format.
public enum SafetensorsDtype: String, Sendable, CaseIterable {
    /// Boolean, one byte.
    case bool = "BOOL"
    /// MXF4, 4 bits.
    case float4 = "F4"
    /// MXF6 E2M3, 6 bits.
    case float6E2M3 = "F6_E2M3"
    /// MXF6 E3M2, 6 bits.
    case float6E3M2 = "F6_E3M2"
    /// Unsigned byte.
    case uint8 = "U8"
    /// Signed byte.
    case int8 = "I8"
    /// FP8 E5M2.
    case float8E5M2 = "F8_E5M2"
    /// FP8 E4M3.
    case float8E4M3 = "F8_E4M3"
    /// FP8 E8M0 (scales).
    case float8E8M0 = "F8_E8M0"
    /// FP8 E4M3 FNUZ.
    case float8E4M3FNUZ = "F8_E4M3FNUZ"
    /// FP8 E5M2 FNUZ.
    case float8E5M2FNUZ = "F8_E5M2FNUZ"
    /// 16-bit signed integer.
    case int16 = "I16"
    /// 16-bit unsigned integer.
    case uint16 = "U16"
    /// IEEE half precision.
    case float16 = "F16"
    /// bfloat16.
    case bfloat16 = "BF16"
    /// 32-bit signed integer.
    case int32 = "I32"
    /// 32-bit unsigned integer.
    case uint32 = "U32"
    /// IEEE single precision.
    case float32 = "F32"
    /// Complex with two 32-bit float parts.
    case complex64 = "C64"
    /// IEEE double precision.
    case float64 = "F64"
    /// 64-bit signed integer.
    case int64 = "I64"
    /// 64-bit unsigned integer.
    case uint64 = "U64"

    /// Bits per element, as the format defines them.
    public var bitSize: Int {
        switch self {
        case .float4: 4
        case .float6E2M3, .float6E3M2: 6
        case .bool, .uint8, .int8, .float8E5M2, .float8E4M3, .float8E8M0, .float8E4M3FNUZ, .float8E5M2FNUZ: 8
        case .int16, .uint16, .float16, .bfloat16: 16
        case .int32, .uint32, .float32: 32
        case .complex64, .float64, .int64, .uint64: 64
        }
    }

    /// How this reader converts the dtype to Float32, or `nil` when it cannot.
    var encoding: ElementEncoding? {
        switch self {
        case .bool: .bool
        case .uint8: .uint8
        case .int8: .int8
        case .int16: .int16
        case .uint16: .uint16
        case .float16: .float16
        case .bfloat16: .bfloat16
        case .int32: .int32
        case .uint32: .uint32
        case .float32: .float32
        case .int64: .int64
        case .uint64: .uint64
        case .float64: .float64
        case .float4, .float6E2M3, .float6E3M2, .float8E5M2, .float8E4M3, .float8E8M0,
             .float8E4M3FNUZ, .float8E5M2FNUZ, .complex64: nil
        }
    }
}

/// A validated, memory-mapped safetensors file: names, dtypes and shapes without converting
/// anything; tensors are converted (or, for F32, borrowed without copying) on request.
public struct SafetensorsFile: Sendable {
    /// One tensor's header entry.
    public struct Entry: Sendable, Equatable {
        /// The tensor's name (its key in the header).
        public let name: String
        /// The stored element type.
        public let dtype: SafetensorsDtype
        /// The extent of each axis.
        public let shape: [Int]
        /// Byte offsets within the data section (after the header).
        public let dataOffsets: Range<Int>
    }

    /// The largest header accepted, as in the reference implementation (100 MB).
    public static let maximumHeaderLength = 100_000_000

    /// The file.
    public let url: URL
    /// The `__metadata__` string map (empty when absent).
    public let metadata: [String: String]
    /// Every tensor entry, in data-offset order.
    public let entries: [Entry]
    /// Tensor names, in data-offset order.
    public var names: [String] { entries.map(\.name) }

    private let file: MappedFile
    private let dataStart: Int
    private let indexByName: [String: Int]

    /// Maps and validates the file at `url`; nothing is converted yet.
    ///
    /// - Throws: `TensorFileError` when the file cannot be read or breaks the format: too short,
    ///   header length over 100 MB or beyond the file, header not UTF-8 JSON, an entry without
    ///   a known dtype / shape / data_offsets, offsets that do not tile the data section, a byte
    ///   span that does not match dtype × shape, or a file size different from what the header
    ///   describes.
    public init(contentsOf url: URL) throws {
        let file = try MappedFile(url: url)
        self.url = url
        self.file = file
        func failure(_ kind: TensorFileError.Kind, _ tensor: String? = nil) -> TensorFileError {
            TensorFileError(file: url, tensor: tensor, kind: kind)
        }
        guard file.size >= 8 else { throw failure(.fileTooSmall(size: file.size, minimum: 8)) }
        let headerLength = file.buffer(0..<8).loadUnaligned(as: UInt64.self).littleEndian
        guard headerLength <= UInt64(Self.maximumHeaderLength) else {
            throw failure(.headerTooLarge(length: headerLength, limit: Self.maximumHeaderLength))
        }
        guard 8 + Int(headerLength) <= file.size else {
            throw failure(.headerBeyondFile(length: headerLength, fileSize: file.size))
        }
        dataStart = 8 + Int(headerLength)
        let header = try SafetensorsHeader.parse(file.buffer(8..<dataStart), fail: failure)
        metadata = header.metadata
        entries = header.entries
        indexByName = Dictionary(uniqueKeysWithValues: header.entries.enumerated().map { ($1.name, $0) })
        let dataEnd = try SafetensorsHeader.validate(header.entries, fail: failure)
        guard dataStart + dataEnd == file.size else {
            throw failure(.fileSizeMismatch(expected: dataStart + dataEnd, actual: file.size))
        }
        // The header is parsed: its pages need not stay resident (a probe opens every shard).
        file.release(0..<dataStart)
    }

    /// The entry for `name`, or `nil`.
    public func entry(named name: String) -> Entry? {
        indexByName[name].map { entries[$0] }
    }

    /// The tensor `name` as Float32.
    ///
    /// F32 data is borrowed from the mapping without copying when it is 4-byte aligned (as
    /// every standard writer makes it); other dtypes are converted into new memory.
    /// - Throws: `TensorFileError` for an unknown name or a dtype that cannot be converted.
    /// - Complexity: O(1) for borrowed F32, else O(count).
    public func tensor(named name: String) throws -> Tensor {
        guard let entry = entry(named: name) else {
            throw TensorFileError(file: url, tensor: name, kind: .missingTensor)
        }
        guard let encoding = entry.dtype.encoding else {
            throw TensorFileError(file: url, tensor: name, kind: .unsupportedDtype(entry.dtype.rawValue))
        }
        let bytes = file.buffer((dataStart + entry.dataOffsets.lowerBound)..<(dataStart + entry.dataOffsets.upperBound))
        let count = entry.shape.reduce(1, *)
        if encoding == .float32, count > 0, let base = bytes.baseAddress,
           Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 {
            let storage = TensorStorage(wrapping: base.assumingMemoryBound(to: Float.self), count: count, owner: file)
            return Tensor(shape: entry.shape, storage: storage)
        }
        var tensor = Tensor(uninitializedShape: entry.shape)
        if count > 0 {
            decodeElements(encoding, from: bytes.baseAddress!, count: count, into: tensor.mutableBase())
        }
        return tensor
    }

    /// Elements `range` of tensor `name` (in row-major order) as Float32, read from the mapping
    /// without touching the rest: one image's patch tokens out of a shard. The pages read are
    /// then released (`MappedFile.release`), so reading a whole file row by row keeps no more
    /// of it resident than one row.
    /// - Throws: `TensorFileError` for an unknown name, a dtype that cannot be converted, or a
    ///   range beyond the tensor.
    /// - Complexity: O(range.count).
    public func floats(named name: String, elements range: Range<Int>) throws -> [Float] {
        var values = [Float](repeating: 0, count: range.count)
        try values.withUnsafeMutableBufferPointer { try copyFloats(named: name, elements: range, into: $0.baseAddress, releasing: true) }
        return values
    }

    /// Copies elements `range` of tensor `name` (in row-major order) as Float32 into
    /// `destination`, converting other dtypes; with `releasing`, the pages read are then released
    /// (`MappedFile.release`). A reader that copies many rows at a time passes false and calls
    /// `releaseData()` once it is done with a batch.
    /// - Throws: `TensorFileError` for an unknown name, a dtype that cannot be converted, or a
    ///   range beyond the tensor.
    /// - Complexity: O(range.count).
    public func copyFloats(named name: String, elements range: Range<Int>, into destination: UnsafeMutablePointer<Float>?,
                           releasing: Bool) throws {
        guard let entry = entry(named: name) else {
            throw TensorFileError(file: url, tensor: name, kind: .missingTensor)
        }
        guard let encoding = entry.dtype.encoding else {
            throw TensorFileError(file: url, tensor: name, kind: .unsupportedDtype(entry.dtype.rawValue))
        }
        let count = entry.shape.reduce(1, *)
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw TensorFileError(file: url, tensor: name, kind: .inputOutput("elements \(range) asked of a tensor of \(count)"))
        }
        guard !range.isEmpty, let destination else { return }
        let start = dataStart + entry.dataOffsets.lowerBound + range.lowerBound * encoding.byteSize
        let bytes = file.buffer(start..<(start + range.count * encoding.byteSize))
        decodeElements(encoding, from: bytes.baseAddress!, count: range.count, into: destination)
        if releasing { file.release(start..<(start + range.count * encoding.byteSize)) }
    }

    /// Where tensor `name`'s data starts in the file, in bytes from the file's start (for readers
    /// that `pread` rows instead of mapping them), or nil for an unknown name.
    public func fileOffset(of name: String) -> Int? {
        entry(named: name).map { dataStart + $0.dataOffsets.lowerBound }
    }

    /// Gives every page of the tensor data back to the kernel (`MappedFile.release`); tensors
    /// borrowed from the mapping stay readable (a later read maps the pages again).
    public func releaseData() {
        file.release(dataStart..<file.size)
    }

    /// Every tensor as Float32, keyed by name (F32 borrowed from the mapping, see `tensor(named:)`).
    /// - Throws: `TensorFileError` for a dtype that cannot be converted.
    public func tensors() throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for entry in entries { result[entry.name] = try tensor(named: entry.name) }
        return result
    }
}

/// Reads every tensor of a safetensors file as Float32 (F16/BF16/integers converted, F32
/// memory-mapped without copying).
///
/// - Throws: `TensorFileError` naming the file (and tensor) when it is unreadable, violates the
///   format, or holds a dtype that cannot be converted.
public func loadSafetensors(at url: URL) throws -> [String: Tensor] {
    try SafetensorsFile(contentsOf: url).tensors()
}
