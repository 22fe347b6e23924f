import Foundation

/// A segmentation mask or label map as stored in a PNG: one value per pixel, exactly as written.
///
/// Masks are read differently from radiographs: a label map's values are class numbers, so
/// grey files of 1, 2 or 4 bits keep their stored values (decoding for display scales them to
/// 0...255), and colour files are marked, since their pixels are colours rather than numbers.
public struct MaskRaster: Sendable, Hashable {
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// `height * width` values, row-major: a grey file's stored value (0...2^bitDepth − 1); a
    /// colour file's (RGB or palette) largest channel, which only says whether a pixel is zero.
    public let values: [UInt16]
    /// Whether the file stores colours (RGB, RGBA or a palette) rather than grey values.
    public let isColour: Bool
    /// The bit depth the file stores its samples with: 1, 2, 4, 8 or 16.
    public let storedBitDepth: Int
}

/// Reads a PNG mask or label map without changing its values (see `MaskRaster`).
///
/// - Parameters:
///   - url: a PNG file. JPEG is refused: its lossy compression changes mask values.
///   - maximumPixelCount: files declaring more pixels are rejected before decoding.
/// - Throws: `ImageError` naming the file: missing, unreadable, empty, not a PNG (JPEG
///   included), corrupt or truncated, or too large.
/// - Complexity: O(pixels).
public func decodeMaskRaster(at url: URL, maximumPixelCount: Int = defaultMaximumPixelCount) throws -> MaskRaster {
    let data = try readImageFile(at: url)
    guard ImageFormat.detect(leadingBytes: data.prefix(8)) == .png else {
        throw ImageError.unrecognisedFormat(path: url.path, leadingBytes: describeLeadingBytes(data) + ", where a PNG mask belongs")
    }
    let (image, stored) = try PNGCodec.decodeKeepingHeader(data, path: url.path, maximumPixelCount: maximumPixelCount)
    let isColour = image.channels == 3
    var values: [UInt16]
    if isColour {
        values = [UInt16](repeating: 0, count: image.width * image.height)
        image.samples.withUnsafeBufferPointer { samples in
            for pixel in values.indices {
                values[pixel] = max(samples[3 * pixel], samples[3 * pixel + 1], samples[3 * pixel + 2])
            }
        }
    } else if stored.bitDepth < 8 {
        // libpng scaled the values to 8 bits by 255 / (2^depth - 1), a whole number (255, 85, 17).
        let scale = UInt16(255 / ((1 << stored.bitDepth) - 1))
        values = image.samples.map { $0 / scale }
    } else {
        values = image.samples
    }
    return MaskRaster(width: image.width, height: image.height, values: values, isColour: isColour, storedBitDepth: stored.bitDepth)
}

/// The width and height an image file declares, read from its header without decoding pixels.
///
/// - Parameters:
///   - url: a PNG or JPEG file (the format is told by its leading bytes).
///   - maximumPixelCount: PNG headers declaring more pixels are rejected.
/// - Throws: `ImageError` naming the file, as `decodeImage(at:maximumPixelCount:)` does.
public func imageDimensions(at url: URL, maximumPixelCount: Int = defaultMaximumPixelCount) throws -> (width: Int, height: Int) {
    let data = try readImageFile(at: url)
    switch ImageFormat.detect(leadingBytes: data.prefix(8)) {
    case .png: return try PNGCodec.dimensions(data, path: url.path, maximumPixelCount: maximumPixelCount)
    case .jpeg: return try JPEGCodec.dimensions(data, path: url.path)
    case nil: throw ImageError.unrecognisedFormat(path: url.path, leadingBytes: describeLeadingBytes(data))
    }
}
