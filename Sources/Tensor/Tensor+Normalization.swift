// Row-wise normalisations: LayerNorm and softmax. Each row is independent, so rows are split
// over the cores; within a row, 16-lane vectors with FMA.

/// LayerNorm over the last axis, as `torch.nn.LayerNorm(C, eps)`:
/// `(x − mean) / √(variance + epsilon) · weight + bias`, with the biased variance.
///
/// - Parameters:
///   - x: `[..., C]`.
///   - weight: `[C]`.
///   - bias: `[C]`.
///   - epsilon: added to the variance (DINOv2 uses 1e-6).
/// - Returns: `[..., C]`.
/// - Complexity: O(count), rows split over the cores.
public func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float) -> Tensor {
    var output = Tensor(uninitializedShape: x.shape)
    layerNorm(x, weight: weight, bias: bias, epsilon: epsilon, into: &output)
    return output
}

/// `layerNorm(_:weight:bias:epsilon:)` writing into an existing tensor of `x`'s shape.
///
/// `output` may be a copy of `x` (copy-on-write then keeps `x` intact).
/// - Precondition: `output.shape == x.shape`, `weight` and `bias` are `[C]`.
public func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Float, into output: inout Tensor) {
    precondition(x.rank >= 1, "layerNorm needs at least one axis")
    let columns = x.shape[x.rank - 1]
    precondition(weight.shape == [columns] && bias.shape == [columns],
                 "layerNorm over \(columns) features got weight \(weight.shape), bias \(bias.shape)")
    precondition(output.shape == x.shape, "layerNorm output \(output.shape) differs from input \(x.shape)")
    guard columns > 0 else { return }
    let destination = output.mutableBase()
    let rows = x.count / columns
    x.withUnsafeBufferPointer { source in
        weight.withUnsafeBufferPointer { weight in
            bias.withUnsafeBufferPointer { bias in
                let source = source.baseAddress!, weight = weight.baseAddress!, bias = bias.baseAddress!
                Parallel.forEachChunk(count: rows, minimumChunk: max(1, (1 << 14) / columns)) { range in
                    for row in range {
                        normalizeRow(source + row * columns, destination + row * columns, columns: columns,
                                     weight: weight, bias: bias, epsilon: epsilon)
                    }
                }
            }
        }
    }
}

/// One LayerNorm row: two passes (mean, then variance of the centred values) for accuracy.
@inline(__always)
private func normalizeRow(
    _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, columns: Int,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float
) {
    let width = Vector.scalarCount
    let whole = columns - columns % width
    var sums = Vector()
    var index = 0
    while index < whole { sums += loadVector(source + index); index += width }
    var sum = sums.sum()
    while index < columns { sum += source[index]; index += 1 }
    let mean = sum / Float(columns)
    var squares = Vector()
    index = 0
    while index < whole {
        let centred = loadVector(source + index) - mean
        squares = squares.addingProduct(centred, centred)
        index += width
    }
    var squareSum = squares.sum()
    while index < columns { let centred = source[index] - mean; squareSum += centred * centred; index += 1 }
    let inverseDeviation = 1 / (squareSum / Float(columns) + epsilon).squareRoot()
    index = 0
    while index < whole {
        let normalized = (loadVector(source + index) - mean) * inverseDeviation
        storeVector(loadVector(bias + index).addingProduct(normalized, loadVector(weight + index)), destination + index)
        index += width
    }
    while index < columns {
        destination[index] = (source[index] - mean) * inverseDeviation * weight[index] + bias[index]
        index += 1
    }
}

/// Softmax along `axis`, `exp(x − max) / Σ exp(x − max)`, as `torch.softmax(x, dim: axis)`.
///
/// Subtracting the row maximum keeps it finite for any finite input.
/// - Parameter axis: the axis to normalise; negative counts from the end (default: the last).
/// - Complexity: O(count), split over the cores.
public func softmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    var result = x
    result.softmaxInPlace(axis: axis)
    return result
}

extension Tensor {
    /// Replaces the tensor by its softmax along `axis` (see `softmax(_:axis:)`), in place.
    public mutating func softmaxInPlace(axis: Int = -1) {
        let axis = normalizedAxis(axis)
        let length = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        let outer = shape[..<axis].reduce(1, *)
        guard count > 0 else { return }
        let data = mutableBase()
        if inner == 1 {
            Parallel.forEachChunk(count: outer, minimumChunk: max(1, (1 << 13) / length)) { range in
                for row in range { softmaxRow(data + row * length, length: length) }
            }
            return
        }
        // Normalising a non-last axis: the same passes, vectorised across the inner axis.
        Parallel.forEachChunk(count: outer, minimumChunk: max(1, (1 << 13) / (length * inner))) { range in
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: inner)
            defer { scratch.deallocate() }
            for block in range {
                let base = data + block * length * inner
                scratch.update(from: base, count: inner)
                for step in 1..<max(length, 1) {
                    applyBinaryRun(MaximumKernel(), scratch, strideA: 1, base + step * inner, strideB: 1, scratch, length: inner)
                }
                for step in 0..<length {
                    let row = base + step * inner
                    applyBinaryRun(SubtractKernel(), row, strideA: 1, scratch, strideB: 1, row, length: inner)
                    applyUnaryRun(ExpKernel(), row, row, length: inner)
                }
                scratch.update(from: base, count: inner)
                for step in 1..<max(length, 1) {
                    applyBinaryRun(AddKernel(), scratch, strideA: 1, base + step * inner, strideB: 1, scratch, length: inner)
                }
                for step in 0..<length {
                    let row = base + step * inner
                    applyBinaryRun(DivideKernel(), row, strideA: 1, scratch, strideB: 1, row, length: inner)
                }
            }
        }
    }

    /// `axis` with negative values counted from the end.
    func normalizedAxis(_ axis: Int) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(resolved >= 0 && resolved < rank, "axis \(axis) out of range for shape \(shape)")
        return resolved
    }
}

struct MaximumKernel: BinaryKernel {
    @inline(__always) func callAsFunction(_ a: Vector, _ b: Vector) -> Vector { VectorMath.maximum(a, b) }
}

/// `kernel` over `length` contiguous elements on the current thread.
@inline(__always)
func applyUnaryRun<Kernel: UnaryKernel>(
    _ kernel: Kernel, _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, length: Int
) {
    var index = 0
    while index + Vector.scalarCount <= length {
        storeVector(kernel(loadVector(source + index)), destination + index)
        index += Vector.scalarCount
    }
    if index < length {
        storePartialVector(kernel(loadPartialVector(source + index, count: length - index)),
                           destination + index, count: length - index)
    }
}

/// Softmax of one contiguous row, in place.
@inline(__always)
func softmaxRow(_ row: UnsafeMutablePointer<Float>, length: Int) {
    let inverse = 1 / exponentiateRow(row, length: length)
    applyUnaryRun(ScaleKernel(factor: inverse), row, row, length: length)
}

/// Replaces a row by `exp(x − max(row))` and returns the sum: softmax without the final division,
/// for callers that can divide something smaller (attention divides its `[T, D]` output rows).
@inline(__always)
func exponentiateRow(_ row: UnsafeMutablePointer<Float>, length: Int) -> Float {
    let width = Vector.scalarCount
    let whole = length - length % width
    var maxima = Vector(repeating: -.infinity)
    var index = 0
    while index < whole { maxima = VectorMath.maximum(maxima, loadVector(row + index)); index += width }
    var maximum = maxima.max()
    while index < length { maximum = Swift.max(maximum, row[index]); index += 1 }
    if maximum == -.infinity { maximum = 0 }  // an all −∞ row gives NaN, as in PyTorch
    var sums = Vector()
    index = 0
    while index < whole {
        let value = VectorMath.exp(loadVector(row + index) - maximum)
        storeVector(value, row + index)
        sums += value
        index += width
    }
    var sum = sums.sum()
    while index < length {
        // Same arithmetic as the vector lanes, one element at a time.
        let value = VectorMath.exp(Vector(repeating: row[index] - maximum))[0]
        row[index] = value
        sum += value
        index += 1
    }
    return sum
}
