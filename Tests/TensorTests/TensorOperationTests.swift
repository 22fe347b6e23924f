import Foundation
import Testing
import TestSupport
@testable import Tensor

@Suite struct TensorOperationTests {
    @Test func shapeOperations() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(x.permuted([1, 0]).shape == [3, 2])
        #expect(x.permuted([1, 0]).scalars == [1, 4, 2, 5, 3, 6])
        let y = randomTensor([2, 3, 4, 5], seed: 21)
        let permuted = y.permuted([2, 0, 3, 1])
        #expect(permuted.shape == [4, 2, 5, 3])
        for (i, j, k, l) in [(0, 0, 0, 0), (1, 2, 3, 4), (0, 1, 2, 3), (1, 0, 3, 2)] {
            #expect(permuted[k, i, l, j] == y[i, j, k, l])
        }
        #expect(y.permuted([0, 1, 2, 3]).scalars == y.scalars)
        // Attention head split: [T, 3, H, D] → [3, H, T, D] moves whole rows of D.
        let qkv = randomTensor([5, 3, 2, 4], seed: 22)
        let heads = qkv.permuted([1, 2, 0, 3])
        #expect(heads[2, 1, 4, 3] == qkv[4, 2, 1, 3])
        #expect(y.sliced(axis: 1, range: 1..<3).shape == [2, 2, 4, 5])
        #expect(y.sliced(axis: -1, range: 2..<3)[1, 2, 3, 0] == y[1, 2, 3, 2])
        #expect(y.sliced(axis: 0, range: 1..<1).count == 0)
        let joined = concatenated([x, Tensor(shape: [2, 1], scalars: [7, 8])], axis: 1)
        #expect(joined.scalars == [1, 2, 3, 7, 4, 5, 6, 8])
        let doubled = Tensor(shape: [2, 3], scalars: x.scalars.map { 2 * $0 })
        let stacked = concatenated([x, doubled], axis: 0)
        #expect(stacked.shape == [4, 3])
        #expect(stacked.sliced(axis: 0, range: 2..<4).scalars == doubled.scalars)
    }

    @Test func tiledTransposesMatchNaiveIndexing() {
        let x = randomTensor([3, 45, 70], seed: 24)
        let swapped = x.permuted([0, 2, 1])
        #expect(swapped.shape == [3, 70, 45])
        var expected = [Float]()
        for b in 0..<3 { for j in 0..<70 { for i in 0..<45 { expected.append(x[b, i, j]) } } }
        #expect(swapped.scalars == expected)
        let matrix = randomTensor([1000, 33], seed: 25)
        #expect(matrix.permuted([1, 0]).permuted([1, 0]).scalars == matrix.scalars)
        #expect(matrix.permuted([1, 0])[32, 999] == matrix[999, 32])
    }
}

@Suite struct VectorMathTests {
    /// The largest relative error of `actual` against a Double reference over `inputs`.
    private func worstRelativeError(_ inputs: [Float], _ actual: [Float], _ reference: (Double) -> Double) -> Double {
        zip(inputs, actual).map { input, value in
            let expected = reference(Double(input))
            return expected == 0 ? abs(Double(value)) : abs(Double(value) - expected) / abs(expected)
        }.max()!
    }

    /// `VectorMath.exp` on every element, 16 at a time (a zero-padded partial vector at the end).
    private func exp(_ inputs: [Float]) -> [Float] {
        var result = [Float](repeating: .nan, count: inputs.count)
        inputs.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { destination in
                var index = 0
                while index < inputs.count {
                    let count = min(Vector.scalarCount, inputs.count - index)
                    let value = VectorMath.exp(loadPartialVector(source.baseAddress! + index, count: count))
                    storePartialVector(value, destination.baseAddress! + index, count: count)
                    index += count
                }
            }
        }
        return result
    }

    @Test func expIsAccurateAcrossTheRange() {
        let inputs = stride(from: -87.0, through: 88.0, by: 0.0137).map { Float($0) }
        let result = exp(inputs)
        let expWorst = worstRelativeError(inputs, result, Foundation.exp)
        #expect(expWorst < 2e-7, "exp worst relative error \(expWorst)")
        let edges = exp([-200, 200, .nan, -.infinity, .infinity])
        #expect(edges[0] == 0 && edges[1] == .infinity && edges[2].isNaN && edges[3] == 0 && edges[4] == .infinity)
        // Subnormal results are kept, not flushed.
        let subnormal = exp([-95])[0]
        #expect(abs(Double(subnormal) - Foundation.exp(-95.0)) / Foundation.exp(-95.0) < 1e-3)
    }
}
