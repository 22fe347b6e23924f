/// A binary mask given as polygons (VinDr-RibCXR's rib outlines), each filled and all united.
///
/// **Pixel convention** (that of `skimage.draw.polygon`, checked against it by
/// `scripts/fixtures/masks.py`): vertex coordinates are in pixels with integer values at pixel
/// centres, so the pixel in column `x`, row `y` covers `[x − ½, x + ½) × [y − ½, y + ½)`. The
/// pixel belongs to a polygon when its centre `(x, y)` does by the even–odd rule, counted with
/// half-open edges: an edge from `(xᵢ, yᵢ)` to `(xⱼ, yⱼ)` crosses row `y` when
/// `min(yᵢ, yⱼ) ≤ y < max(yᵢ, yⱼ)`, at `x* = (xⱼ − xᵢ)(y − yᵢ)/(yⱼ − yᵢ) + xᵢ`, and the centre is
/// inside when an odd number of crossings have `x < x*`. So of two polygons sharing an edge
/// each pixel centre on it goes to exactly one, horizontal edges never count, and a polygon of
/// fewer than three vertices fills nothing. Parts outside the mask are clipped.
public struct PolygonMask: Sendable, Hashable {
    /// Pixels per row of the mask (the image's width).
    public let width: Int
    /// Rows of the mask (the image's height).
    public let height: Int
    /// Each polygon's vertices as `x0, y0, x1, y1, …` (closed implicitly).
    public let polygons: [[Double]]

    /// Creates a mask.
    /// - Throws: `MaskError.invalidPolygon` for a non-positive size, an odd number of
    ///   coordinates or a coordinate that is not finite.
    public init(width: Int, height: Int, polygons: [[Double]]) throws(MaskError) {
        guard width > 0, height > 0 else { throw .invalidPolygon(reason: "size \(width) x \(height) is not positive") }
        for (index, polygon) in polygons.enumerated() {
            guard polygon.count % 2 == 0 else {
                throw .invalidPolygon(reason: "polygon \(index + 1) has \(polygon.count) coordinates, not x-y pairs")
            }
            if let bad = polygon.first(where: { !$0.isFinite }) {
                throw .invalidPolygon(reason: "polygon \(index + 1) has the coordinate \(bad)")
            }
        }
        self.width = width
        self.height = height
        self.polygons = polygons
    }

    /// The columns of row `row` inside some polygon, as sorted, disjoint, non-touching ranges
    /// within `0..<width`.
    /// - Complexity: O(v log v) in the vertices of all polygons.
    public func spans(ofRow row: Int) -> [Range<Int>] {
        let y = Double(row)
        var ranges: [Range<Int>] = []
        var crossings: [Double] = []
        for polygon in polygons {
            let count = polygon.count / 2
            guard count >= 3 else { continue }
            crossings.removeAll(keepingCapacity: true)
            var j = count - 1
            for i in 0..<count {
                let xi = polygon[2 * i], yi = polygon[2 * i + 1], xj = polygon[2 * j], yj = polygon[2 * j + 1]
                if (yi <= y && y < yj) || (yj <= y && y < yi) {
                    // The same expression, in the same order, as skimage's point_in_polygon.
                    crossings.append((xj - xi) * (y - yi) / (yj - yi) + xi)
                }
                j = i
            }
            crossings.sort()
            // A centre x is inside when an odd number of crossings are ≤ x: [c₀, c₁), [c₂, c₃), …
            for pair in stride(from: 0, to: crossings.count - 1, by: 2) {
                let start = max(0, Self.ceiling(crossings[pair])), end = min(width, Self.ceiling(crossings[pair + 1]))
                if start < end { ranges.append(start..<end) }
            }
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

    /// The smallest whole number ≥ `value`, clamped to the `Int32` range (coordinates far
    /// outside the mask only need to stay outside it).
    private static func ceiling(_ value: Double) -> Int {
        Int(min(max(value.rounded(.up), -2_147_483_648), 2_147_483_647))
    }

    /// Pixels inside some polygon.
    /// - Complexity: O(height × v log v); no pixel is visited.
    public var pixelCount: Int {
        (0..<height).reduce(0) { total, row in total + spans(ofRow: row).reduce(0) { $0 + $1.count } }
    }

    /// The mask as a row-major `height * width` plane of 0 and 1.
    /// - Complexity: O(width × height + height × v log v).
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
