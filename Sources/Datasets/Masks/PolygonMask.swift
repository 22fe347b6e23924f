/// A binary mask given as polygons (VinDr-RibCXR's rib outlines), each filled and all united.
///
/// **Pixel convention** (that of `skimage.draw.polygon`, checked against it pixel for pixel by
/// `scripts/fixtures/masks.py`): vertex coordinates are in pixels with integer values at pixel
/// centres, so the pixel in column `x`, row `y` covers `[x − ½, x + ½] × [y − ½, y + ½]`. The
/// pixel belongs to a polygon when its centre `(x, y)` lies inside it or on its outline:
/// O'Rourke's crossing test (Computational Geometry in C, ch. 7) casts a horizontal ray both
/// ways from the centre, counting an edge for the right ray when its end points are on
/// opposite sides of `y` with one strictly above (`(y₀ > y) ≠ (y₁ > y)`) and it crosses right
/// of the centre, and for the left ray when one is strictly below (`(y₀ < y) ≠ (y₁ < y)`) and
/// it crosses left; the centre is inside when the right count is odd, on the outline when the
/// two counts differ in parity, and a centre within 10⁻¹² of a vertex is on it. So a polygon's
/// outline pixels are part of it (a square from 2 to 8 fills 7 × 7 pixels), a polygon of one
/// or two vertices fills the pixels at its vertices, and two polygons sharing an edge both
/// claim the pixels on it. Parts outside the mask are clipped.
public struct PolygonMask: Sendable, Hashable {
    /// Pixels per row of the mask (the image's width).
    public let width: Int
    /// Rows of the mask (the image's height).
    public let height: Int
    /// Each polygon's vertices as `x0, y0, x1, y1, …` (closed implicitly).
    public let polygons: [[Double]]

    /// The largest coordinate magnitude accepted: far beyond any image, and small enough that
    /// every crossing computed from such coordinates is finite.
    public static let coordinateLimit = 1e9

    /// Creates a mask.
    /// - Throws: `MaskError.invalidPolygon` for a non-positive size, an odd number of
    ///   coordinates or a coordinate that is not finite or beyond `coordinateLimit`.
    public init(width: Int, height: Int, polygons: [[Double]]) throws(MaskError) {
        guard width > 0, height > 0 else { throw .invalidPolygon(reason: "size \(width) x \(height) is not positive") }
        for (index, polygon) in polygons.enumerated() {
            guard polygon.count % 2 == 0 else {
                throw .invalidPolygon(reason: "polygon \(index + 1) has \(polygon.count) coordinates, not x-y pairs")
            }
            if let bad = polygon.first(where: { !$0.isFinite || abs($0) > Self.coordinateLimit }) {
                throw .invalidPolygon(reason: "polygon \(index + 1) has the coordinate \(bad) (coordinates are pixels, within ±\(Self.coordinateLimit))")
            }
        }
        self.width = width
        self.height = height
        self.polygons = polygons
    }

    /// The columns of row `row` inside some polygon, as sorted, disjoint, non-touching ranges
    /// within `0..<width`.
    /// - Complexity: O(v + w) per polygon, for its v vertices and the w columns its bounding box
    ///   spans in the row.
    public func spans(ofRow row: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        for polygon in polygons where !polygon.isEmpty {
            appendSpans(of: polygon, row: row, to: &ranges)
        }
        guard ranges.count > 1 else { return ranges }
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = [ranges[0]]
        for range in ranges.dropFirst() {
            let last = merged[merged.count - 1]
            if range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// Tolerance of the vertex test, as skimage's.
    private static let vertexTolerance = 1e-12

    /// Appends the spans of one polygon in one row.
    ///
    /// Per edge, the crossing's sign is the same for every column left of the crossing (and for
    /// every column right of it), so whole runs of columns are toggled at once through parity
    /// difference arrays; only the columns within two pixels of the crossing evaluate skimage's
    /// expression `(x₀y₁ − x₁y₀)/(y₁ − y₀)` itself, so rounding decides them as it does there.
    private func appendSpans(of polygon: [Double], row: Int, to ranges: inout [Range<Int>]) {
        let count = polygon.count / 2
        let y = Double(row)
        var minimumX = Double.infinity, maximumX = -Double.infinity, minimumY = Double.infinity, maximumY = -Double.infinity
        for vertex in 0..<count {
            minimumX = min(minimumX, polygon[2 * vertex]); maximumX = max(maximumX, polygon[2 * vertex])
            minimumY = min(minimumY, polygon[2 * vertex + 1]); maximumY = max(maximumY, polygon[2 * vertex + 1])
        }
        guard y >= minimumY - 1, y <= maximumY + 1 else { return }
        let low = max(0, Int(minimumX.rounded(.down)) - 1), high = min(width - 1, Int(maximumX.rounded(.up)) + 1)
        guard low <= high else { return }
        let columns = high - low + 1
        // Parity toggles: `right[i]` starts (or ends) a run of columns counted by the right ray,
        // `left[i]` likewise for the left ray; `single` toggles one column (bit 0 right, bit 1
        // left; bit 2 marks a vertex).
        var right = [UInt8](repeating: 0, count: columns + 1)
        var left = [UInt8](repeating: 0, count: columns + 1)
        var single = [UInt8](repeating: 0, count: columns)
        var previousX = polygon[2 * (count - 1)] , previousY = polygon[2 * (count - 1) + 1] - y
        for vertex in 0..<count {
            let vertexX = polygon[2 * vertex], vertexY = polygon[2 * vertex + 1] - y
            if abs(vertexY) < Self.vertexTolerance {
                let column = Int(vertexX.rounded())
                if column >= low && column <= high && abs(vertexX - Double(column)) < Self.vertexTolerance { single[column - low] |= 4 }
            }
            let countsRight = (vertexY > 0) != (previousY > 0), countsLeft = (vertexY < 0) != (previousY < 0)
            if countsRight || countsLeft {
                let crossing = (vertexX * previousY - previousX * vertexY) / (previousY - vertexY)
                let windowLow = Int(crossing.rounded(.down)) - 2, windowHigh = Int(crossing.rounded(.up)) + 2
                // skimage's value for a centre at column x: positive when the edge crosses right of it.
                func value(_ x: Int) -> Double {
                    let x0 = vertexX - Double(x), x1 = previousX - Double(x)
                    return (x0 * previousY - x1 * vertexY) / (previousY - vertexY)
                }
                if countsRight {
                    // Columns left of the window: the edge crosses right of them.
                    let end = min(max(windowLow - low, 0), columns)
                    if end > 0 { right[0] ^= 1; right[end] ^= 1 }
                }
                if countsLeft {
                    // Columns right of the window: the edge crosses left of them.
                    let start = min(max(windowHigh + 1 - low, 0), columns)
                    if start < columns { left[start] ^= 1; left[columns] ^= 1 }
                }
                let first = max(windowLow, low), last = min(windowHigh, high)
                if first <= last {
                    for x in first...last {
                        let crossingValue = value(x)
                        if countsRight && crossingValue > 0 { single[x - low] ^= 1 }
                        if countsLeft && crossingValue < 0 { single[x - low] ^= 2 }
                    }
                }
            }
            previousX = vertexX
            previousY = vertexY
        }
        var rightParity: UInt8 = 0, leftParity: UInt8 = 0
        var start: Int?
        for index in 0..<columns {
            rightParity ^= right[index]
            leftParity ^= left[index]
            let inside = (rightParity ^ (single[index] & 1)) | (leftParity ^ ((single[index] >> 1) & 1)) | (single[index] >> 2)
            if inside != 0 {
                if start == nil { start = low + index }
            } else if let begun = start {
                ranges.append(begun..<(low + index))
                start = nil
            }
        }
        if let begun = start { ranges.append(begun..<(high + 1)) }
    }

    /// Pixels inside some polygon.
    /// - Complexity: O(height × (v + w)) as `spans(ofRow:)`; the mask is not drawn.
    public var pixelCount: Int {
        (0..<height).reduce(0) { total, row in total + spans(ofRow: row).reduce(0) { $0 + $1.count } }
    }

    /// The mask as a row-major `height * width` plane of 0 and 1.
    /// - Complexity: O(width × height + height × v).
    public func plane() -> [UInt8] {
        var plane = [UInt8](repeating: 0, count: width * height)
        for row in 0..<height {
            for span in spans(ofRow: row) {
                for column in span { plane[row * width + column] = 1 }
            }
        }
        return plane
    }
}
