import Foundation

/// A tensor file (safetensors or NumPy `.npy`) that cannot be read or written.
///
/// The description names the file, the tensor when one is at fault, the problem and what to do,
/// e.g. `model.safetensors: tensor 'blocks.0.attn.qkv.weight': data_offsets span 1024 bytes
/// but F32 [768, 2304] needs 7077888; the file is corrupt or was written by a broken tool:
/// re-export it (e.g. with safetensors.torch.save_file)`.
public struct TensorFileError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// What went wrong, with the values involved.
    public enum Kind: Sendable, Equatable {
        /// The file could not be opened, mapped, read or written (the system's reason).
        case inputOutput(String)
        /// Shorter than the fixed-size prefix of the format.
        case fileTooSmall(size: Int, minimum: Int)
        /// The declared header length exceeds the format's bound.
        case headerTooLarge(length: UInt64, limit: Int)
        /// The declared header length runs past the end of the file.
        case headerBeyondFile(length: UInt64, fileSize: Int)
        /// The header bytes are not UTF-8 (safetensors) or ASCII/UTF-8 (NumPy).
        case headerNotText
        /// The header is not the expected JSON object or Python dictionary literal.
        case malformedHeader(String)
        /// A tensor entry lacks a field or has one of the wrong type.
        case malformedEntry(String)
        /// A dtype the format does not define.
        case unknownDtype(String)
        /// A dtype the format defines that this reader cannot convert to Float32.
        case unsupportedDtype(String)
        /// Offsets that are not contiguous from 0 and non-overlapping in offset order.
        case invalidOffsets(String)
        /// Element count × element size overflows the address space.
        case sizeOverflow
        /// The element data does not end on a byte boundary (sub-byte dtypes).
        case misalignedSlice
        /// A tensor's byte span does not match its dtype and shape.
        case byteCountMismatch(expected: Int, actual: Int)
        /// The file is longer or shorter than the header says.
        case fileSizeMismatch(expected: Int, actual: Int)
        /// A NumPy array in Fortran order.
        case fortranOrder
        /// No tensor with the requested name.
        case missingTensor
    }

    /// The file at fault.
    public let file: URL
    /// The tensor at fault, when the problem belongs to one.
    public let tensor: String?
    /// The problem.
    public let kind: Kind

    /// An error about `file` (and `tensor`, when given).
    public init(file: URL, tensor: String? = nil, kind: Kind) {
        self.file = file
        self.tensor = tensor
        self.kind = kind
    }

    /// `path: tensor 'name': problem; what to do`.
    public var description: String {
        let subject = tensor.map { "\(file.path): tensor '\($0)'" } ?? file.path
        return "\(subject): \(problem)"
    }

    /// Same as `description`.
    public var errorDescription: String? { description }

    private static let reexport = "re-export it (e.g. with safetensors.torch.save_file or numpy.save)"

    private var problem: String {
        switch kind {
        case .inputOutput(let reason):
            return "\(reason); check that the path exists and is readable (or writable)"
        case .fileTooSmall(let size, let minimum):
            return "only \(size) bytes, shorter than the \(minimum)-byte header prefix; the file is truncated: copy or download it again"
        case .headerTooLarge(let length, let limit):
            return "declares a \(length)-byte header, more than the \(limit)-byte limit; this is not a valid tensor file (or it is corrupt): \(Self.reexport)"
        case .headerBeyondFile(let length, let fileSize):
            return "declares a \(length)-byte header but the file has only \(fileSize) bytes; the file is truncated or not a tensor file: copy or download it again"
        case .headerNotText:
            return "the header is not valid UTF-8 text; the file is corrupt: \(Self.reexport)"
        case .malformedHeader(let detail):
            return "malformed header: \(detail); the file is corrupt or not in this format: \(Self.reexport)"
        case .malformedEntry(let detail):
            return "malformed header entry: \(detail); \(Self.reexport)"
        case .unknownDtype(let dtype):
            return "unknown dtype '\(dtype)'; the file is corrupt or from a newer format version: \(Self.reexport) with a standard dtype"
        case .unsupportedDtype(let dtype):
            return "dtype \(dtype) cannot be converted to Float32 here; convert the tensor to F32, F16 or BF16 (NumPy: <f4, <f8, <i8, <i4, |u1) and save again"
        case .invalidOffsets(let detail):
            return "invalid data_offsets: \(detail); tensors must tile the data section from 0 without gaps or overlaps: \(Self.reexport)"
        case .sizeOverflow:
            return "element count × element size overflows; the shape is corrupt: \(Self.reexport)"
        case .misalignedSlice:
            return "the element data does not end on a byte boundary; \(Self.reexport)"
        case .byteCountMismatch(let expected, let actual):
            return "data spans \(actual) bytes but dtype and shape need \(expected); the file is corrupt or was written by a broken tool: \(Self.reexport)"
        case .fileSizeMismatch(let expected, let actual):
            return "the file has \(actual) bytes but its header describes \(expected); it is truncated or has trailing bytes: copy or download it again"
        case .fortranOrder:
            return "the array is in Fortran (column-major) order; save a C-order copy, e.g. numpy.save(path, numpy.ascontiguousarray(array))"
        case .missingTensor:
            return "no such tensor in the file; list the names with SafetensorsFile(contentsOf:).names"
        }
    }
}
