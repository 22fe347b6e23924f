// Forward and backward passes for training small heads on precomputed features (the probe),
// each backward written next to its forward, on raw row-major buffers so a training step
// allocates nothing. Gradient checks: Tests/EvaluationTests/GradientCheckTests.swift.

/// Forward/backward pairs of the ops a probe head trains with: linear, ReLU, dropout,
/// BCE-with-logits and softmax cross-entropy.
///
/// All buffers are row-major and caller-owned; weights are in PyTorch order `[out, in]`.
public enum Gradients {
    /// Fully connected layer: `output[rows, out] = input[rows, in] · weightᵀ + bias`.
    ///
    /// - Parameters:
    ///   - input: `[rows, inFeatures]`.
    ///   - weight: `[outFeatures, inFeatures]`.
    ///   - bias: `[outFeatures]`, or nil.
    ///   - output: `[rows, outFeatures]`, overwritten.
    /// - Complexity: one GEMM, O(rows · in · out).
    public static func linearForward(
        input: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outFeatures: Int,
        output: UnsafeMutablePointer<Float>
    ) {
        var beta: Float = 0
        if let bias {
            // Seed rows with the bias and let the GEMM accumulate onto it.
            for row in 0..<rows { (output + row * outFeatures).update(from: bias, count: outFeatures) }
            beta = 1
        }
        BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures,
                   alpha: 1, a: input, leadingA: inFeatures, b: weight, leadingB: inFeatures,
                   beta: beta, c: output, leadingC: outFeatures)
    }

    /// Backward of `linearForward`: from `outputGradient = ∂L/∂output` computes
    /// `∂L/∂weight = outputGradientᵀ · input`, `∂L/∂bias = Σ_rows outputGradient` and
    /// `∂L/∂input = outputGradient · weight`.
    ///
    /// - Parameters:
    ///   - outputGradient: `[rows, outFeatures]`.
    ///   - weightGradient: `[outFeatures, inFeatures]`, overwritten.
    ///   - biasGradient: `[outFeatures]`, overwritten, or nil when the layer has no bias.
    ///   - inputGradient: `[rows, inFeatures]`, overwritten, or nil when not needed (first layer).
    /// - Complexity: two GEMMs (one without `inputGradient`).
    public static func linearBackward(
        input: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        weight: UnsafePointer<Float>, outFeatures: Int,
        outputGradient: UnsafePointer<Float>,
        weightGradient: UnsafeMutablePointer<Float>,
        biasGradient: UnsafeMutablePointer<Float>?,
        inputGradient: UnsafeMutablePointer<Float>?
    ) {
        BLAS.sgemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                   alpha: 1, a: outputGradient, leadingA: outFeatures, b: input, leadingB: inFeatures,
                   beta: 0, c: weightGradient, leadingC: inFeatures)
        if let biasGradient {
            biasGradient.update(repeating: 0, count: outFeatures)
            for row in 0..<rows {
                let gradientRow = outputGradient + row * outFeatures
                for column in 0..<outFeatures { biasGradient[column] += gradientRow[column] }
            }
        }
        if let inputGradient {
            BLAS.sgemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures,
                       alpha: 1, a: outputGradient, leadingA: outFeatures, b: weight, leadingB: inFeatures,
                       beta: 0, c: inputGradient, leadingC: inFeatures)
        }
    }
}
