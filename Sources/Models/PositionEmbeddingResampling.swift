// Bicubic resampling of the position-embedding grid, matching
// `torch.nn.functional.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False,
// antialias=...)` as transformers calls it in `interpolate_pos_encoding`.
//
// Two details decide parity with torch:
// - With `size=` given (current transformers), torch maps output pixel `i` to input
//   coordinate `(i + 0.5) * in/out - 0.5`. With `scale_factor=s` (facebookresearch/dinov2 with
//   `interpolate_offset` > 0, s = (out + offset) / in) it uses `(i + 0.5) / s - 0.5`: the
//   output size is the same, every sample point moves (by up to a third of a cell on small grids).
// - The plain kernel is the cubic convolution with a = -0.75 over 4 taps, indices clamped at
//   the border. The antialiased kernel is a different filter: PIL's bicubic with a = -0.5,
//   stretched by the scale factor when shrinking (support 2 * in/out taps each side), each
//   output's weights normalised to sum to one and taps outside the grid dropped.

/// The taps of one output position: input indices `start..<start + weights.count`.
struct ResamplingTaps: Equatable {
    var start: Int
    var weights: [Float]
}

/// Cubic convolution kernel with parameter `a` (Keys 1981).
@inline(__always)
private func cubicKernel(_ x: Float, a: Float) -> Float {
    let t = abs(x)
    if t < 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
    if t < 2 { return (((t - 5) * t + 8) * t - 4) * a }
    return 0
}

/// The taps mapping `inputCount` samples to `outputCount` along one axis, as torch computes
/// them for bicubic interpolation with `align_corners=False`.
///
/// - Parameter scale: input cells per output cell; nil for an explicit output size
///   (`inputCount / outputCount`), `1 / scale_factor` when torch was given a scale factor.
func bicubicTaps(inputCount: Int, outputCount: Int, antialias: Bool, scale given: Float? = nil) -> [ResamplingTaps] {
    precondition(inputCount > 0 && outputCount > 0)
    let scale = given ?? Float(inputCount) / Float(outputCount)
    if !antialias {
        return (0..<outputCount).map { index in
            let source = scale * (Float(index) + 0.5) - 0.5
            let floorIndex = Int(source.rounded(.down))
            let t = source - Float(floorIndex)
            let kernel = [cubicKernel(t + 1, a: -0.75), cubicKernel(t, a: -0.75),
                          cubicKernel(1 - t, a: -0.75), cubicKernel(2 - t, a: -0.75)]
            // Fold taps that fall outside the grid onto the border sample (index clamping).
            var weights = [Float](repeating: 0, count: inputCount)
            for (offset, weight) in kernel.enumerated() {
                weights[min(max(floorIndex - 1 + offset, 0), inputCount - 1)] += weight
            }
            let first = weights.firstIndex { $0 != 0 } ?? 0
            let last = weights.lastIndex { $0 != 0 } ?? 0
            return ResamplingTaps(start: first, weights: Array(weights[first...last]))
        }
    }
    let support = scale >= 1 ? 2 * scale : 2
    let inverseScale: Float = scale >= 1 ? 1 / scale : 1
    return (0..<outputCount).map { index in
        let centre = scale * (Float(index) + 0.5)
        let start = max(Int(centre - support + 0.5), 0)
        let end = min(Int(centre + support + 0.5), inputCount)
        var weights = (start..<end).map { cubicKernel((Float($0) - centre + 0.5) * inverseScale, a: -0.5) }
        let total = weights.reduce(0, +)
        if total != 0 { weights = weights.map { $0 / total } }
        return ResamplingTaps(start: start, weights: weights)
    }
}

/// Resamples a channels-last grid `[inHeight, inWidth, channels]` to
/// `[outHeight, outWidth, channels]`, separably (rows, then columns).
///
/// - Parameter scales: input cells per output cell along (height, width) when torch was given
///   a scale factor (their reciprocals); nil for an explicit output size.
func resampleBicubic(
    _ input: [Float], height inHeight: Int, width inWidth: Int, channels: Int,
    toHeight outHeight: Int, toWidth outWidth: Int, antialias: Bool, scales: (height: Float, width: Float)? = nil
) -> [Float] {
    precondition(input.count == inHeight * inWidth * channels)
    let columnTaps = bicubicTaps(inputCount: inWidth, outputCount: outWidth, antialias: antialias, scale: scales?.width)
    let rowTaps = bicubicTaps(inputCount: inHeight, outputCount: outHeight, antialias: antialias, scale: scales?.height)
    // Along the width: [inHeight, outWidth, channels].
    var horizontal = [Float](repeating: 0, count: inHeight * outWidth * channels)
    for row in 0..<inHeight {
        for (column, taps) in columnTaps.enumerated() {
            let out = (row * outWidth + column) * channels
            for (offset, weight) in taps.weights.enumerated() {
                let source = (row * inWidth + taps.start + offset) * channels
                for channel in 0..<channels { horizontal[out + channel] += weight * input[source + channel] }
            }
        }
    }
    // Along the height: [outHeight, outWidth, channels].
    var output = [Float](repeating: 0, count: outHeight * outWidth * channels)
    for (row, taps) in rowTaps.enumerated() {
        for column in 0..<outWidth {
            let out = (row * outWidth + column) * channels
            for (offset, weight) in taps.weights.enumerated() {
                let source = ((taps.start + offset) * outWidth + column) * channels
                for channel in 0..<channels { output[out + channel] += weight * horizontal[source + channel] }
            }
        }
    }
    return output
}
