import Foundation
import PNGDecoder

/// PNG decoding and encoding through the `PNGDecoder` C target, which wraps libpng's classic
/// API and turns its longjmp errors into status codes. The only file that imports it.
enum PNGCodec {
    /// Room for libpng's messages, which are short.
    private static let messageCapacity = 512

    /// Decodes PNG bytes; `path` only names the file in errors.
    static func decode(_ data: Data, path: String, maximumPixelCount: Int) throws -> DecodedImage {
        try decodeKeepingHeader(data, path: path, maximumPixelCount: maximumPixelCount).image
    }

    /// The IHDR facts decoding changes: colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha,
    /// 6 RGBA) and stored bit depth (1, 2, 4, 8 or 16).
    struct StoredFormat: Sendable, Hashable {
        var colorType: Int
        var bitDepth: Int
    }

    /// The image's width and height from its header, without decoding pixels.
    static func dimensions(_ data: Data, path: String, maximumPixelCount: Int) throws -> (width: Int, height: Int) {
        let limit = UInt64(max(maximumPixelCount, 0))
        var message = [CChar](repeating: 0, count: messageCapacity)
        var info = xrb_png_info()
        let status = data.withUnsafeBytes { raw in
            xrb_png_read_info(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, limit, &info, &message, message.count)
        }
        try check(status, info: info, message: message, path: path, limit: maximumPixelCount)
        return (Int(info.width), Int(info.height))
    }

    /// Decodes PNG bytes and tells how they were stored (masks need the stored bit depth).
    static func decodeKeepingHeader(_ data: Data, path: String, maximumPixelCount: Int) throws -> (image: DecodedImage, stored: StoredFormat) {
        let limit = UInt64(max(maximumPixelCount, 0))
        var message = [CChar](repeating: 0, count: messageCapacity)
        var info = xrb_png_info()
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> (image: DecodedImage, stored: StoredFormat) in
            let bytes = raw.bindMemory(to: UInt8.self)
            let headerStatus = xrb_png_read_info(bytes.baseAddress, bytes.count, limit, &info, &message, message.count)
            try check(headerStatus, info: info, message: message, path: path, limit: maximumPixelCount)

            let count = Int(info.width) * Int(info.height) * Int(info.channels)
            var status = XRB_PNG_OK
            let samples = [UInt16](unsafeUninitializedCapacity: count) { buffer, initializedCount in
                status = xrb_png_decode(bytes.baseAddress, bytes.count, limit, &info,
                                        buffer.baseAddress, count, &message, message.count)
                // UInt16 is trivial, so claiming the buffer even after a failure is safe; it is
                // discarded when `check` throws.
                initializedCount = count
            }
            try check(status, info: info, message: message, path: path, limit: maximumPixelCount)
            let image = DecodedImage(width: Int(info.width), height: Int(info.height), channels: Int(info.channels),
                                     bitDepth: Int(info.bit_depth), samples: samples, hadAlpha: info.had_alpha != 0)
            return (image, StoredFormat(colorType: Int(info.source_color_type), bitDepth: Int(info.source_bit_depth)))
        }
    }

    /// Encodes an image as a non-interlaced grey or RGB PNG, optionally with a gAMA chunk.
    static func encode(_ image: DecodedImage, gamma: Double?, path: String) throws -> Data {
        var message = [CChar](repeating: 0, count: messageCapacity)
        var buffer = xrb_png_buffer()
        defer { xrb_png_buffer_free(&buffer) }
        let status = image.samples.withUnsafeBufferPointer { samples in
            xrb_png_encode(samples.baseAddress, UInt32(image.width), UInt32(image.height),
                           UInt32(image.channels), UInt32(image.bitDepth), gamma ?? 0,
                           &buffer, &message, message.count)
        }
        guard status == XRB_PNG_OK, let bytes = buffer.bytes else {
            throw ImageError.writeFailed(path: path, reason: "PNG encoding failed: \(text(of: message))")
        }
        return Data(bytes: bytes, count: buffer.count)
    }

    private static func check(_ status: xrb_png_status, info: xrb_png_info, message: [CChar],
                              path: String, limit: Int) throws {
        switch status {
        case XRB_PNG_OK:
            return
        case XRB_PNG_NOT_PNG:
            throw ImageError.unrecognisedFormat(path: path, leadingBytes: "no PNG signature")
        case XRB_PNG_TOO_LARGE:
            throw ImageError.dimensionsTooLarge(path: path, width: Int(info.width), height: Int(info.height), limit: limit)
        case XRB_PNG_OUT_OF_MEMORY:
            throw ImageError.unreadable(path: path, reason: "out of memory while decoding: \(text(of: message))")
        case XRB_PNG_INVALID_ARGUMENT:
            preconditionFailure("PNG decoder called with inconsistent arguments: \(text(of: message))")
        default:
            throw ImageError.corruptPNG(path: path, reason: text(of: message))
        }
    }

    private static func text(of message: [CChar]) -> String {
        let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
