import Foundation

/// A spatial transform of an image and its masks, as a map from each output pixel to where it
/// samples the input, in normalised coordinates (−1 … 1 across the image, pixel centres at
/// `(2i + 1) / n − 1`: PyTorch's `affine_grid` / `grid_sample` with `align_corners=False`), so one
/// transform moves an image and masks of another resolution alike.
///
/// source = A · output + t, then plus an elastic displacement bilinearly interpolated from a
/// coarse control grid (when present).
public struct SpatialTransform: Sendable, Equatable {
    /// Row-major 2×3 matrix `[a, b, tx, c, d, ty]`: x' = a·x + b·y + tx, y' = c·x + d·y + ty.
    public var theta: [Double]
    /// Displacements `[rows, columns, 2]` (x, y, normalised units) at control points spread evenly
    /// from −1 to 1 in each direction; empty for none.
    public var controlDisplacements: [Double]
    public var controlRows: Int
    public var controlColumns: Int

    /// The identity.
    public static let identity = SpatialTransform(theta: [1, 0, 0, 0, 1, 0])

    /// Creates a transform.
    public init(theta: [Double], controlDisplacements: [Double] = [], controlRows: Int = 0, controlColumns: Int = 0) {
        precondition(theta.count == 6, "theta is 2×3")
        precondition(controlDisplacements.count == controlRows * controlColumns * 2, "two displacements per control point")
        self.theta = theta
        self.controlDisplacements = controlDisplacements
        self.controlRows = controlRows
        self.controlColumns = controlColumns
    }

    /// The inverse map of "scale by `scale`, rotate by `rotation` (radians, counter-clockwise on
    /// screen), then translate by (`translateX`, `translateY`) pixels of an image `size` pixels
    /// wide", about the image centre (MONAI's and torchvision's affine). Shear in x by `shear`.
    public static func affine(rotation: Double, scale: Double, translateX: Double, translateY: Double, shear: Double = 0,
                              size: Int) -> SpatialTransform {
        // Forward: p' = T + R · Sh · s · p. Inverse: p = (R · Sh · s)⁻¹ (p' − T).
        let cosine = cos(rotation), sine = sin(rotation)
        // M = R · Sh · s, with Sh = [[1, shear], [0, 1]].
        let m = [scale * cosine, scale * (cosine * shear - sine), scale * sine, scale * (sine * shear + cosine)]
        let determinant = m[0] * m[3] - m[1] * m[2]
        let inverse = [m[3] / determinant, -m[1] / determinant, -m[2] / determinant, m[0] / determinant]
        let tx = 2 * translateX / Double(size), ty = 2 * translateY / Double(size)
        return SpatialTransform(theta: [inverse[0], inverse[1], -(inverse[0] * tx + inverse[1] * ty),
                                        inverse[2], inverse[3], -(inverse[2] * tx + inverse[3] * ty)])
    }

    /// Where output pixel (`row`, `column`) of an `height × width` map samples, in input pixels.
    @inline(__always)
    func source(row: Int, column: Int, height: Int, width: Int) -> (x: Double, y: Double) {
        let x = (2 * Double(column) + 1) / Double(width) - 1, y = (2 * Double(row) + 1) / Double(height) - 1
        var sx = theta[0] * x + theta[1] * y + theta[2], sy = theta[3] * x + theta[4] * y + theta[5]
        if !controlDisplacements.isEmpty {
            let (dx, dy) = displacement(x: x, y: y)
            sx += dx
            sy += dy
        }
        return (((sx + 1) * Double(width) - 1) / 2, ((sy + 1) * Double(height) - 1) / 2)
    }

    private func displacement(x: Double, y: Double) -> (Double, Double) {
        let gx = (x + 1) / 2 * Double(controlColumns - 1), gy = (y + 1) / 2 * Double(controlRows - 1)
        let x0 = max(0, min(controlColumns - 2, Int(gx.rounded(.down)))), y0 = max(0, min(controlRows - 2, Int(gy.rounded(.down))))
        let fx = gx - Double(x0), fy = gy - Double(y0)
        func at(_ r: Int, _ c: Int, _ k: Int) -> Double { controlDisplacements[(r * controlColumns + c) * 2 + k] }
        func blend(_ k: Int) -> Double {
            (1 - fy) * ((1 - fx) * at(y0, x0, k) + fx * at(y0, x0 + 1, k)) + fy * ((1 - fx) * at(y0 + 1, x0, k) + fx * at(y0 + 1, x0 + 1, k))
        }
        return (blend(0), blend(1))
    }

    /// Resamples `planes` planes of `height × width` (row-major, plane after plane) through the
    /// transform; outside the input reads 0.
    /// - Parameter nearest: nearest neighbour (round half to even, as `grid_sample`) for masks;
    ///   bilinear otherwise.
    public func resample(_ values: [Float], planes: Int, height: Int, width: Int, nearest: Bool) -> [Float] {
        precondition(values.count == planes * height * width, "values hold planes × height × width")
        var output = [Float](repeating: 0, count: values.count)
        let size = height * width
        for row in 0..<height {
            for column in 0..<width {
                let (x, y) = source(row: row, column: column, height: height, width: width)
                let pixel = row * width + column
                if nearest {
                    let c = Int(x.rounded(.toNearestOrEven)), r = Int(y.rounded(.toNearestOrEven))
                    guard r >= 0, r < height, c >= 0, c < width else { continue }
                    for plane in 0..<planes { output[plane * size + pixel] = values[plane * size + r * width + c] }
                } else {
                    let x0 = Int(x.rounded(.down)), y0 = Int(y.rounded(.down))
                    let fx = Float(x - Double(x0)), fy = Float(y - Double(y0))
                    let weights = [(y0, x0, (1 - fy) * (1 - fx)), (y0, x0 + 1, (1 - fy) * fx), (y0 + 1, x0, fy * (1 - fx)), (y0 + 1, x0 + 1, fy * fx)]
                    for plane in 0..<planes {
                        var sum: Float = 0
                        for (r, c, weight) in weights where r >= 0 && r < height && c >= 0 && c < width {
                            sum += weight * values[plane * size + r * width + c]
                        }
                        output[plane * size + pixel] = sum
                    }
                }
            }
        }
        return output
    }
}

/// The paper's training augmentations (§2.3.3), drawn per image and applied to an image in
/// [0, 1] and its masks alike:
/// - random affine, p = 0.5: translation up to 40 px, rotation up to π/36, scale 1 ± 0.15;
/// - elastic, p = 0.1: control points every 200 px displaced by N(0, 1)·m, m ∈ U(0, 2) px, plus an
///   affine (rotation π/72, shear 0.1, translation 10 px, scale 1 ± U(0.05, 0.15)); the paper uses
///   MONAI's `Rand2DElastic`, which interpolates its control grid with B-splines, here bilinearly;
/// - gamma, p = 0.1: x^γ with γ ∈ U(0.9, 1.2);
/// - Gaussian noise, p = 0.1: + N(0, 0.05²).
/// Pixel lengths are at `referenceSize` (518, the paper's input) and scale with the image.
public struct SegmentationAugmentation: Sendable, Equatable {
    // Probabilities, ranges and pixel lengths (at `referenceSize`) of each part, as listed above.
    public var affineProbability = 0.5, translate = 40.0, rotate = Double.pi / 36, scale = 0.15
    public var elasticProbability = 0.1, elasticSpacing = 200.0, elasticMagnitude = 2.0
    public var elasticRotate = Double.pi / 72, elasticShear = 0.1, elasticTranslate = 10.0, elasticScale = (0.05, 0.15)
    public var gammaProbability = 0.1, gammaRange = (0.9, 1.2)
    public var noiseProbability = 0.1, noiseStandardDeviation = 0.05
    public var referenceSize = 518.0

    /// The paper's settings.
    public init() {}

    public static func == (left: SegmentationAugmentation, right: SegmentationAugmentation) -> Bool {
        left.affineProbability == right.affineProbability && left.translate == right.translate && left.rotate == right.rotate
            && left.scale == right.scale && left.elasticProbability == right.elasticProbability && left.gammaProbability == right.gammaProbability
            && left.noiseProbability == right.noiseProbability && left.referenceSize == right.referenceSize
    }

    /// What one draw does to one image.
    public struct Draw: Sendable {
        /// Spatial transforms in order (affine, elastic), possibly none.
        public var transforms: [SpatialTransform] = []
        /// γ, when drawn.
        public var gamma: Double?
        /// Noise standard deviation and the seed of its values, when drawn.
        public var noise: (standardDeviation: Double, seed: UInt64)?
    }

    /// Draws the augmentations of one image `size` pixels wide.
    public func draw(size: Int, using generator: inout some RandomNumberGenerator) -> Draw {
        var draw = Draw()
        let pixels = Double(size) / referenceSize
        func uniform(_ low: Double, _ high: Double) -> Double { Double.random(in: low...high, using: &generator) }
        if uniform(0, 1) < affineProbability {
            draw.transforms.append(.affine(rotation: uniform(-rotate, rotate), scale: 1 + uniform(-scale, scale),
                                           translateX: uniform(-translate, translate) * pixels,
                                           translateY: uniform(-translate, translate) * pixels, size: size))
        }
        if uniform(0, 1) < elasticProbability {
            let points = max(2, Int((referenceSize / elasticSpacing).rounded(.up)) + 1)
            let magnitude = uniform(0, elasticMagnitude)
            var offsets: [Double] = []
            for _ in 0..<(points * points * 2) { offsets.append(2 * gaussian(&generator) * magnitude / referenceSize) }
            let sign = uniform(0, 1) < 0.5 ? -1.0 : 1.0
            var elastic = SpatialTransform.affine(rotation: uniform(-elasticRotate, elasticRotate),
                                                  scale: 1 + sign * uniform(elasticScale.0, elasticScale.1),
                                                  translateX: uniform(-elasticTranslate, elasticTranslate) * pixels,
                                                  translateY: uniform(-elasticTranslate, elasticTranslate) * pixels,
                                                  shear: uniform(-elasticShear, elasticShear), size: size)
            elastic.controlDisplacements = offsets
            elastic.controlRows = points
            elastic.controlColumns = points
            draw.transforms.append(elastic)
        }
        if uniform(0, 1) < gammaProbability { draw.gamma = uniform(gammaRange.0, gammaRange.1) }
        if uniform(0, 1) < noiseProbability { draw.noise = (noiseStandardDeviation, generator.next()) }
        return draw
    }

    /// Applies a draw to an image (`[channels, size, size]` in [0, 1]) and its masks
    /// (`[classes, maskSize, maskSize]` of 0/1): the spatial transforms to both (bilinear and
    /// nearest), then gamma (on values clamped to [0, 1]) and noise to the image.
    public static func apply(_ draw: Draw, image: [Float], channels: Int, size: Int,
                             masks: [Float], classes: Int, maskSize: Int) -> (image: [Float], masks: [Float]) {
        var image = image, masks = masks
        for transform in draw.transforms {
            image = transform.resample(image, planes: channels, height: size, width: size, nearest: false)
            masks = transform.resample(masks, planes: classes, height: maskSize, width: maskSize, nearest: true)
        }
        if let gamma = draw.gamma { image = adjustGamma(image, gamma: gamma) }
        if let noise = draw.noise {
            var generator = SplitMix(state: noise.seed)
            for index in image.indices { image[index] += Float(gaussian(&generator) * noise.standardDeviation) }
        }
        return (image, masks)
    }

    /// x^γ of values clamped to [0, 1].
    public static func adjustGamma(_ values: [Float], gamma: Double) -> [Float] {
        values.map { Float(pow(Double(max(0, min(1, $0))), gamma)) }
    }
}

/// A standard normal draw (Box–Muller).
func gaussian(_ generator: inout some RandomNumberGenerator) -> Double {
    let u = Double.random(in: Double.ulpOfOne..<1, using: &generator), v = Double.random(in: 0..<1, using: &generator)
    return sqrt(-2 * log(u)) * cos(2 * Double.pi * v)
}

/// SplitMix64, for the noise of one draw.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
