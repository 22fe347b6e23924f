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
        // Eight lanes at a time: the scalar select does not vectorise on its own.
        typealias Vector = SIMD8<Float>
        let blocks = count / 8
        for block in 0..<blocks {
            let offset = block * 8
            let activation = UnsafeRawPointer(output + offset).loadUnaligned(as: Vector.self)
            let gradient = UnsafeRawPointer(outputGradient + offset).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(inputGradient + offset)
                .storeBytes(of: Vector(repeating: 0).replacing(with: gradient, where: activation .> 0), as: Vector.self)
        }
        for index in (blocks * 8)..<count { inputGradient[index] = output[index] > 0 ? outputGradient[index] : 0 }
    }

    /// Fills a dropout mask: each entry is 0 with probability `probability`, otherwise
    /// `1 / (1 − probability)` (inverted dropout, as `torch.nn.Dropout` in training mode).
    ///
    /// Each 64-bit draw of `generator` decides two entries (32 bits each, dropped when below
    /// `probability · 2³²`), so masks are deterministic for a seeded generator.
    public static func fillDropoutMask<Generator: RandomNumberGenerator>(
        _ mask: UnsafeMutablePointer<Float>, count: Int, probability: Float, using generator: inout Generator
    ) {
        precondition(probability >= 0 && probability < 1, "dropout probability must lie in [0, 1)")
        let keptScale = 1 / (1 - probability)
        let threshold = UInt64((Double(probability) * 4_294_967_296).rounded(.down))
        var index = 0
        while index < count {
            let bits = generator.next()
            mask[index] = (bits & 0xFFFF_FFFF) < threshold ? 0 : keptScale
            if index + 1 < count { mask[index + 1] = (bits >> 32) < threshold ? 0 : keptScale }
            index += 2
        }
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
