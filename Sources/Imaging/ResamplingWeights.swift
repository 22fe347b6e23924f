/// Precomputed one-dimensional bilinear resampling weights, computed as PyTorch's CPU kernel
/// computes them for `F.interpolate(mode="bilinear", align_corners=False)` on float input, so
/// the separable passes reproduce torch to float rounding.
///
/// With antialiasing (torch's `_upsample_bilinear2d_aa`): when shrinking by `scale =
/// input / output`, the triangle filter is stretched to a support of `scale` input pixels on
/// each side of the output pixel's centre and its weights are normalised to sum to 1; when
/// enlarging, the support is one pixel and the weights equal plain bilinear ones, which is why
/// antialiasing changes nothing for upsampling. Without antialiasing, the two neighbours of
/// the source position `(i + 0.5) * scale - 0.5` (clamped at 0) share the weight linearly.
///
/// Arithmetic mirrors torch's types: the scale and the weights are `Float`, a few
/// intermediate terms are `Double` where C++ promotion makes them so.
struct ResamplingWeights: Sendable, Hashable {
    /// Input pixels along the axis.
    let inputSize: Int
    /// Output pixels along the axis.
    let outputSize: Int
    /// Weight slots per output pixel (torch's `max_interp_size`).
    let stride: Int
    /// First input index for each output pixel.
    let starts: [Int]
    /// Number of input pixels (taps) for each output pixel.
    let counts: [Int]
    /// `outputSize * stride` weights; output `i` uses `weights[i * stride ..< i * stride + counts[i]]`.
    let weights: [Float]

    /// Computes the weights for resizing `inputSize` pixels to `outputSize`.
    init(inputSize: Int, outputSize: Int, antialias: Bool) {
        precondition(inputSize > 0 && outputSize > 0, "sizes must be positive: \(inputSize) -> \(outputSize)")
        self.inputSize = inputSize
        self.outputSize = outputSize
        let scale = Float(inputSize) / Float(outputSize)
        if inputSize == outputSize {
            // torch skips an axis whose size does not change: an exact copy.
            stride = 1
            starts = Array(0..<outputSize)
            counts = Array(repeating: 1, count: outputSize)
            weights = Array(repeating: 1, count: outputSize)
        } else if antialias {
            (stride, starts, counts, weights) = Self.antialiased(inputSize: inputSize, outputSize: outputSize, scale: scale)
        } else {
            (stride, starts, counts, weights) = Self.bilinear(inputSize: inputSize, outputSize: outputSize, scale: scale)
        }
    }

    private static func triangle(_ x: Float) -> Float {
        let distance = abs(x)
        return distance < 1 ? 1 - distance : 0
    }

    private static func antialiased(inputSize: Int, outputSize: Int, scale: Float)
        -> (Int, [Int], [Int], [Float]) {
        let support: Float = scale >= 1 ? scale : 1
        let inverseScale: Float = scale >= 1 ? Float(1.0 / Double(scale)) : 1
        let stride = Int(Double(support).rounded(.up)) * 2 + 1
        var starts = [Int](repeating: 0, count: outputSize)
        var counts = [Int](repeating: 0, count: outputSize)
        var weights = [Float](repeating: 0, count: outputSize * stride)
        for output in 0..<outputSize {
            let centre = Float(Double(scale) * (Double(output) + 0.5))
            // C++ `static_cast<int64_t>` truncates toward zero, as `Int(_: Double)` does.
            let start = max(Int(Double(centre - support) + 0.5), 0)
            let end = min(Int(Double(centre + support) + 0.5), inputSize)
            let count = min(max(end - start, 0), stride)
            var total: Float = 0
            for tap in 0..<count {
                let offset = Double(Float(tap + start) - centre) + 0.5
                let weight = triangle(Float(offset * Double(inverseScale)))
                weights[output * stride + tap] = weight
                total += weight
            }
            if total != 0 {
                for tap in 0..<count { weights[output * stride + tap] /= total }
            }
            starts[output] = start
            counts[output] = count
        }
        return (stride, starts, counts, weights)
    }

    private static func bilinear(inputSize: Int, outputSize: Int, scale: Float)
        -> (Int, [Int], [Int], [Float]) {
        var starts = [Int](repeating: 0, count: outputSize)
        var counts = [Int](repeating: 0, count: outputSize)
        var weights = [Float](repeating: 0, count: outputSize * 2)
        for output in 0..<outputSize {
            let source = max(scale * (Float(output) + 0.5) - 0.5, 0)
            let index = min(Int(source.rounded(.down)), inputSize - 1)
            let lambda = min(max(source - Float(index), 0), 1)
            starts[output] = index
            if index < inputSize - 1 {
                counts[output] = 2
                weights[output * 2] = 1 - lambda
                weights[output * 2 + 1] = lambda
            } else {
                // Both neighbours are the last pixel.
                counts[output] = 1
                weights[output * 2] = (1 - lambda) + lambda
            }
        }
        return (2, starts, counts, weights)
    }

    /// The same weights restricted to the input pixels `offset ..< offset + length`, with
    /// indices relative to `offset`: taps on zero padding outside that range are dropped,
    /// which leaves every sum unchanged because they would only add exact zeros.
    func clipped(toSourceAt offset: Int, length: Int) -> ResamplingWeights {
        var clippedStarts = [Int](repeating: 0, count: outputSize)
        var clippedCounts = [Int](repeating: 0, count: outputSize)
        var clippedWeights = [Float](repeating: 0, count: outputSize * stride)
        for output in 0..<outputSize {
            let first = max(starts[output], offset)
            let last = min(starts[output] + counts[output], offset + length)
            let count = max(last - first, 0)
            clippedStarts[output] = count > 0 ? first - offset : 0
            clippedCounts[output] = count
            for tap in 0..<count {
                clippedWeights[output * stride + tap] = weights[output * stride + first - starts[output] + tap]
            }
        }
        return ResamplingWeights(inputSize: length, outputSize: outputSize, stride: stride,
                                 starts: clippedStarts, counts: clippedCounts, weights: clippedWeights)
    }

    private init(inputSize: Int, outputSize: Int, stride: Int, starts: [Int], counts: [Int], weights: [Float]) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.stride = stride
        self.starts = starts
        self.counts = counts
        self.weights = weights
    }
}
