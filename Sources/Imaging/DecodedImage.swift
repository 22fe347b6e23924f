/// A decoded raster image: interleaved samples at their stored precision.
///
/// Alpha is dropped on decoding (grey+alpha becomes grey, RGBA and palette-with-transparency
/// become RGB), so `channels` is always 1 (grey) or 3 (RGB); `hadAlpha` records that it was
/// there. Samples keep the file's values exactly: 0...255 for 8-bit images, 0...65535 for
/// 16-bit ones, with no gamma conversion whatever colour chunks the file carries.
public struct DecodedImage: Sendable, Hashable {
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Samples per pixel: 1 for grey, 3 for RGB (alpha is never kept).
    public let channels: Int
    /// Bits per sample of the stored values: 8 or 16.
    public let bitDepth: Int
    /// `height * width * channels` samples, row-major, channels interleaved.
    public let samples: [UInt16]
    /// Whether the source had an alpha channel or a transparency chunk that decoding dropped.
    public let hadAlpha: Bool

    /// Creates an image from interleaved samples.
    ///
    /// - Parameters:
    ///   - width: pixels per row, at least 1.
    ///   - height: rows, at least 1.
    ///   - channels: 1 (grey) or 3 (RGB).
    ///   - bitDepth: 8 or 16; every sample must fit in it.
    ///   - samples: `height * width * channels` values, row-major, channels interleaved.
    ///   - hadAlpha: whether an alpha channel was dropped to make this image.
    public init(width: Int, height: Int, channels: Int, bitDepth: Int, samples: [UInt16], hadAlpha: Bool = false) {
        precondition(width > 0 && height > 0, "image dimensions must be positive: \(width) x \(height)")
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3, got \(channels)")
        precondition(bitDepth == 8 || bitDepth == 16, "bit depth must be 8 or 16, got \(bitDepth)")
        precondition(samples.count == width * height * channels,
                     "expected \(width * height * channels) samples for \(width) x \(height) x \(channels), got \(samples.count)")
        precondition(bitDepth == 16 || samples.allSatisfy { $0 <= 255 }, "8-bit image with a sample above 255")
        self.width = width
        self.height = height
        self.channels = channels
        self.bitDepth = bitDepth
        self.samples = samples
        self.hadAlpha = hadAlpha
    }

    /// The largest value a sample can take at this bit depth: 255 or 65535.
    public var maximumSampleValue: Int { (1 << bitDepth) - 1 }

    /// The sample at a pixel and channel.
    public subscript(x: Int, y: Int, channel: Int) -> UInt16 {
        precondition(x >= 0 && x < width && y >= 0 && y < height && channel >= 0 && channel < channels,
                     "pixel (\(x), \(y), channel \(channel)) outside \(width) x \(height) x \(channels)")
        return samples[(y * width + x) * channels + channel]
    }
}

/// The container formats `decodeImage(at:)` recognises by their leading bytes.
public enum ImageFormat: String, Sendable, Hashable, Codable {
    /// Portable Network Graphics (`89 50 4E 47 0D 0A 1A 0A`).
    case png
    /// JPEG/JFIF (`FF D8 FF`).
    case jpeg

    /// The format whose signature starts `bytes`, or nil.
    public static func detect<Bytes: Collection<UInt8>>(leadingBytes bytes: Bytes) -> ImageFormat? {
        let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        if bytes.starts(with: pngSignature) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }
}
