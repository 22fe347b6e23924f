extension Gradients {
    /// ReLU: `output = max(input, 0)`; `input` and `output` may be the same buffer.
    public static func reluForward(_ input: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        for index in 0..<count { output[index] = max(input[index], 0) }
    }

    /// Backward of ReLU from its output (positive exactly where the input was):
    /// `inputGradient = outputGradient · [output > 0]`, the subgradient 0 at 0 as PyTorch.
    /// `outputGradient` and `inputGradient` may be the same buffer.
    public static func reluBackward(
        output: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, count: Int,
        inputGradient: UnsafeMutablePointer<Float>
    ) {
        for index in 0..<count { inputGradient[index] = output[index] > 0 ? outputGradient[index] : 0 }
    }

    /// Fills a dropout mask: each entry is 0 with probability `probability`, otherwise
    /// `1 / (1 − probability)` (inverted dropout, as `torch.nn.Dropout` in training mode).
    ///
    /// - Parameters:
    ///   - uniform: yields uniform numbers in [0, 1); the caller's seeded generator, so masks
    ///     are deterministic.
    public static func fillDropoutMask(
        _ mask: UnsafeMutablePointer<Float>, count: Int, probability: Float, uniform: () -> Float
    ) {
        precondition(probability >= 0 && probability < 1, "dropout probability must lie in [0, 1)")
        let keptScale = 1 / (1 - probability)
        for index in 0..<count { mask[index] = uniform() < probability ? 0 : keptScale }
    }

    /// Dropout forward with a given mask: `output = input · mask` (may be in place).
    public static func dropoutForward(
        _ input: UnsafePointer<Float>, mask: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>
    ) {
        for index in 0..<count { output[index] = input[index] * mask[index] }
    }

    /// Dropout backward: `inputGradient = outputGradient · mask` (may be in place).
    public static func dropoutBackward(
        outputGradient: UnsafePointer<Float>, mask: UnsafePointer<Float>, count: Int,
        inputGradient: UnsafeMutablePointer<Float>
    ) {
        for index in 0..<count { inputGradient[index] = outputGradient[index] * mask[index] }
    }
}
