// Group normalisation over NHWC maps, as `torch.nn.GroupNorm(G, C, eps)`: per image and group of
// C/G consecutive channels, statistics over the group's channels and all pixels. No decoder in
// xrbench uses it yet (mmsegmentation's UPerNet uses batch norm); it is here for decoders that
// train with small batches, where batch statistics are noisy. Sums run in Double, one image per
// task, so results do not depend on the thread count.

/// `torch.nn.GroupNorm(groups, C, eps)` with affine parameters, on NHWC maps.
public enum GroupNormalization {
    /// Forward: `y = (x − mean_g)/√(var_g + ε)·γ_c + β_c` with the biased variance.
    /// - Parameters:
    ///   - input, output: `[B, H, W, C]` (any borders and strides; output must not overlap input).
    ///   - groups: must divide C.
    ///   - weight, bias: γ and β, `[C]`.
    ///   - savedMean, savedInverseDeviation: `[B, groups]`, receive each group's statistics.
    public static func forward(
        input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout, groups: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float = 1e-5,
        savedMean: UnsafeMutablePointer<Float>, savedInverseDeviation: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout, team: WorkerTeam? = nil
    ) {
        let channels = inputLayout.channels
        precondition(groups > 0 && channels % groups == 0, "\(groups) groups do not divide \(channels) channels")
        precondition(outputLayout.height == inputLayout.height && outputLayout.width == inputLayout.width
                     && outputLayout.channels == channels && outputLayout.batch == inputLayout.batch,
                     "group norm output \(outputLayout) for input \(inputLayout)")
        let groupSize = channels / groups
        let count = Double(groupSize * inputLayout.height * inputLayout.width)
        Parallel.forEachTask(count: inputLayout.batch, on: team) { image in
            var sums = [Double](repeating: 0, count: groups)
            forEachPixel(inputLayout, image: image) { pixel in
                for channel in 0..<channels { sums[channel / groupSize] += Double(input[pixel + channel]) }
            }
            let means = sums.map { $0 / count }
            var squares = [Double](repeating: 0, count: groups)
            forEachPixel(inputLayout, image: image) { pixel in
                for channel in 0..<channels {
                    let centered = Double(input[pixel + channel]) - means[channel / groupSize]
                    squares[channel / groupSize] += centered * centered
                }
            }
            for group in 0..<groups {
                savedMean[image * groups + group] = Float(means[group])
                savedInverseDeviation[image * groups + group] = Float(1 / (squares[group] / count + Double(epsilon)).squareRoot())
            }
            for y in 0..<inputLayout.height {
                for x in 0..<inputLayout.width {
                    let source = input + inputLayout.offset(image: image, y: y, x: x)
                    let target = output + outputLayout.offset(image: image, y: y, x: x)
                    for channel in 0..<channels {
                        let group = image * groups + channel / groupSize
                        target[channel] = (source[channel] - savedMean[group]) * savedInverseDeviation[group] * weight[channel] + bias[channel]
                    }
                }
            }
        }
    }

    /// Backward: `weightGradient += ∂L/∂γ`, `biasGradient += ∂L/∂β`, `inputGradient (+)= ∂L/∂x`:
    ///
    ///     d = ∂L/∂y·γ_c;  ∂L/∂x = (1/σ_g)·(d − mean_g(d) − x̂·mean_g(d·x̂))
    ///
    /// - Parameters:
    ///   - savedMean, savedInverseDeviation: from the forward.
    ///   - inputGradient: nil when the input needs no gradient.
    public static func backward(
        outputGradient: UnsafePointer<Float>, _ gradientLayout: FeatureMapLayout,
        input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout, groups: Int,
        savedMean: UnsafePointer<Float>, savedInverseDeviation: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, _ inputGradientLayout: FeatureMapLayout? = nil, accumulate: Bool = false,
        weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>, team: WorkerTeam? = nil
    ) {
        let channels = inputLayout.channels, groupSize = channels / groups, batch = inputLayout.batch
        precondition(groups > 0 && channels % groups == 0, "\(groups) groups do not divide \(channels) channels")
        let count = Double(groupSize * inputLayout.height * inputLayout.width)
        // Per image: Σ dy·x̂ and Σ dy per channel (for γ and β), added in image order afterwards.
        var partials = [Double](repeating: 0, count: batch * 2 * channels)
        partials.withUnsafeMutableBufferPointer { partials in
            let partials = partials.baseAddress!
            Parallel.forEachTask(count: batch, on: team) { image in
                let partial = partials + image * 2 * channels
                var groupSums = [Double](repeating: 0, count: 2 * groups)  // Σ d, Σ d·x̂ per group
                for y in 0..<inputLayout.height {
                    for x in 0..<inputLayout.width {
                        let source = input + inputLayout.offset(image: image, y: y, x: x)
                        let gradient = outputGradient + gradientLayout.offset(image: image, y: y, x: x)
                        for channel in 0..<channels {
                            let group = image * groups + channel / groupSize
                            let normalized = Double((source[channel] - savedMean[group]) * savedInverseDeviation[group])
                            let g = Double(gradient[channel])
                            partial[channel] += g * normalized
                            partial[channels + channel] += g
                            let d = g * Double(weight[channel])
                            groupSums[2 * (channel / groupSize)] += d
                            groupSums[2 * (channel / groupSize) + 1] += d * normalized
                        }
                    }
                }
                guard let inputGradient else { return }
                let targetLayout = inputGradientLayout ?? inputLayout
                for y in 0..<inputLayout.height {
                    for x in 0..<inputLayout.width {
                        let source = input + inputLayout.offset(image: image, y: y, x: x)
                        let gradient = outputGradient + gradientLayout.offset(image: image, y: y, x: x)
                        let target = inputGradient + targetLayout.offset(image: image, y: y, x: x)
                        for channel in 0..<channels {
                            let local = channel / groupSize, group = image * groups + local
                            let inverse = Double(savedInverseDeviation[group])
                            let normalized = Double((source[channel] - savedMean[group]) * savedInverseDeviation[group])
                            let d = Double(gradient[channel]) * Double(weight[channel])
                            let value = Float(inverse * (d - groupSums[2 * local] / count - normalized * groupSums[2 * local + 1] / count))
                            target[channel] = accumulate ? target[channel] + value : value
                        }
                    }
                }
            }
        }
        for image in 0..<batch {
            for channel in 0..<channels {
                weightGradient[channel] += Float(partials[image * 2 * channels + channel])
                biasGradient[channel] += Float(partials[image * 2 * channels + channels + channel])
            }
        }
    }

    /// Calls `body(offset)` with the offset of every interior pixel of one image.
    @inline(__always)
    private static func forEachPixel(_ layout: FeatureMapLayout, image: Int, _ body: (Int) -> Void) {
        for y in 0..<layout.height {
            for x in 0..<layout.width { body(layout.offset(image: image, y: y, x: x)) }
        }
    }
}
