import Foundation

/// Why an image could not be read or written. Each message names the file, the problem and
/// what to do about it.
public enum ImageError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// No file at the path.
    case fileNotFound(path: String)
    /// The file exists but could not be read (permissions, a directory, an I/O error).
    case unreadable(path: String, reason: String)
    /// The file has no bytes at all.
    case emptyFile(path: String)
    /// The leading bytes are neither a PNG nor a JPEG signature.
    case unrecognisedFormat(path: String, leadingBytes: String)
    /// libpng rejected the file: corrupt or truncated data, a bad CRC, an invalid header.
    case corruptPNG(path: String, reason: String)
    /// TurboJPEG rejected the file: corrupt or truncated data, an unsupported variant.
    case corruptJPEG(path: String, reason: String)
    /// The declared size exceeds the decoding limit; nothing was allocated for pixels.
    case dimensionsTooLarge(path: String, width: Int, height: Int, limit: Int)
    /// Encoding or writing a file failed.
    case writeFailed(path: String, reason: String)

    /// The file the error concerns.
    public var path: String {
        switch self {
        case .fileNotFound(let path), .unreadable(let path, _), .emptyFile(let path),
             .unrecognisedFormat(let path, _), .corruptPNG(let path, _), .corruptJPEG(let path, _),
             .dimensionsTooLarge(let path, _, _, _), .writeFailed(let path, _):
            return path
        }
    }

    /// A one-paragraph explanation naming the file, the problem and the remedy.
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such image file. Check the path in the dataset manifest or registry."
        case .unreadable(let path, let reason):
            return "\(path): cannot read the file (\(reason)). Check that it is a regular file you may read."
        case .emptyFile(let path):
            return "\(path): the file is empty (0 bytes). Re-copy or re-export the image."
        case .unrecognisedFormat(let path, let leadingBytes):
            return "\(path): not a PNG or JPEG image (file starts with \(leadingBytes)); the format is detected from "
                + "the content, not the extension. Convert the image to PNG or JPEG, or remove it from the dataset."
        case .corruptPNG(let path, let reason):
            return "\(path): corrupt or truncated PNG (libpng: \(reason)). Re-copy or re-export the image."
        case .corruptJPEG(let path, let reason):
            return "\(path): corrupt, truncated or unsupported JPEG (TurboJPEG: \(reason)). "
                + "Re-copy or re-export the image."
        case .dimensionsTooLarge(let path, let width, let height, let limit):
            return "\(path): declares \(width) x \(height) pixels, more than the limit of \(limit) pixels; "
                + "the header is probably corrupt. If the image is genuine, raise the decoding pixel limit."
        case .writeFailed(let path, let reason):
            return "\(path): cannot write the image (\(reason)). Check the folder exists and is writable."
        }
    }

    /// Same as `description`, for Foundation's error reporting.
    public var errorDescription: String? { description }
}
