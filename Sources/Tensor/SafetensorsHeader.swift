import Foundation

/// The parsed JSON header of a safetensors file.
struct SafetensorsHeader {
    var metadata: [String: String] = [:]
    var entries: [SafetensorsFile.Entry] = []

    typealias Failure = (TensorFileError.Kind, String?) -> TensorFileError

    /// Parses the header bytes: UTF-8, a JSON object, an optional `__metadata__` string map,
    /// every other key an object with `dtype`, `shape` and `data_offsets` (extra fields are
    /// ignored, as serde does). Entries come back sorted by offsets.
    static func parse(_ bytes: UnsafeRawBufferPointer, fail: Failure) throws -> SafetensorsHeader {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw fail(.headerNotText, nil) }
        let decoder = JSONDecoder()
        let raw: RawHeader
        do {
            raw = try decoder.decode(RawHeader.self, from: Data(bytes))
        } catch let error as EntryError {
            switch error {
            case .unknownDtype(let name, let dtype): throw fail(.unknownDtype(dtype), name)
            case .malformed(let name, let detail): throw fail(.malformedEntry(detail), name)
            case .malformedMetadata(let detail): throw fail(.malformedHeader("__metadata__ \(detail)"), nil)
            case .reversedOffsets(let name, let begin, let end):
                throw fail(.invalidOffsets("[\(begin), \(end)) ends before it begins"), name)
            }
        } catch {
            throw fail(.malformedHeader("not a JSON object (\(Self.summary(of: error)))"), nil)
        }
        var header = SafetensorsHeader()
        header.metadata = raw.metadata
        header.entries = raw.entries.sorted {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
                < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name)
        }
        return header
    }

    /// Checks that offsets tile the data section from 0 in order, and that every byte span
    /// equals product(shape) × dtype size, as `Metadata::validate` does.
    /// - Returns: the end of the data section (relative to its start).
    static func validate(_ entries: [SafetensorsFile.Entry], fail: Failure) throws -> Int {
        var start = 0
        for entry in entries {
            let offsets = entry.dataOffsets
            guard offsets.lowerBound == start else {
                let problem = offsets.lowerBound < start
                    ? "[\(offsets.lowerBound), \(offsets.upperBound)) overlaps the previous tensor, which ends at \(start)"
                    : "[\(offsets.lowerBound), \(offsets.upperBound)) leaves a gap after the previous tensor, which ends at \(start)"
                throw fail(.invalidOffsets(problem), entry.name)
            }
            start = offsets.upperBound
            var elements = 1
            for extent in entry.shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: extent)
                guard !overflow else { throw fail(.sizeOverflow, entry.name) }
                elements = product
            }
            let (bits, overflow) = elements.multipliedReportingOverflow(by: entry.dtype.bitSize)
            guard !overflow else { throw fail(.sizeOverflow, entry.name) }
            guard bits % 8 == 0 else { throw fail(.misalignedSlice, entry.name) }
            guard offsets.count == bits / 8 else {
                throw fail(.byteCountMismatch(expected: bits / 8, actual: offsets.count), entry.name)
            }
        }
        return start
    }

    private static func summary(of error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context):
            return (context.underlyingError.map { "\($0)" } ?? context.debugDescription)
        case DecodingError.typeMismatch(_, let context):
            return context.debugDescription
        default:
            return "\(error)"
        }
    }
}

/// A problem found while decoding one header entry (turned into `TensorFileError`).
private enum EntryError: Error {
    case unknownDtype(name: String, dtype: String)
    case malformed(name: String, detail: String)
    case malformedMetadata(String)
    case reversedOffsets(name: String, begin: Int, end: Int)
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The header object, decoded key by key so that errors can name the tensor.
private struct RawHeader: Decodable {
    var metadata: [String: String] = [:]
    var entries: [SafetensorsFile.Entry] = []

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        for key in container.allKeys {
            if key.stringValue == "__metadata__" {
                if try container.decodeNil(forKey: key) { continue }
                do {
                    metadata = try container.decode([String: String].self, forKey: key)
                } catch {
                    throw EntryError.malformedMetadata("must map strings to strings")
                }
                continue
            }
            guard !entries.contains(where: { $0.name == key.stringValue }) else {
                throw EntryError.malformed(name: key.stringValue, detail: "the name appears twice in the header")
            }
            entries.append(try Self.entry(named: key.stringValue, in: container, key: key))
        }
    }

    private enum Field: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }

    private static func entry(
        named name: String, in container: KeyedDecodingContainer<AnyKey>, key: AnyKey
    ) throws -> SafetensorsFile.Entry {
        func malformed(_ detail: String) -> EntryError { .malformed(name: name, detail: detail) }
        guard let fields = try? container.nestedContainer(keyedBy: Field.self, forKey: key) else {
            throw malformed("must be an object with dtype, shape and data_offsets")
        }
        guard let dtypeName = try? fields.decode(String.self, forKey: .dtype) else {
            throw malformed("missing or non-string 'dtype'")
        }
        guard let dtype = SafetensorsDtype(rawValue: dtypeName) else {
            throw EntryError.unknownDtype(name: name, dtype: dtypeName)
        }
        guard let shape = try? fields.decode([Int].self, forKey: .shape), shape.allSatisfy({ $0 >= 0 }) else {
            throw malformed("missing 'shape', or not a list of non-negative integers")
        }
        guard let offsets = try? fields.decode([Int].self, forKey: .dataOffsets), offsets.count == 2,
              offsets[0] >= 0, offsets[1] >= 0 else {
            throw malformed("missing 'data_offsets', or not two non-negative integers [begin, end]")
        }
        guard offsets[1] >= offsets[0] else {
            throw EntryError.reversedOffsets(name: name, begin: offsets[0], end: offsets[1])
        }
        return SafetensorsFile.Entry(name: name, dtype: dtype, shape: shape, dataOffsets: offsets[0]..<offsets[1])
    }
}
