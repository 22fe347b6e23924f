import Foundation
import Testing
import TestSupport
import Tensor

/// Compares against PyTorch outputs from `scripts/fixtures/tensor_ops.py`.
@Suite struct TorchParityTests {
    let fixture: [String: Tensor]

    init() throws {
        fixture = try loadSafetensors(at: fixturesDirectory().appendingPathComponent("tensor_ops.safetensors"))
    }

    func tensor(_ name: String) throws -> Tensor {
        try #require(fixture[name], "fixture lacks \(name); rerun scripts/fixtures/tensor_ops.py")
    }

    /// Records an issue unless |actual − expected| ≤ absolute + relative·|expected| everywhere.
    func expectNear(
        _ actual: Tensor, _ expected: Tensor, absolute: Float, relative: Float, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(actual.shape == expected.shape, "\(what) shape", sourceLocation: sourceLocation)
        var worst: Float = 0, worstIndex = 0
        for (index, (a, e)) in zip(actual.scalars, expected.scalars).enumerated() {
            let excess = abs(a - e) - (absolute + relative * abs(e))
            if excess > worst || a.isNaN != e.isNaN { worst = a.isNaN != e.isNaN ? .infinity : excess; worstIndex = index }
        }
        #expect(worst <= 0, "\(what): element \(worstIndex) is \(actual.scalars[worstIndex]), PyTorch \(expected.scalars[worstIndex])",
                sourceLocation: sourceLocation)
    }

    @Test func activations() throws {
        let input = try tensor("activation_input")
        // PyTorch's float32 GELU computes 1 + erf(x/√2), which cancels in the negative tail
        // (absolute error ~3e-7 in Φ), hence the absolute term; against the exact float64
        // x·ndtr(x) the bound is purely relative.
        expectNear(gelu(input), try tensor("gelu_output"), absolute: 1e-6, relative: 1e-6, "GELU vs float32 torch")
        expectNear(gelu(input), try tensor("gelu_output_exact"), absolute: 1e-37, relative: 5e-7, "GELU vs float64 x·ndtr(x)")
        expectNear(silu(input), try tensor("silu_output"), absolute: 1e-37, relative: 1e-6, "SiLU")
        #expect(relu(input).scalars == (try tensor("relu_output")).scalars)
        var inPlace = input
        inPlace.geluInPlace()
        #expect(inPlace.scalars == gelu(input).scalars)
    }

    @Test func layerNormalization() throws {
        let result = layerNorm(try tensor("layernorm_input"), weight: try tensor("layernorm_weight"),
                               bias: try tensor("layernorm_bias"), epsilon: 1e-6)
        expectNear(result, try tensor("layernorm_output"), absolute: 2e-6, relative: 1e-6, "LayerNorm")
    }

    @Test func softmaxAlongAxes() throws {
        let input = try tensor("softmax_input")
        expectNear(softmax(input), try tensor("softmax_last_output"), absolute: 1e-9, relative: 2e-6, "softmax last axis")
        expectNear(softmax(input, axis: 1), try tensor("softmax_middle_output"), absolute: 1e-9, relative: 2e-6, "softmax axis 1")
    }

    @Test func matrixProducts() throws {
        let a = try tensor("bmm_a"), b = try tensor("bmm_b"), expected = try tensor("bmm_output")
        expectNear(matmul(a, b), expected, absolute: 2e-6, relative: 1e-6, "bmm")
        expectNear(matmul(try tensor("bmm_a_transposed"), b, transposeA: true), expected, absolute: 2e-6, relative: 1e-6, "bmm Aᵀ")
        expectNear(matmul(a, try tensor("bmm_b_transposed"), transposeB: true), expected, absolute: 2e-6, relative: 1e-6, "bmm Bᵀ")
        let result = linear(try tensor("linear_input"), weight: try tensor("linear_weight"), bias: try tensor("linear_bias"))
        expectNear(result, try tensor("linear_output"), absolute: 2e-6, relative: 1e-6, "linear")
    }

    @Test func shapeOperationsAndMean() throws {
        let input = try tensor("permute_input")
        #expect(input.permuted([2, 0, 3, 1]).scalars == (try tensor("permute_output")).scalars)
        expectNear(input.mean(axis: 1), try tensor("mean_axis1_output"), absolute: 1e-7, relative: 1e-6, "mean")
    }
}

extension TorchParityTests {
    @Test func multiHeadAttentionMatchesScaledDotProductAttention() throws {
        let result = multiHeadAttention(query: try tensor("attention_query"), key: try tensor("attention_key"),
                                        value: try tensor("attention_value"), headCount: 3)
        expectNear(result, try tensor("attention_output"), absolute: 2e-6, relative: 1e-6, "attention")
        let packed = multiHeadAttention(packed: try tensor("attention_packed_qkv"), headCount: 3)
        expectNear(packed, try tensor("attention_packed_output"), absolute: 2e-6, relative: 1e-6, "packed attention")
    }
}
