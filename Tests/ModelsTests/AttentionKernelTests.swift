import Foundation
import Testing
@testable import Models

/// The ViT's multi-head attention, both implementations, against a direct double-precision
/// softmax(QK^T/√d)V over the fused QKV layout.
struct AttentionKernelTests {
    /// Direct attention in Double: `[B*T, D]` from `[B*T, 3D]` rows of `[q | k | v]`.
    private func reference(_ qkv: [Float], batch: Int, tokens: Int, width: Int, heads: Int) -> [Float] {
        let headWidth = width / heads
        let scale = 1 / Double(headWidth).squareRoot()
        var output = [Float](repeating: 0, count: batch * tokens * width)
        for image in 0..<batch {
            for head in 0..<heads {
                func element(_ token: Int, _ part: Int, _ dimension: Int) -> Double {
                    Double(qkv[(image * tokens + token) * 3 * width + part * width + head * headWidth + dimension])
                }
                for query in 0..<tokens {
                    var scores = (0..<tokens).map { key in
                        (0..<headWidth).reduce(0.0) { $0 + element(query, 0, $1) * element(key, 1, $1) } * scale
                    }
                    let maximum = scores.max()!
                    scores = scores.map { Foundation.exp($0 - maximum) }
                    let sum = scores.reduce(0, +)
                    for dimension in 0..<headWidth {
                        let value = (0..<tokens).reduce(0.0) { $0 + scores[$1] * element($1, 2, dimension) } / sum
                        output[(image * tokens + query) * width + head * headWidth + dimension] = Float(value)
                    }
                }
            }
        }
        return output
    }

    private func attention(
        _ qkv: [Float], batch: Int, tokens: Int, width: Int, heads: Int, workers: Int,
        implementation: AttentionImplementation
    ) -> [Float] {
        var output = [Float](repeating: .nan, count: batch * tokens * width)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: workers * attentionScratchCount(tokens: tokens))
        defer { scratch.deallocate() }
        qkv.withUnsafeBufferPointer { qkv in
            output.withUnsafeMutableBufferPointer { output in
                multiHeadAttention(qkv: qkv.baseAddress!, output: output.baseAddress!,
                                   shape: AttentionShape(batch: batch, tokens: tokens, width: width, heads: heads),
                                   scores: scratch, workers: workers, implementation: implementation)
            }
        }
        return output
    }

    /// Token counts around the kernels' tiles (12 query rows, 32 keys, 6 output rows, blocks of
    /// 48 rows), with scores spread wide enough that the softmax is far from uniform.
    @Test(arguments: [1, 5, 12, 31, 33, 49, 97, 130])
    func bothImplementationsMatchDirectAttention(tokens: Int) {
        let batch = 2, heads = 2, width = 128
        let qkv = (0..<(batch * tokens * 3 * width)).map { index in
            Float(sin(Double(index) * 0.7311 + Double(tokens)) * 2.5)
        }
        let expected = reference(qkv, batch: batch, tokens: tokens, width: width, heads: heads)
        for implementation in [AttentionImplementation.blas, .registerTiles] {
            for workers in [1, 2] {
                let result = attention(qkv, batch: batch, tokens: tokens, width: width, heads: heads,
                                       workers: workers, implementation: implementation)
                let worst = zip(result, expected).map { abs($0 - $1) }.max()!
                #expect(worst <= 2e-5, "\(implementation), \(workers) workers, T = \(tokens): max |difference| \(worst)")
            }
        }
    }

    /// Every score far below zero (here about -200, where exp underflows): the zero keys that
    /// pad the last key tile score 0 and must not count as the row maximum, or every
    /// probability would flush to zero.
    @Test func allScoresFarBelowZero() {
        let batch = 1, tokens = 20, heads = 1, width = 64
        var qkv = [Float](repeating: 0, count: batch * tokens * 3 * width)
        for token in 0..<tokens {
            for dimension in 0..<width {
                let direction = Float(1 + (dimension % 3)) / 2
                qkv[token * 3 * width + dimension] = 6 * direction                                   // query
                qkv[token * 3 * width + width + dimension] = -direction * (5 + 0.05 * Float(token))  // key
                qkv[token * 3 * width + 2 * width + dimension] = sin(Float(token * width + dimension))
            }
        }
        let expected = reference(qkv, batch: batch, tokens: tokens, width: width, heads: heads)
        for implementation in [AttentionImplementation.blas, .registerTiles] {
            let result = attention(qkv, batch: batch, tokens: tokens, width: width, heads: heads, workers: 1,
                                   implementation: implementation)
            let worst = zip(result, expected).map { abs($0 - $1) }.max()!
            #expect(worst <= 2e-5, "\(implementation): max |difference| \(worst)")
        }
    }

    /// Heads of width other than 64 take the OpenBLAS path even when the tiles are asked for.
    @Test func otherHeadWidthsFallBackToBLAS() {
        let batch = 1, tokens = 20, heads = 4, width = 64
        let qkv = (0..<(batch * tokens * 3 * width)).map { Float(cos(Double($0) * 0.37)) }
        let expected = reference(qkv, batch: batch, tokens: tokens, width: width, heads: heads)
        let result = attention(qkv, batch: batch, tokens: tokens, width: width, heads: heads, workers: 2,
                               implementation: .registerTiles)
        #expect(zip(result, expected).map { abs($0 - $1) }.max()! <= 2e-5)
    }
}
