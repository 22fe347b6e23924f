import CTurboJPEG
import Foundation

/// JPEG decoding through TurboJPEG (not classic libjpeg, whose default error handler calls
/// `exit()`). The only file that imports it. Baseline and progressive, grey and colour; 8-bit.
enum JPEGCodec {
    /// Decodes JPEG bytes; `path` only names the file in errors.
    ///
    /// Warnings (a truncated scan, extraneous bytes) are errors here: TurboJPEG would otherwise
    /// return a partly grey image without complaint.
    static func decode(_ data: Data, path: String, maximumPixelCount: Int) throws -> DecodedImage {
        guard let handle = tjInitDecompress() else {
            throw ImageError.unreadable(path: path, reason: "could not initialise TurboJPEG: \(lastError(nil))")
        }
        defer { tjDestroy(handle) }

        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> DecodedImage in
            let bytes = raw.bindMemory(to: UInt8.self)
            var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colourspace: Int32 = 0
            guard tjDecompressHeader3(handle, bytes.baseAddress, UInt(bytes.count),
                                      &width, &height, &subsampling, &colourspace) == 0 else {
                throw ImageError.corruptJPEG(path: path, reason: lastError(handle))
            }
            guard width > 0, height > 0 else {
                throw ImageError.corruptJPEG(path: path, reason: "header declares \(width) x \(height) pixels")
            }
            guard Int(width) * Int(height) <= maximumPixelCount else {
                throw ImageError.dimensionsTooLarge(path: path, width: Int(width), height: Int(height),
                                                    limit: maximumPixelCount)
            }

            let isGrey = colourspace == Int32(TJCS_GRAY.rawValue)
            let channels = isGrey ? 1 : 3
            let pixelFormat = Int32(isGrey ? TJPF_GRAY.rawValue : TJPF_RGB.rawValue)
            let count = Int(width) * Int(height) * channels
            var pixels = [UInt8](repeating: 0, count: count)
            let status = pixels.withUnsafeMutableBufferPointer { buffer in
                tjDecompress2(handle, bytes.baseAddress, UInt(bytes.count), buffer.baseAddress,
                              width, 0, height, pixelFormat, TJFLAG_STOPONWARNING)
            }
            guard status == 0 else {
                throw ImageError.corruptJPEG(path: path, reason: lastError(handle))
            }
            return DecodedImage(width: Int(width), height: Int(height), channels: channels, bitDepth: 8,
                                samples: pixels.map { UInt16($0) })
        }
    }

    /// The image's width and height from its header, without decoding pixels.
    static func dimensions(_ data: Data, path: String) throws -> (width: Int, height: Int) {
        guard let handle = tjInitDecompress() else {
            throw ImageError.unreadable(path: path, reason: "could not initialise TurboJPEG: \(lastError(nil))")
        }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colourspace: Int32 = 0
        let status = data.withUnsafeBytes { raw in
            tjDecompressHeader3(handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count),
                                &width, &height, &subsampling, &colourspace)
        }
        guard status == 0 else { throw ImageError.corruptJPEG(path: path, reason: lastError(handle)) }
        guard width > 0, height > 0 else {
            throw ImageError.corruptJPEG(path: path, reason: "header declares \(width) x \(height) pixels")
        }
        return (Int(width), Int(height))
    }

    private static func lastError(_ handle: tjhandle?) -> String {
        guard let text = tjGetErrorStr2(handle) else { return "unknown TurboJPEG error" }
        return String(cString: text)
    }
}
