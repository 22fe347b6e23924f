import Random
import Tensor

/// A tensor of uniform values in `range`, reproducible from `seed`.
func randomTensor(_ shape: [Int], seed: UInt64, in range: ClosedRange<Float> = -1...1) -> Tensor {
    var generator = SplitMix64(seed: seed)
    let count = shape.reduce(1, *)
    return Tensor(shape: shape, scalars: (0..<count).map { _ in Float.random(in: range, using: &generator) })
}

/// Plain triple-loop product of `[m, k] × [k, n]` in Double, as a reference.
func naiveMatmul(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
    var result = [Float](repeating: 0, count: m * n)
    for row in 0..<m {
        for column in 0..<n {
            var sum = 0.0
            for inner in 0..<k { sum += Double(a[row * k + inner]) * Double(b[inner * n + column]) }
            result[row * n + column] = Float(sum)
        }
    }
    return result
}

/// Row-major transpose of an `[rows, columns]` array.
func transposeArray(_ values: [Float], rows: Int, columns: Int) -> [Float] {
    var result = [Float](repeating: 0, count: values.count)
    for row in 0..<rows { for column in 0..<columns { result[column * rows + row] = values[row * columns + column] } }
    return result
}
