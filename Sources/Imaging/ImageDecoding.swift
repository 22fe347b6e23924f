import Foundation

/// The largest `width * height` decoded by default (2^28, about 16384 x 16384). Headers that
/// declare more are almost always corrupt, and the check runs before any pixel allocation.
public let defaultMaximumPixelCount = 1 << 28

/// Reads and decodes a PNG or JPEG file, detecting the format from its leading bytes.
///
/// - Parameters:
///   - url: a file URL.
///   - maximumPixelCount: images declaring more pixels are rejected before decoding.
/// - Returns: the image with alpha dropped; 16-bit PNGs keep their exact stored values.
/// - Throws: `ImageError` naming the file: missing, unreadable, empty, not a PNG/JPEG,
///   corrupt or truncated, or too large.
public func decodeImage(at url: URL, maximumPixelCount: Int = defaultMaximumPixelCount) throws -> DecodedImage {
    let data = try readImageFile(at: url)
    return try decodeImage(data: data, path: url.path, maximumPixelCount: maximumPixelCount)
}

/// Decodes PNG or JPEG bytes already in memory, detecting the format from the leading bytes.
///
/// - Parameters:
///   - data: the file's bytes.
///   - path: names the source in errors.
///   - maximumPixelCount: images declaring more pixels are rejected before decoding.
/// - Throws: `ImageError` as for `decodeImage(at:maximumPixelCount:)`.
public func decodeImage(data: Data, path: String, maximumPixelCount: Int = defaultMaximumPixelCount) throws -> DecodedImage {
    guard !data.isEmpty else { throw ImageError.emptyFile(path: path) }
    switch ImageFormat.detect(leadingBytes: data.prefix(8)) {
    case .png:
        return try PNGCodec.decode(data, path: path, maximumPixelCount: maximumPixelCount)
    case .jpeg:
        return try JPEGCodec.decode(data, path: path, maximumPixelCount: maximumPixelCount)
    case nil:
        throw ImageError.unrecognisedFormat(path: path, leadingBytes: describeLeadingBytes(data))
    }
}

extension DecodedImage {
    /// The image encoded as a PNG (grey or RGB, 8- or 16-bit, not interlaced).
    ///
    /// - Parameter gamma: when given, a gAMA chunk with this file gamma (e.g. `1 / 2.2`); the
    ///   samples are written unchanged either way.
    /// - Throws: `ImageError.writeFailed` if libpng fails (out of memory).
    public func pngData(gamma: Double? = nil) throws -> Data {
        try PNGCodec.encode(self, gamma: gamma, path: "<PNG in memory>")
    }

    /// Encodes the image as a PNG and writes it atomically to `url`.
    ///
    /// - Parameters:
    ///   - url: the destination file; its folder must exist.
    ///   - gamma: when given, a gAMA chunk with this file gamma.
    /// - Throws: `ImageError.writeFailed` naming the file.
    public func writePNG(to url: URL, gamma: Double? = nil) throws {
        let data = try PNGCodec.encode(self, gamma: gamma, path: url.path)
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw ImageError.writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }
}

func readImageFile(at url: URL) throws -> Data {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
        throw ImageError.fileNotFound(path: url.path)
    }
    guard !isDirectory.boolValue else {
        throw ImageError.unreadable(path: url.path, reason: "it is a directory")
    }
    do {
        // Checked before reading: an empty file needs no buffer.
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        if (attributes[.size] as? NSNumber)?.intValue == 0 { throw ImageError.emptyFile(path: url.path) }
        return try Data(contentsOf: url)
    } catch let error as ImageError {
        throw error
    } catch {
        throw ImageError.unreadable(path: url.path, reason: error.localizedDescription)
    }
}

/// The first bytes as hex plus printable text, so a text file posing as an image is obvious.
func describeLeadingBytes(_ data: Data) -> String {
    let head = data.prefix(8)
    let hex = head.map { String(format: "%02X", $0) }.joined(separator: " ")
    let text = String(head.map { (0x20..<0x7F).contains($0) ? Character(UnicodeScalar($0)) : "." })
    return "\(hex) \"\(text)\""
}
