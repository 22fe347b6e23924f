import Engine
import Foundation
import Pipeline
import Results

/// A temporary project run with the real stage runners.
struct RunnersProject {
    let folder: URL
    var configuration: EngineConfiguration

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-runners-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        configuration = EngineConfiguration(
            cacheDirectory: folder.appendingPathComponent("cache"), databasePath: folder.appendingPathComponent("results.sqlite"),
            jobs: 2, environment: [:], registry: .standard, observer: nil, handlesInterrupts: false)
    }

    /// Writes `text` to `name` in the project folder and returns its URL.
    @discardableResult
    func write(_ text: String, to name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func run(_ yaml: String) throws -> RunReport {
        try Engine.run(specURL: write(yaml, to: "spec.yaml"), configuration: configuration)
    }

    func query(_ sql: String) throws -> QueryTable {
        try ResultStore.openReadOnly(path: configuration.databasePath).query(sql)
    }

    /// A single number from the results database.
    func number(_ sql: String) throws -> Double {
        try query(sql).rows.first?.first?.doubleValue ?? .nan
    }

    /// The first column of every row, as text.
    func strings(_ sql: String) throws -> [String] {
        try query(sql).rows.map { row in
            switch row.first {
            case .text(let text)?: return text
            case .integer(let value)?: return String(value)
            case .real(let value)?: return String(value)
            default: return ""
            }
        }
    }
}

/// A little-endian float32 `.npy` (format 1.0) of a row-major matrix.
func numPyData(rows: Int, columns: Int, values: [Float]) -> Data {
    precondition(values.count == rows * columns)
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    let length = UInt16(header.utf8.count)
    data.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
    data.append(contentsOf: Array(header.utf8))
    for value in values {
        let bits = value.bitPattern.littleEndian
        data.append(contentsOf: [UInt8(bits & 0xff), UInt8((bits >> 8) & 0xff), UInt8((bits >> 16) & 0xff), UInt8(bits >> 24)])
    }
    return data
}
