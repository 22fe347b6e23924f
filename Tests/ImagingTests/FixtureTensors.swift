import Foundation
import Testing
import TestSupport

/// A minimal reader for the fixture `.safetensors` files (F32, U16 and U8 tensors), so the
/// imaging tests need no dependency on the Tensor module.
struct FixtureTensors {
    struct Entry {
        let dtype: String
        let shape: [Int]
        let bytes: Data
    }

    let entries: [String: Entry]

    init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url)
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any] ?? [:]
        let payload = data.subdata(in: (8 + headerLength)..<data.count)
        var entries: [String: Entry] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                  let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int] else { continue }
            entries[name] = Entry(dtype: dtype, shape: shape, bytes: payload.subdata(in: offsets[0]..<offsets[1]))
        }
        self.entries = entries
    }

    func floats(_ name: String) -> [Float]? {
        guard let entry = entries[name], entry.dtype == "F32" else { return nil }
        return entry.bytes.withUnsafeBytes { raw in
            (0..<(entry.bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// U16 or U8 values widened to UInt16.
    func samples(_ name: String) -> [UInt16]? {
        guard let entry = entries[name] else { return nil }
        switch entry.dtype {
        case "U16":
            return entry.bytes.withUnsafeBytes { raw in
                (0..<(entry.bytes.count / 2)).map { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
            }
        case "U8":
            return entry.bytes.map { UInt16($0) }
        default:
            return nil
        }
    }
}

enum Fixtures {
    static var images: URL { fixturesDirectory().appendingPathComponent("images") }
    static var bad: URL { fixturesDirectory().appendingPathComponent("bad") }
    static func image(_ name: String) -> URL { images.appendingPathComponent(name) }
    static func bad(_ name: String) -> URL { bad.appendingPathComponent(name) }
}
