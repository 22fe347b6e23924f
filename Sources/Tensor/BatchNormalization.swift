// Batch normalisation over the pixels of an NHWC map (per channel, statistics over batch × height
// × width), as `torch.nn.BatchNorm2d`, optionally followed by ReLU (mmsegmentation's ConvModule
// is conv → BN → ReLU). Backward recomputes x̂ (and the ReLU mask) from the saved input, mean and
// inverse deviation, so nothing else needs keeping.
//
// Reductions run over a fixed number of row blocks: each block sums its rows (each row in Float,
// rows in Double) into a partial of its own, and the partials are added in block order, so the
// statistics do not depend on the thread count.

/// `torch.nn.BatchNorm2d(C, eps, momentum)` on NHWC maps, with optional fused ReLU.
public enum BatchNormalization {
    /// Row blocks of the reductions; fixed so that sums do not depend on the thread count.
    static let reductionBlocks = 32

    /// Training-mode forward: normalises with the batch's mean and biased variance, updates the
    /// running statistics (unbiased variance, as PyTorch), and saves what backward needs.
    ///
    /// `output = γ·(x − mean)/√(var + ε) + β`, then `max(·, 0)` when `relu`.
    /// - Parameters:
    ///   - input, output: `[B, H, W, C]` maps (the output may have another border or stride, and
    ///     must not overlap the input).
    ///   - weight, bias: γ and β, `[C]`.
    ///   - runningMean, runningVariance: `[C]`, updated as `(1 − momentum)·old + momentum·batch`;
    ///     nil to leave alone.
    ///   - savedMean, savedInverseDeviation: `[C]`, receive the batch mean and `1/√(var + ε)`.
    /// - Precondition: more than one value per channel (as PyTorch requires in training).
    public static func forwardTraining(
        input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float = 1e-5, momentum: Float = 0.1,
        runningMean: UnsafeMutablePointer<Float>?, runningVariance: UnsafeMutablePointer<Float>?,
        savedMean: UnsafeMutablePointer<Float>, savedInverseDeviation: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout, relu: Bool = false,
        team: WorkerTeam? = nil
    ) {
        let channels = inputLayout.channels, count = inputLayout.pixelCount
        precondition(count > 1, "batch norm in training needs more than one value per channel, got \(inputLayout)")
        let sums = channelSums(inputLayout, team: team) { image, y, accumulator in
            let row = input + inputLayout.offset(image: image, y: y, x: 0)
            for x in 0..<inputLayout.width { addPixel(accumulator, row + x * inputLayout.pixelStride, channels) }
        }
        for channel in 0..<channels { savedMean[channel] = Float(sums[channel] / Double(count)) }
        let squares = channelSums(inputLayout, team: team) { image, y, accumulator in
            let row = input + inputLayout.offset(image: image, y: y, x: 0)
            for x in 0..<inputLayout.width {
                addCenteredSquares(accumulator, row + x * inputLayout.pixelStride, savedMean, channels)
            }
        }
        for channel in 0..<channels {
            let variance = squares[channel] / Double(count)
            savedInverseDeviation[channel] = Float(1 / (variance + Double(epsilon)).squareRoot())
            if let runningMean, let runningVariance {
                let unbiased = squares[channel] / Double(count - 1)
                runningMean[channel] = (1 - momentum) * runningMean[channel] + momentum * savedMean[channel]
                runningVariance[channel] = (1 - momentum) * runningVariance[channel] + momentum * Float(unbiased)
            }
        }
        normalize(input, inputLayout, mean: savedMean, inverseDeviation: savedInverseDeviation, weight: weight, bias: bias,
                  output: output, outputLayout, relu: relu, team: team)
    }

    /// Evaluation-mode forward with the running statistics.
    public static func forwardInference(
        input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float = 1e-5,
        runningMean: UnsafePointer<Float>, runningVariance: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout, relu: Bool = false,
        team: WorkerTeam? = nil
    ) {
        let channels = inputLayout.channels
        var inverse = [Float](repeating: 0, count: channels)
        for channel in 0..<channels { inverse[channel] = 1 / (runningVariance[channel] + epsilon).squareRoot() }
        inverse.withUnsafeBufferPointer { inverse in
            normalize(input, inputLayout, mean: runningMean, inverseDeviation: inverse.baseAddress!, weight: weight,
                      bias: bias, output: output, outputLayout, relu: relu, team: team)
        }
    }

    /// Gradients of a training-mode forward: `weightGradient += ∂L/∂γ`, `biasGradient += ∂L/∂β`,
    /// and `inputGradient (+)= ∂L/∂x`:
    ///
    ///     g = ∂L/∂y · [γ·x̂ + β > 0 when relu]
    ///     ∂L/∂x = γ/σ · (g − mean(g) − x̂·mean(g·x̂)),   ∂L/∂γ = Σ g·x̂,   ∂L/∂β = Σ g
    ///
    /// - Parameters:
    ///   - outputGradient: `∂L/∂output`, `[B, H, W, C]`.
    ///   - input: the forward's input; `savedMean`/`savedInverseDeviation` from the forward.
    ///   - inputGradient: nil when the input needs no gradient (frozen features).
    ///   - accumulate: add to the input gradient instead of overwriting it.
    public static func backward(
        outputGradient: UnsafePointer<Float>, _ gradientLayout: FeatureMapLayout,
        input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
        savedMean: UnsafePointer<Float>, savedInverseDeviation: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, relu: Bool = false,
        inputGradient: UnsafeMutablePointer<Float>?, _ inputGradientLayout: FeatureMapLayout? = nil, accumulate: Bool = false,
        weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>,
        team: WorkerTeam? = nil
    ) {
        let channels = inputLayout.channels, count = inputLayout.pixelCount
        precondition(gradientLayout.height == inputLayout.height && gradientLayout.width == inputLayout.width
                     && gradientLayout.channels == channels, "output gradient \(gradientLayout) for input \(inputLayout)")
        let terms = Terms(mean: savedMean, inverseDeviation: savedInverseDeviation, weight: weight, bias: bias, channels: channels)
        // Per channel Σ g and Σ g·x̂, side by side in one accumulator of 2C.
        let sums = channelSums(inputLayout, width: 2 * channels, team: team) { image, y, accumulator in
            let inputRow = input + inputLayout.offset(image: image, y: y, x: 0)
            let gradientRow = outputGradient + gradientLayout.offset(image: image, y: y, x: 0)
            for x in 0..<inputLayout.width {
                addGradientSums(accumulator, inputRow + x * inputLayout.pixelStride,
                                gradientRow + x * gradientLayout.pixelStride, terms, relu: relu, channels)
            }
        }
        for channel in 0..<channels {
            biasGradient[channel] += Float(sums[channel])
            weightGradient[channel] += Float(sums[channels + channel])
            terms.meanGradient[channel] = Float(sums[channel] / Double(count))
            terms.meanProduct[channel] = Float(sums[channels + channel] / Double(count))
        }
        guard let inputGradient else { return }
        let targetLayout = inputGradientLayout ?? inputLayout
        precondition(targetLayout.height == inputLayout.height && targetLayout.width == inputLayout.width
                     && targetLayout.channels == channels, "input gradient \(targetLayout) for input \(inputLayout)")
        let rows = inputLayout.batch * inputLayout.height
        Parallel.forEachChunk(count: rows, minimumChunk: max(1, 8192 / max(1, inputLayout.width * channels)), on: team) { range in
            for rowIndex in range {
                let image = rowIndex / inputLayout.height, y = rowIndex % inputLayout.height
                let inputRow = input + inputLayout.offset(image: image, y: y, x: 0)
                let gradientRow = outputGradient + gradientLayout.offset(image: image, y: y, x: 0)
                let targetRow = inputGradient + targetLayout.offset(image: image, y: y, x: 0)
                for x in 0..<inputLayout.width {
                    inputGradientPixel(targetRow + x * targetLayout.pixelStride, inputRow + x * inputLayout.pixelStride,
                                       gradientRow + x * gradientLayout.pixelStride, terms, relu: relu,
                                       accumulate: accumulate, channels)
                }
            }
        }
    }
}
