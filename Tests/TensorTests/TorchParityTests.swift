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

    @Test func matrixProducts() throws {
        let a = try tensor("bmm_a"), b = try tensor("bmm_b"), expected = try tensor("bmm_output")
        expectNear(matmul(a, b), expected, absolute: 2e-6, relative: 1e-6, "bmm")
        expectNear(matmul(try tensor("bmm_a_transposed"), b, transposeA: true), expected, absolute: 2e-6, relative: 1e-6, "bmm Aᵀ")
        expectNear(matmul(a, try tensor("bmm_b_transposed"), transposeB: true), expected, absolute: 2e-6, relative: 1e-6, "bmm Bᵀ")
    }

    @Test func permutation() throws {
        let input = try tensor("permute_input")
        #expect(input.permuted([2, 0, 3, 1]).scalars == (try tensor("permute_output")).scalars)
    }
}
