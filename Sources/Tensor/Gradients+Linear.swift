// Ops a probe head trains and predicts with, on raw row-major buffers so that a step allocates
// nothing: the losses with their gradients, dropout masks, and the linear and ReLU forwards used
// for inference. The training step itself (forward and backward passes fused per feature block)
// is Evaluation/ProbeStepper.swift. Gradient checks: Tests/EvaluationTests/GradientCheckTests.swift.

/// Ops of a probe head: linear and ReLU forwards, dropout masks, BCE-with-logits and softmax
/// cross-entropy with their gradients.
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
}
