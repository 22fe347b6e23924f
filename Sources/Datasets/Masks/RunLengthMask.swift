/// A run-length encoded binary mask: runs of foreground pixels in column-major order, the
/// order of SIIM-ACR's `train-rle.csv` (and COCO's RLE).
///
/// A pixel at column `x`, row `y` has the offset `x * height + y`. Runs are absolute
/// `(start, length)` pairs and may overlap or come in any order: an image annotated several
/// times (several rows of SIIM's file) is the union of its rows' runs.
public struct RunLengthMask: Sendable, Hashable {
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// `start, length, start, length, …`, absolute column-major offsets.
    public let runs: [Int]

    /// Creates a mask, checking that every run lies inside it.
    /// - Throws: `MaskError.invalidRunLength` for a non-positive size, an odd number of values,
    ///   a negative start, a length below 1 or a run past the last pixel.
    public init(width: Int, height: Int, runs: [Int]) throws(MaskError) {
        guard width > 0, height > 0 else { throw .invalidRunLength(reason: "size \(width) x \(height) is not positive") }
        guard runs.count % 2 == 0 else { throw .invalidRunLength(reason: "\(runs.count) values, not start-length pairs") }
        let total = width * height
        for pair in stride(from: 0, to: runs.count, by: 2) {
            let start = runs[pair], length = runs[pair + 1]
            guard start >= 0, length >= 1, start <= total - length else {
                throw .invalidRunLength(reason: "the run at offset \(start) of length \(length) does not fit in \(width) x \(height) = \(total) pixels")
            }
        }
        self.width = width
        self.height = height
        self.runs = runs
    }

    /// Decodes SIIM-ACR's relative encoding: `-1` for an empty mask, else pairs whose first
    /// number counts the pixels skipped since the end of the previous run (from offset 0 for
    /// the first) and whose second is the run's length, separated by spaces.
    ///
    /// - Returns: absolute `(start, length)` pairs.
    /// - Throws: `MaskError.invalidRunLength` for anything else: a word that is not a whole
    ///   number, an odd count, a negative skip, a length below 1 or a run past `pixelCount`.
    public static func absoluteRuns(fromSIIM text: Substring, pixelCount: Int) throws(MaskError) -> [Int] {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        if words.count == 1 && words[0] == "-1" { return [] }
        var numbers: [Int] = []
        numbers.reserveCapacity(words.count)
        for word in words {
            guard let number = Int(word) else { throw .invalidRunLength(reason: "\"\(word)\" is not a whole number") }
            numbers.append(number)
        }
        guard !numbers.isEmpty else { throw .invalidRunLength(reason: "the cell is blank (write -1 for an empty mask)") }
        guard numbers.count % 2 == 0 else { throw .invalidRunLength(reason: "\(numbers.count) numbers, not skip-length pairs") }
        var runs: [Int] = []
        runs.reserveCapacity(numbers.count)
        var position = 0
        for pair in stride(from: 0, to: numbers.count, by: 2) {
            let skip = numbers[pair], length = numbers[pair + 1]
            guard skip >= 0 else { throw .invalidRunLength(reason: "pair \(pair / 2 + 1) skips \(skip) pixels; skips cannot be negative") }
            guard length >= 1 else { throw .invalidRunLength(reason: "pair \(pair / 2 + 1) has length \(length); runs are at least 1 pixel long") }
            position += skip
            guard position <= pixelCount - length else {
                throw .invalidRunLength(reason: "pair \(pair / 2 + 1) ends at pixel \(position + length), past the mask's \(pixelCount) pixels")
            }
            runs += [position, length]
            position += length
        }
        return runs
    }

    /// The runs as sorted, disjoint, non-touching `start..<end` ranges (their union).
    public var mergedRanges: [Range<Int>] {
        var ranges = stride(from: 0, to: runs.count, by: 2).map { runs[$0]..<(runs[$0] + runs[$0 + 1]) }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for range in ranges {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// Foreground pixels (overlapping runs counted once).
    /// - Complexity: O(r log r) in the number of runs; no pixel is visited.
    public var pixelCount: Int { mergedRanges.reduce(0) { $0 + $1.count } }

    /// The mask as a row-major `height * width` plane of 0 and 1.
    /// - Complexity: O(width × height).
    public func plane() -> [UInt8] {
        var plane = [UInt8](repeating: 0, count: width * height)
        let height = height, width = width
        plane.withUnsafeMutableBufferPointer { pixels in
            for pair in stride(from: 0, to: runs.count, by: 2) {
                for offset in runs[pair]..<(runs[pair] + runs[pair + 1]) {
                    pixels[(offset % height) * width + offset / height] = 1
                }
            }
        }
        return plane
    }
}
