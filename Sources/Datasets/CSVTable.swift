#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A CSV file (RFC 4180) read into memory: a header and rows of fields.
///
/// Fields are kept as byte ranges into one buffer and turned into strings only on request, so
/// adapters can test label cells (`1.0`, `-1.0`, blank) without allocating; CheXpert's
/// 223,414-row label file parses in well under a second even in a debug build because rows
/// without quotes are split with `memchr`. Quoted fields may contain commas, doubled quotes
/// and line breaks; CR LF line ends, a UTF-8 byte-order mark and blank lines are accepted.
/// The text must be UTF-8 (or declared Latin-1 / Windows-1252, then converted): other bytes are
/// refused with their line and offset rather than replaced, which would change ids silently.
/// Every row must have as many fields as the header.
public struct CSVTable: Sendable {
    /// How the file is named in errors (its path).
    public let file: String
    /// The header's column names, exactly as written.
    public let header: [String]
    /// The file bytes, followed by unescaped copies of quoted fields that contained `""`.
    private let storage: [UInt8]
    /// Per row and column, the start and end offset into `storage` (`2 * header.count` per row).
    private let fieldBounds: [UInt32]
    /// The 1-based line each row starts on (the header is line 1 unless blank lines precede it).
    private let startLines: [UInt32]

    /// Number of data rows (the header excluded).
    public var rowCount: Int { startLines.count }

    /// Reads and parses a CSV file.
    ///
    /// - Throws: `DatasetError.fileNotFound` / `.unreadable` for I/O problems, `.notUTF8` (with
    ///   line, column and byte offset) for bytes that are not UTF-8 when `encoding` is UTF-8,
    ///   `.malformedCSV` (with the line number) for structural errors, `.empty` for a file
    ///   without a header.
    /// - Parameters:
    ///   - url: the file.
    ///   - columnNames: for files without a header line (MURA's), the names to give the
    ///     columns; nil when the first line is the header.
    ///   - hint: what to tell the user when the file does not exist.
    ///   - encoding: the file's encoding; other encodings are converted to UTF-8 first.
    public static func read(contentsOf url: URL, columnNames: [String]? = nil,
                            hint: String = "Check the path.", encoding: TextEncoding = .utf8) throws(DatasetError) -> CSVTable {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw .fileNotFound(path: path, hint: hint)
        }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        return try CSVTable(parsing: [UInt8](data), file: path, columnNames: columnNames, encoding: encoding)
    }

    /// Parses CSV bytes; `file` names the source in errors; `columnNames` and `encoding` as in `read`.
    public init(parsing bytes: [UInt8], file: String, columnNames: [String]? = nil, encoding: TextEncoding = .utf8) throws(DatasetError) {
        let bytes = try encoding.utf8Bytes(bytes, file: file)
        guard bytes.count < Int(UInt32.max) / 2 else {
            throw .unreadable(path: file, reason: "the file is over 2 GB, more than label files are read up to")
        }
        self.file = file
        var parser = CSVParser(file: file, storageBase: bytes.count)
        parser.header = columnNames
        let result: Result<Void, DatasetError> = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(DatasetError) in try parser.parse(buffer) }
        }
        try result.get()
        guard let header = parser.header else {
            throw .empty(file: file, reason: "the file has no header line")
        }
        self.header = header
        self.storage = parser.unescaped.isEmpty ? bytes : bytes + parser.unescaped
        self.fieldBounds = parser.fieldBounds
        self.startLines = parser.startLines
    }

    /// The index of column `name`.
    /// - Throws: `DatasetError.missingColumn`, listing the columns the file has.
    public func column(named name: String) throws(DatasetError) -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw .missingColumn(file: file, column: name, available: header)
        }
        return index
    }

    /// The 1-based line number where data row `row` starts, for error messages.
    public func line(ofRow row: Int) -> Int { Int(startLines[row]) }

    /// The text of a field.
    public func string(row: Int, column: Int) -> String {
        let index = 2 * (row * header.count + column)
        let start = Int(fieldBounds[index]), end = Int(fieldBounds[index + 1])
        return storage.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<end]), as: UTF8.self) }
    }

    /// Whether a field is empty.
    public func isEmpty(row: Int, column: Int) -> Bool {
        let index = 2 * (row * header.count + column)
        return fieldBounds[index] == fieldBounds[index + 1]
    }

    /// Calls `body` with a borrowed, allocation-free view of every field.
    ///
    /// Adapters read large files through this: each field access is pointer arithmetic, with
    /// no reference counting, which keeps debug builds fast on 200,000-row files. The view
    /// must not escape `body`.
    public func withFields<Result>(_ body: (CSVFields) throws(DatasetError) -> Result) throws(DatasetError) -> Result {
        let result: Swift.Result<Result, DatasetError> = storage.withUnsafeBufferPointer { bytes in
            fieldBounds.withUnsafeBufferPointer { bounds in
                Swift.Result { () throws(DatasetError) in
                    try body(CSVFields(bytes: bytes, bounds: bounds, columnCount: header.count))
                }
            }
        }
        return try result.get()
    }
}

/// A borrowed view of a `CSVTable`'s fields, valid only inside `CSVTable.withFields`.
public struct CSVFields {
    fileprivate let bytes: UnsafeBufferPointer<UInt8>
    fileprivate let bounds: UnsafeBufferPointer<UInt32>
    fileprivate let columnCount: Int

    /// The bytes of a field (quotes removed, `""` unescaped).
    public func bytes(row: Int, column: Int) -> UnsafeBufferPointer<UInt8> {
        precondition(column >= 0 && column < columnCount, "column \(column) outside 0..<\(columnCount)")
        let index = 2 * (row * columnCount + column)
        let start = Int(bounds[index]), end = Int(bounds[index + 1])
        return UnsafeBufferPointer(start: bytes.baseAddress! + start, count: end - start)
    }

    /// The text of a field.
    public func string(row: Int, column: Int) -> String {
        String(decoding: bytes(row: row, column: column), as: UTF8.self)
    }

    /// The text of part of a field, given as byte offsets into it.
    public func string(row: Int, column: Int, bytes range: Range<Int>) -> String {
        let field = bytes(row: row, column: column)
        precondition(range.lowerBound >= 0 && range.upperBound <= field.count, "range outside the field")
        return String(decoding: UnsafeBufferPointer(rebasing: field[range]), as: UTF8.self)
    }

    /// Whether a field equals an ASCII/UTF-8 literal, without allocating.
    public func field(row: Int, column: Int, equals literal: StaticString) -> Bool {
        let field = bytes(row: row, column: column)
        guard field.count == literal.utf8CodeUnitCount else { return false }
        return field.count == 0 || memcmp(field.baseAddress!, literal.utf8Start, field.count) == 0
    }
}

/// The parsing state machine behind `CSVTable`; separate so the table itself stays immutable.
private struct CSVParser {
    let file: String
    /// Offsets of unescaped fields are `storageBase + offset in unescaped`.
    let storageBase: Int
    var header: [String]?
    var unescaped: [UInt8] = []
    var fieldBounds: [UInt32] = []
    var startLines: [UInt32] = []
    /// Bounds of the record being read, before it is known to be the header or a row.
    private var record: [UInt32] = []

    init(file: String, storageBase: Int) {
        self.file = file
        self.storageBase = storageBase
    }

    private static let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""),
                        lineFeed = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")

    mutating func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(DatasetError) {
        guard let base = buffer.baseAddress else { return }
        let count = buffer.count
        var position = buffer.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1
        while position < count {
            let recordLine = line
            let lineEnd = memchr(base + position, Int32(Self.lineFeed), count - position)
                .map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) - base } ?? count
            var contentEnd = lineEnd
            if contentEnd > position && base[contentEnd - 1] == Self.carriageReturn { contentEnd -= 1 }
            if contentEnd == position {  // a blank line separates nothing: skip it
                position = lineEnd + 1
                line += 1
                continue
            }
            record.removeAll(keepingCapacity: true)
            if memchr(base + position, Int32(Self.quote), contentEnd - position) == nil {
                // Fast path, nearly every row of real label files: split on commas.
                var fieldStart = position
                while let comma = memchr(base + fieldStart, Int32(Self.comma), contentEnd - fieldStart) {
                    let commaIndex = UnsafePointer(comma.assumingMemoryBound(to: UInt8.self)) - base
                    record.append(UInt32(fieldStart))
                    record.append(UInt32(commaIndex))
                    fieldStart = commaIndex + 1
                }
                record.append(UInt32(fieldStart))
                record.append(UInt32(contentEnd))
                position = lineEnd + 1
                line += 1
            } else {
                position = try parseQuotedRecord(base, count: count, from: position, line: &line)
            }
            try finishRecord(startingAt: recordLine, base: base)
        }
    }

    /// Reads one record that contains quotes, byte by byte; it may span several lines.
    /// Returns the offset after the record's line feed.
    private mutating func parseQuotedRecord(_ base: UnsafePointer<UInt8>, count: Int, from start: Int,
                                            line: inout Int) throws(DatasetError) -> Int {
        let recordLine = line
        var index = start
        while true {
            if index < count && base[index] == Self.quote {
                index += 1
                let contentStart = index
                var hasDoubledQuotes = false
                while true {
                    guard index < count else {
                        throw .malformedCSV(file: file, line: recordLine,
                                            reason: "a quoted field is never closed (missing closing \")")
                    }
                    let byte = base[index]
                    if byte == Self.quote {
                        if index + 1 < count && base[index + 1] == Self.quote {
                            hasDoubledQuotes = true
                            index += 2
                            continue
                        }
                        break
                    }
                    if byte == Self.lineFeed { line += 1 }
                    index += 1
                }
                appendField(base, from: contentStart, to: index, unescapingQuotes: hasDoubledQuotes)
                index += 1  // the closing quote
                if index < count && base[index] == Self.carriageReturn { index += 1 }
                guard index >= count || base[index] == Self.comma || base[index] == Self.lineFeed else {
                    throw .malformedCSV(file: file, line: line,
                                        reason: "unexpected \"\(Character(Unicode.Scalar(base[index])))\" after a closing quote")
                }
            } else {
                let fieldStart = index
                while index < count && base[index] != Self.comma && base[index] != Self.lineFeed { index += 1 }
                var fieldEnd = index
                if fieldEnd > fieldStart && base[fieldEnd - 1] == Self.carriageReturn && (index >= count || base[index] == Self.lineFeed) {
                    fieldEnd -= 1
                }
                record.append(UInt32(fieldStart))
                record.append(UInt32(fieldEnd))
            }
            if index >= count { return count }
            if base[index] == Self.lineFeed {
                line += 1
                return index + 1
            }
            index += 1  // a comma: another field follows
        }
    }

    private mutating func appendField(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int, unescapingQuotes: Bool) {
        guard unescapingQuotes else {
            record.append(UInt32(start))
            record.append(UInt32(end))
            return
        }
        let offset = storageBase + unescaped.count
        var index = start
        while index < end {
            unescaped.append(base[index])
            index += base[index] == Self.quote ? 2 : 1
        }
        record.append(UInt32(offset))
        record.append(UInt32(storageBase + unescaped.count))
    }

    private mutating func finishRecord(startingAt line: Int, base: UnsafePointer<UInt8>) throws(DatasetError) {
        let fieldCount = record.count / 2
        guard let header else {
            header = (0..<fieldCount).map { field in
                let start = Int(record[2 * field]), end = Int(record[2 * field + 1])
                if start >= storageBase {
                    return String(decoding: unescaped[(start - storageBase)..<(end - storageBase)], as: UTF8.self)
                }
                return String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self)
            }
            return
        }
        guard fieldCount == header.count else {
            throw .malformedCSV(file: file, line: line,
                                reason: "\(fieldCount) fields, but the header has \(header.count)")
        }
        fieldBounds.append(contentsOf: record)
        startLines.append(UInt32(line))
    }
}
