import Foundation

/// A point in anatomy coordinates: the unit square, x to the image right, y down.
struct PhantomPoint: Sendable {
    var x: Double
    var y: Double

    init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// A square map of X-ray attenuation (a projected line integral per pixel) that anatomy is
/// drawn into, before exposure, noise and quantisation turn it into a radiograph.
///
/// Structures are projections of simple solids, which is what makes the images look like
/// X-rays: an ellipsoid projects to `sqrt(1 - q)` (soft, rounded edges); a hollow bone (a
/// dense shell around less dense marrow) projects brighter at its rims than in its middle,
/// the cortical outline every radiograph shows. Anatomy code works in unit-square
/// coordinates; `pose` (scale, rotation, shift) maps them to pixels, so each image places
/// its anatomy slightly differently.
struct PhantomCanvas {
    let size: Int
    /// Row-major attenuation, `size * size` values.
    var attenuation: [Float]
    /// Scale, rotation (radians) and shift (unit-square units) applied about the centre.
    var poseScale = 1.0, poseAngle = 0.0, poseShiftX = 0.0, poseShiftY = 0.0
    /// Row-major label map (`PhantomMaskParts` bits per pixel) when masks are drawn, else nil.
    /// Primitives drawn with `parts` set their bits on the pixels they add attenuation to;
    /// drawing the map never changes `attenuation`.
    var labels: [UInt8]?

    init(size: Int, drawsMasks: Bool = false) {
        precondition(size >= 16, "phantom images need at least 16 pixels per side")
        self.size = size
        attenuation = [Float](repeating: 0, count: size * size)
        labels = drawsMasks ? [UInt8](repeating: 0, count: size * size) : nil
    }

    /// Anatomy coordinates to pixel coordinates.
    func pixel(_ point: PhantomPoint) -> (x: Double, y: Double) {
        let dx = point.x - 0.5, dy = point.y - 0.5
        let c = cos(poseAngle), s = sin(poseAngle)
        let x = 0.5 + poseScale * (c * dx - s * dy) + poseShiftX
        let y = 0.5 + poseScale * (s * dx + c * dy) + poseShiftY
        return (x * Double(size), y * Double(size))
    }

    /// A length in anatomy units, in pixels.
    func pixels(_ length: Double) -> Double { length * poseScale * Double(size) }

    /// How a primitive's normalised squared distance `q` (0 at the axis, 1 at the surface)
    /// becomes projected thickness.
    enum Profile {
        /// A solid ellipsoid or cylinder: `sqrt(1 - q)`.
        case solid
        /// A bone: a dense shell whose inner part (radius ratio `inner`) holds marrow of
        /// relative density `marrow`, so the rims come out brighter than the middle.
        case bone(inner: Double, marrow: Double)

        func thickness(_ q: Double) -> Double {
            guard q < 1 else { return 0 }
            let outer = (1 - q).squareRoot()
            switch self {
            case .solid:
                return outer
            case .bone(let inner, let marrow):
                let innerQ = q / (inner * inner)
                guard innerQ < 1 else { return outer }
                return outer - (1 - marrow) * inner * (1 - innerQ).squareRoot()
            }
        }
    }

    /// Adds an ellipsoid (or, with `squareness` > 1, a rounded box) of peak `density`.
    mutating func ellipse(_ center: PhantomPoint, radii: (Double, Double), angle: Double = 0,
                          density: Double, profile: Profile = .solid, squareness: Double = 1, parts: PhantomMaskParts = []) {
        let (cx, cy) = pixel(center)
        let a = max(pixels(radii.0), 0.5), b = max(pixels(radii.1), 0.5)
        let theta = angle + poseAngle
        let c = cos(theta), s = sin(theta)
        let reach = max(a, b) + 1
        draw(minX: cx - reach, maxX: cx + reach, minY: cy - reach, maxY: cy + reach, parts: parts) { x, y in
            let dx = x - cx, dy = y - cy
            let u = (c * dx + s * dy) / a, v = (-s * dx + c * dy) / b
            let q: Double
            if squareness > 1 {
                let u2 = u * u, v2 = v * v
                q = (u2 * u2 + v2 * v2).squareRoot()
            } else {
                q = u * u + v * v
            }
            return density * profile.thickness(q)
        }
    }

    /// Adds a capsule (a cylinder with rounded ends) from `start` to `end`: a long bone when
    /// `profile` is `.bone`, a finger's soft tissue when `.solid`.
    mutating func tube(_ start: PhantomPoint, _ end: PhantomPoint, radius: Double, density: Double,
                       profile: Profile = .bone(inner: 0.72, marrow: 0.45), parts: PhantomMaskParts = []) {
        let (x0, y0) = pixel(start), (x1, y1) = pixel(end)
        let r = max(pixels(radius), 0.5)
        let ex = x1 - x0, ey = y1 - y0
        let lengthSquared = max(ex * ex + ey * ey, 1e-9)
        draw(minX: min(x0, x1) - r - 1, maxX: max(x0, x1) + r + 1,
             minY: min(y0, y1) - r - 1, maxY: max(y0, y1) + r + 1, parts: parts) { x, y in
            let t = min(max(((x - x0) * ex + (y - y0) * ey) / lengthSquared, 0), 1)
            let dx = x - (x0 + t * ex), dy = y - (y0 + t * ey)
            return density * profile.thickness((dx * dx + dy * dy) / (r * r))
        }
    }

    /// Adds a curved tube along a circular arc (a rib), angles in radians, y pointing down.
    mutating func arc(center: PhantomPoint, radius: Double, from startAngle: Double, to endAngle: Double,
                      halfWidth: Double, density: Double, profile: Profile = .bone(inner: 0.6, marrow: 0.5),
                      parts: PhantomMaskParts = []) {
        let (cx, cy) = pixel(center)
        let r = pixels(radius), w = max(pixels(halfWidth), 0.5)
        let low = min(startAngle, endAngle) + poseAngle, high = max(startAngle, endAngle) + poseAngle
        let middle = (low + high) / 2, halfSpan = (high - low) / 2
        let reach = r + w + 1
        draw(minX: cx - reach, maxX: cx + reach, minY: cy - reach, maxY: cy + reach, parts: parts) { x, y in
            let dx = x - cx, dy = y - cy
            let distance = (dx * dx + dy * dy).squareRoot()
            // Most of the bounding box is far from the ring: skip the costly atan2 there.
            guard abs(distance - r) < w else { return 0 }
            var offset = atan2(dy, dx) - middle
            offset -= 2 * Double.pi * (offset / (2 * Double.pi)).rounded()
            guard abs(offset) <= halfSpan else { return 0 }
            let d = (distance - r) / w
            // Taper towards the ends so ribs fade out instead of stopping bluntly.
            let taper = min(1, (halfSpan - abs(offset)) / (0.15 * halfSpan + 1e-9))
            return density * taper * profile.thickness(d * d)
        }
    }

    /// Adds a Gaussian blob (a nodule) of peak `amplitude` and standard deviation `sigma`. Its
    /// mask is the disc within two standard deviations of the centre (where the blob is above
    /// e⁻² ≈ 13.5% of its peak).
    mutating func blob(_ center: PhantomPoint, sigma: Double, amplitude: Double, parts: PhantomMaskParts = []) {
        let (cx, cy) = pixel(center)
        let s = max(pixels(sigma), 0.4)
        let reach = 3.5 * s + 1
        let edge = amplitude * exp(-2)
        draw(minX: cx - reach, maxX: cx + reach, minY: cy - reach, maxY: cy + reach, parts: parts, marks: { $0 >= edge }) { x, y in
            let dx = x - cx, dy = y - cy
            return amplitude * exp(-(dx * dx + dy * dy) / (2 * s * s))
        }
    }

    /// Fills the lower part of an elliptical lung field with fluid (an effusion): below a
    /// level that rises towards the lateral wall (the meniscus), the lung's air deficit
    /// `airDensity` is cancelled and `extraDensity` added.
    mutating func fluid(inLung center: PhantomPoint, radii: (Double, Double), lateralSide: Double,
                        level: Double, meniscus: Double, airDensity: Double, extraDensity: Double) {
        let (cx, cy) = pixel(center)
        let a = pixels(radii.0), b = pixels(radii.1)
        let ramp = max(pixels(0.02), 1)
        let levelPixels = pixel(PhantomPoint(center.x, level)).y
        let c = cos(poseAngle), s = sin(poseAngle)
        let meniscusPixels = pixels(meniscus)
        draw(minX: cx - a - 1, maxX: cx + a + 1, minY: cy - b - 1, maxY: cy + b + 1) { x, y in
            let dx = x - cx, dy = y - cy
            let u = (c * dx + s * dy) / a, v = (-s * dx + c * dy) / b
            let q = u * u + v * v
            guard q < 1 else { return 0 }
            let lateral = max(0, u * lateralSide)
            let surface = levelPixels - meniscusPixels * lateral * lateral
            let fill = min(max((y - surface) / ramp, 0), 1)
            return fill * (airDensity + extraDensity) * (1 - q).squareRoot()
        }
    }

    /// Stamps a bitmap glyph (rows of `#`/`.`) with its top-left corner at a pixel position,
    /// each glyph pixel a `cell`×`cell` block. Lead markers are drawn in pixel space, unposed.
    mutating func glyph(_ rows: [String], x originX: Int, y originY: Int, cell: Int, density: Double, parts: PhantomMaskParts = []) {
        for (row, line) in rows.enumerated() {
            for (column, character) in line.enumerated() where character == "#" {
                for dy in 0..<cell {
                    for dx in 0..<cell {
                        let x = originX + column * cell + dx, y = originY + row * cell + dy
                        guard x >= 0, x < size, y >= 0, y < size else { continue }
                        attenuation[y * size + x] += Float(density)
                        if !parts.isEmpty { labels?[y * size + x] |= parts.rawValue }
                    }
                }
            }
        }
    }

    /// Adds `value(x, y)` at every pixel centre within the box, clipped to the image; when masks
    /// are drawn, sets `parts` on the pixels whose added value `marks` accepts (by default every
    /// pixel the primitive adds to).
    private mutating func draw(minX: Double, maxX: Double, minY: Double, maxY: Double, parts: PhantomMaskParts = [],
                               marks: ((Double) -> Bool)? = nil, _ value: (Double, Double) -> Double) {
        let x0 = max(0, Int(minX.rounded(.down))), x1 = min(size - 1, Int(maxX.rounded(.up)))
        let y0 = max(0, Int(minY.rounded(.down))), y1 = min(size - 1, Int(maxY.rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        let size = size
        // Taken out while drawing, so the two buffers are borrowed independently.
        var labelMap = parts.isEmpty ? nil : labels.take()
        attenuation.withUnsafeMutableBufferPointer { buffer in
            for y in y0...y1 {
                let row = y * size
                for x in x0...x1 {
                    let added = value(Double(x) + 0.5, Double(y) + 0.5)
                    if added != 0 {
                        buffer[row + x] += Float(added)
                        if labelMap != nil, marks?(added) ?? true { labelMap![row + x] |= parts.rawValue }
                    }
                }
            }
        }
        if let labelMap { labels = labelMap }
    }
}
