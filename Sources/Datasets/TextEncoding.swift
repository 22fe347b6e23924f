/// The encoding of a label file. Files are UTF-8 unless a csv dataset declares otherwise
/// (`encoding:`); bytes that are not UTF-8 are refused with their line and offset, since
/// replacing them would change ids and values without a word.
public enum TextEncoding: String, Sendable, Hashable, Codable, CaseIterable {
    /// UTF-8 (ASCII included); a byte-order mark is skipped.
    case utf8 = "utf-8"
    /// ISO 8859-1: every byte is the code point of its value.
    case latin1 = "latin-1"
    /// Windows code page 1252 (what spreadsheet programs on Windows write): Latin-1 with
    /// printable characters (€, ‘, ’, “, ”, …) in 0x80–0x9F, as the WHATWG Encoding standard maps it.
    case windows1252 = "windows-1252"

    /// `bytes` as UTF-8: checked when they are UTF-8, converted otherwise.
    /// - Throws: `DatasetError.notUTF8` naming the line, column and byte offset of the first
    ///   byte that is not UTF-8, and the bytes there.
    func utf8Bytes(_ bytes: [UInt8], file: String) throws(DatasetError) -> [UInt8] {
        switch self {
        case .utf8:
            if let (offset, length) = Self.firstInvalidUTF8(bytes) {
                var line = 1, lineStart = 0
                for index in 0..<offset where bytes[index] == UInt8(ascii: "\n") {
                    line += 1
                    lineStart = index + 1
                }
                // Columns count characters, as editors do: the valid UTF-8 before the bad byte.
                let column = String(decoding: bytes[lineStart..<offset], as: UTF8.self).count + 1
                throw .notUTF8(file: file, line: line, column: column, byteOffset: offset, bytes: Array(bytes[offset..<(offset + length)]))
            }
            return bytes
        case .latin1, .windows1252:
            guard bytes.contains(where: { $0 >= 0x80 }) else { return bytes }
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count + bytes.count / 8)
            for byte in bytes {
                let scalar: UInt32 = self == .windows1252 && (0x80...0x9F).contains(byte) ? UInt32(Self.windows1252High[Int(byte) - 0x80]) : UInt32(byte)
                output.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            }
            return output
        }
    }

    /// Code points of Windows-1252's bytes 0x80–0x9F (the five it leaves undefined map to the C1
    /// controls of the same value, as in the WHATWG standard).
    private static let windows1252High: [UInt16] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]

    /// The offset and length (1 to 4 bytes) of the first ill-formed UTF-8 sequence, or nil.
    /// Overlong forms, surrogates and code points above U+10FFFF are ill-formed (RFC 3629).
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> (offset: Int, length: Int)? {
        bytes.withUnsafeBufferPointer { buffer -> (Int, Int)? in
            let count = buffer.count
            var index = 0
            while index < count {
                // ASCII runs, eight bytes at a time.
                while index + 8 <= count {
                    let word = UnsafeRawPointer(buffer.baseAddress! + index).loadUnaligned(as: UInt64.self)
                    if word & 0x8080_8080_8080_8080 != 0 { break }
                    index += 8
                }
                guard index < count else { break }
                let lead = buffer[index]
                if lead < 0x80 {
                    index += 1
                    continue
                }
                let length: Int, second: ClosedRange<UInt8>
                switch lead {
                case 0xC2...0xDF: (length, second) = (2, 0x80...0xBF)
                case 0xE0: (length, second) = (3, 0xA0...0xBF)
                case 0xE1...0xEC, 0xEE...0xEF: (length, second) = (3, 0x80...0xBF)
                case 0xED: (length, second) = (3, 0x80...0x9F)
                case 0xF0: (length, second) = (4, 0x90...0xBF)
                case 0xF1...0xF3: (length, second) = (4, 0x80...0xBF)
                case 0xF4: (length, second) = (4, 0x80...0x8F)
                default: return (index, 1)
                }
                var valid = 1
                if index + 1 < count && second.contains(buffer[index + 1]) {
                    valid = 2
                    while valid < length && index + valid < count && (0x80...0xBF).contains(buffer[index + valid]) { valid += 1 }
                }
                guard valid == length else { return (index, min(valid, count - index)) }
                index += length
            }
            return nil
        }
    }
}
