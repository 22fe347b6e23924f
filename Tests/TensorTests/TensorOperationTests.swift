import Foundation
import Testing
import TestSupport
@testable import Tensor

@Suite struct TensorOperationTests {
    @Test func broadcastingMatchesNaiveIndexing() {
        // [2, 3, 4] against every broadcastable partner, checked element by element.
        let a = randomTensor([2, 3, 4], seed: 10)
        let partners: [[Int]] = [[4], [3, 1], [1, 3, 4], [2, 1, 4], [2, 3, 1], [1], [], [2, 3, 4], [2, 1, 1]]
        for shape in partners {
            let b = randomTensor(shape, seed: 11)
            let padded = Array(repeating: 1, count: 3 - shape.count) + shape
            var expectedSum = [Float](), expectedProduct = [Float](), expectedDifference = [Float]()
            for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
                let bi = padded[0] == 1 ? 0 : i, bj = padded[1] == 1 ? 0 : j, bk = padded[2] == 1 ? 0 : k
                let bValue = b.scalars[(bi * padded[1] + bj) * padded[2] + bk]
                expectedSum.append(a[i, j, k] + bValue)
                expectedProduct.append(a[i, j, k] * bValue)
                expectedDifference.append(a[i, j, k] - bValue)
            } } }
            #expect((a + b).shape == [2, 3, 4])
            #expect((a + b).scalars == expectedSum, "sum with \(shape)")
            #expect((a * b).scalars == expectedProduct, "product with \(shape)")
            #expect((a - b).scalars == expectedDifference, "difference with \(shape)")
            var inPlace = a
            inPlace.addInPlace(b)
            #expect(inPlace.scalars == expectedSum, "in-place sum with \(shape)")
            // Broadcasting is symmetric.
            #expect((b + a).scalars == expectedSum, "reversed sum with \(shape)")
        }
        // Both operands stretched: [3, 1] + [1, 4] → [3, 4].
        let column = Tensor(shape: [3, 1], scalars: [1, 2, 3]), row = Tensor(shape: [1, 4], scalars: [10, 20, 30, 40])
        #expect((column + row).scalars == [11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43])
    }

    @Test func largeElementwiseWorkSplitsAcrossThreadsCorrectly() {
        // Large enough to take the parallel path, with a ragged tail.
        let a = randomTensor([1_000_003], seed: 12), b = randomTensor([1_000_003], seed: 13)
        let sum = a + b
        let expected = zip(a.scalars, b.scalars).map { $0 + $1 }
        #expect(sum.scalars == expected)
        var scaled = a
        scaled.scaleInPlace(by: 3)
        #expect(scaled.scalars == a.scalars.map { $0 * 3 })
        #expect(a.adding(1).scalars == a.scalars.map { $0 + 1 })
        let rows = randomTensor([1001, 257], seed: 14), bias = randomTensor([257], seed: 15)
        let biased = rows + bias
        for row in [0, 500, 1000] {
            for column in [0, 100, 256] { #expect(biased[row, column] == rows[row, column] + bias[column]) }
        }
    }

    @Test func inPlaceOperationsRespectCopyOnWrite() {
        let original = Tensor(shape: [2, 2], scalars: [1, -2, 3, -4])
        var copy = original
        copy.reluInPlace()
        copy.multiplyInPlace(Tensor(shape: [2], scalars: [10, 100]))
        #expect(original.scalars == [1, -2, 3, -4])
        #expect(copy.scalars == [10, 0, 30, 0])
        var selfSum = original
        selfSum += selfSum
        #expect(selfSum.scalars == [2, -4, 6, -8])
    }

    @Test func softmaxIsStableAndNormalised() {
        let x = Tensor(shape: [2, 3], scalars: [1000, 1001, 1002, -1e30, 0, -.infinity])
        let y = softmax(x)
        let e = [exp(-2.0), exp(-1.0), 1.0], total = e.reduce(0, +)
        expectClose(Array(y.scalars[0..<3]), e.map { Float($0 / total) }, tolerance: 1e-7, "shifted row")
        #expect(Array(y.scalars[3..<6]) == [0, 1, 0])
        // Along a non-last axis equals transposing, softmaxing the last axis and transposing back.
        let z = randomTensor([3, 5, 18], seed: 16, in: -20...20)
        let viaPermute = softmax(z.permuted([0, 2, 1])).permuted([0, 2, 1])
        expectClose(softmax(z, axis: 1).scalars, viaPermute.scalars, tolerance: 1e-7, "axis 1")
        // Long rows: every row sums to one.
        let long = softmax(randomTensor([4, 1370], seed: 17, in: -8...8))
        for row in 0..<4 {
            let sum = long.sliced(axis: 0, range: row..<(row + 1)).scalars.reduce(0, +)
            #expect(abs(sum - 1) < 1e-5)
        }
    }

    @Test func layerNormMatchesDoubleReference() {
        let x = randomTensor([7, 70], seed: 18, in: -3...5)
        let weight = randomTensor([70], seed: 19), bias = randomTensor([70], seed: 20)
        let y = layerNorm(x, weight: weight, bias: bias, epsilon: 1e-6)
        var expected = [Float]()
        for row in 0..<7 {
            let values = (0..<70).map { Double(x[row, $0]) }
            let mean = values.reduce(0, +) / 70
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 70
            for column in 0..<70 {
                let normalized = (values[column] - mean) / (variance + 1e-6).squareRoot()
                expected.append(Float(normalized * Double(weight[column]) + Double(bias[column])))
            }
        }
        expectClose(y.scalars, expected, tolerance: 5e-6, "layerNorm")
        var output = Tensor(zeros: [7, 70])
        layerNorm(x, weight: weight, bias: bias, epsilon: 1e-6, into: &output)
        #expect(output.scalars == y.scalars)
    }

    @Test func shapeOperations() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(x.transposed().shape == [3, 2])
        #expect(x.transposed().scalars == [1, 4, 2, 5, 3, 6])
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
        let stacked = concatenated([x, x.scaled(by: 2)], axis: 0)
        #expect(stacked.shape == [4, 3])
        #expect(stacked.sliced(axis: 0, range: 2..<4).scalars == x.scaled(by: 2).scalars)
    }

    @Test func tiledTransposesMatchNaiveIndexing() {
        let x = randomTensor([3, 45, 70], seed: 24)
        let swapped = x.permuted([0, 2, 1])
        #expect(swapped.shape == [3, 70, 45])
        var expected = [Float]()
        for b in 0..<3 { for j in 0..<70 { for i in 0..<45 { expected.append(x[b, i, j]) } } }
        #expect(swapped.scalars == expected)
        let matrix = randomTensor([1000, 33], seed: 25)
        #expect(matrix.transposed().transposed().scalars == matrix.scalars)
        #expect(matrix.transposed()[32, 999] == matrix[999, 32])
    }

    @Test func reductions() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(x.sum(axis: 0).scalars == [5, 7, 9])
        #expect(x.mean(axis: 1).scalars == [2, 5])
        #expect(x.mean(axis: -1, keepingAxis: true).shape == [2, 1])
        let big = randomTensor([3, 1369, 300], seed: 23)
        let mean = big.mean(axis: 1)
        #expect(mean.shape == [3, 300])
        var expected = 0.0
        for token in 0..<1369 { expected += Double(big[2, token, 299]) }
        #expect(abs(Double(mean[2, 299]) - expected / 1369) < 1e-7)
        let rows = randomTensor([50, 37], seed: 26)
        let rowMeans = rows.mean(axis: 1)
        for row in [0, 17, 49] {
            let reference = (0..<37).reduce(0.0) { $0 + Double(rows[row, $1]) } / 37
            #expect(abs(Double(rowMeans[row]) - reference) < 1e-7)
        }
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

    @Test func expIsAccurateAcrossTheRange() {
        let inputs = stride(from: -87.0, through: 88.0, by: 0.0137).map { Float($0) }
        let result = exp(Tensor(shape: [inputs.count], scalars: inputs)).scalars
        let expWorst = worstRelativeError(inputs, result, Foundation.exp)
        #expect(expWorst < 2e-7, "exp worst relative error \(expWorst)")
        let edges = exp(Tensor(shape: [5], scalars: [-200, 200, .nan, -.infinity, .infinity])).scalars
        #expect(edges[0] == 0 && edges[1] == .infinity && edges[2].isNaN && edges[3] == 0 && edges[4] == .infinity)
        // Subnormal results are kept, not flushed.
        let subnormal = exp(Tensor(shape: [1], scalars: [-95])).scalars[0]
        #expect(abs(Double(subnormal) - Foundation.exp(-95.0)) / Foundation.exp(-95.0) < 1e-3)
    }

    @Test func geluIsAccurateIncludingTheNegativeTail() {
        let inputs = stride(from: -13.0, through: 13.0, by: 0.0011).map { Float($0) }
        let result = gelu(Tensor(shape: [inputs.count], scalars: inputs)).scalars
        let worst = worstRelativeError(inputs, result) { x in 0.5 * x * erfc(-x / 2.0.squareRoot()) }
        #expect(worst < 5e-7, "GELU worst relative error \(worst)")
        let nearZero = worstRelativeError([1e-30, -1e-20, 1e-6], gelu(Tensor(shape: [3], scalars: [1e-30, -1e-20, 1e-6])).scalars) {
            0.5 * $0 * erfc(-$0 / 2.0.squareRoot())
        }
        #expect(nearZero < 3e-7)
    }

    @Test func siluIsAccurate() {
        let inputs = stride(from: -80.0, through: 80.0, by: 0.0071).map { Float($0) }
        let result = silu(Tensor(shape: [inputs.count], scalars: inputs)).scalars
        let siluWorst = worstRelativeError(inputs, result) { $0 / (1 + Foundation.exp(-$0)) }
        #expect(siluWorst < 3e-7, "SiLU worst relative error \(siluWorst)")
    }
}

@Suite struct AttentionTests {
    @Test func blockedAttentionMatchesComposedOperations() {
        // T = 300 queries, S = 200 keys, 4 heads of 8: several query blocks of 16 rows, a ragged last block.
        let query = randomTensor([2, 300, 32], seed: 60), key = randomTensor([2, 200, 32], seed: 61)
        let value = randomTensor([2, 200, 32], seed: 62)
        let result = multiHeadAttention(query: query, key: key, value: value, headCount: 4)
        func heads(_ x: Tensor, _ length: Int) -> Tensor { x.reshaped([2, length, 4, 8]).permuted([0, 2, 1, 3]).reshaped([8, length, 8]) }
        let scores = softmax(matmul(heads(query, 300), heads(key, 200), transposeB: true, alpha: 1 / Float(8).squareRoot()))
        let expected = matmul(scores, heads(value, 200)).reshaped([2, 4, 300, 8]).permuted([0, 2, 1, 3]).reshaped([2, 300, 32])
        expectClose(result.scalars, expected.scalars, tolerance: 2e-6, "attention")
        var blocked = Tensor(zeros: [300, 32])
        let destination = blocked.mutableBase()
        query.withUnsafeBufferPointer { q in key.withUnsafeBufferPointer { k in value.withUnsafeBufferPointer { v in
            attendAllHeads(query: q.baseAddress!, queryStride: 32, key: k.baseAddress!, keyStride: 32,
                           value: v.baseAddress!, valueStride: 32, output: destination, outputStride: 32,
                           queries: 300, keys: 200, features: 32, headCount: 4, scale: nil, queryBlock: 48)
        } } }
        expectClose(blocked.scalars, Array(expected.scalars[0..<(300 * 32)]), tolerance: 2e-6, "blocks of 48 rows")
    }
}
