/// Rows of features read on demand rather than held: what a probe stage trains on when the
/// rows live in memory-mapped embedding shards. A reader copies the rows asked for and gives
/// back the pages it read, so a pass over a large embedding keeps about one chunk resident.
public protocol FeatureRowReader: Sendable {
    /// Number of rows.
    var count: Int { get }
    /// Floats per row.
    var width: Int { get }
    /// Copies `rows` (each in `0..<count`), in that order, into `destination`, row-major.
    /// - Throws: an error naming the file when a row cannot be read.
    func copyRows(_ rows: UnsafeBufferPointer<Int>, into destination: UnsafeMutablePointer<Float>) throws
}

/// A probe's feature rows: held in memory, or read from a `FeatureRowReader` chunk by chunk.
/// Every consumer reads rows the same way from either, so the numbers do not depend on where
/// the rows live.
public enum FeatureRows: Sendable {
    /// Row-major values, `ProbeData.width` per row.
    case values([Float])
    /// Rows read on demand.
    case reader(any FeatureRowReader)

    /// Rows read or copied per chunk by the streaming passes (validation, test and checks).
    public static let chunkRows = 1024

    /// Number of rows at `width` floats each.
    public func count(width: Int) -> Int {
        switch self {
        case .values(let values): width > 0 ? values.count / width : 0
        case .reader(let reader): reader.count
        }
    }

    /// Every value, row-major: a copy of the whole matrix (for small data and tests).
    /// - Throws: the reader's error.
    public func allValues(width: Int) throws -> [Float] {
        switch self {
        case .values(let values): return values
        case .reader(let reader):
            var values = [Float](repeating: 0, count: reader.count * reader.width)
            try values.withUnsafeMutableBufferPointer { destination in
                try forEachChunk(width: width) { range, chunk in
                    (destination.baseAddress! + range.lowerBound * width).update(from: chunk, count: range.count * width)
                }
            }
            return values
        }
    }

    /// Runs `body` on consecutive chunks of at most `chunkRows` rows, in order, each as its row
    /// range and a pointer to its row-major values (valid only during the call).
    /// - Throws: the reader's error or `body`'s.
    public func forEachChunk(width: Int, _ body: (Range<Int>, UnsafePointer<Float>) throws -> Void) throws {
        let count = count(width: width)
        switch self {
        case .values(let values):
            try values.withUnsafeBufferPointer { values in
                for start in stride(from: 0, to: count, by: Self.chunkRows) {
                    let range = start..<min(start + Self.chunkRows, count)
                    try body(range, values.baseAddress! + start * width)
                }
            }
        case .reader(let reader):
            let capacity = min(Self.chunkRows, max(count, 1))
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: capacity * width)
            let rows = UnsafeMutablePointer<Int>.allocate(capacity: capacity)
            defer {
                buffer.deallocate()
                rows.deallocate()
            }
            for start in stride(from: 0, to: count, by: Self.chunkRows) {
                let range = start..<min(start + Self.chunkRows, count)
                for (position, row) in range.enumerated() { rows[position] = row }
                try reader.copyRows(UnsafeBufferPointer(start: rows, count: range.count), into: buffer)
                try body(range, buffer)
            }
        }
    }

    /// The first non-finite value as (row, column), or nil.
    /// - Throws: the reader's error.
    func firstNonFinite(width: Int) throws -> (row: Int, column: Int)? {
        var found: (row: Int, column: Int)?
        try forEachChunk(width: width) { range, chunk in
            guard found == nil else { return }
            for index in 0..<(range.count * width) where !chunk[index].isFinite {
                found = (range.lowerBound + index / width, index % width)
                return
            }
        }
        return found
    }
}

/// Gathers batches of rows for a training step: from memory in place, or from a reader into a
/// buffer of its own, so the step reads the same values in the same order either way.
final class FeatureBatchGatherer {
    private let rows: FeatureRows
    private let width: Int
    private let buffer: UnsafeMutablePointer<Float>
    private let identity: UnsafeMutablePointer<Int>
    private let capacity: Int

    init(rows: FeatureRows, width: Int, capacity: Int) {
        self.rows = rows
        self.width = width
        self.capacity = capacity
        if case .reader = rows {
            buffer = .allocate(capacity: max(capacity * width, 1))
            identity = .allocate(capacity: max(capacity, 1))
            for position in 0..<capacity { identity[position] = position }
        } else {
            buffer = .allocate(capacity: 1)
            identity = .allocate(capacity: 1)
        }
    }

    deinit {
        buffer.deallocate()
        identity.deallocate()
    }

    /// Runs `body` with the batch `batch` as rows of a feature matrix: the original rows of the
    /// in-memory matrix, or rows `0..<batch.count` of the gathered buffer.
    /// - Throws: the reader's error.
    func withBatch<Result>(_ batch: UnsafeBufferPointer<Int>,
                           _ body: (UnsafeBufferPointer<Int>, UnsafePointer<Float>) -> Result) throws -> Result {
        switch rows {
        case .values(let values):
            return values.withUnsafeBufferPointer { body(batch, $0.baseAddress!) }
        case .reader(let reader):
            precondition(batch.count <= capacity, "batch of \(batch.count) rows for a gatherer of \(capacity)")
            try reader.copyRows(batch, into: buffer)
            return body(UnsafeBufferPointer(start: identity, count: batch.count), buffer)
        }
    }
}
