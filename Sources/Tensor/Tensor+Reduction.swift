// Reductions along one axis. Sums accumulate in Double: a mean over the 1,369 patch tokens of a
// 518-px image then matches PyTorch's pairwise float sum to well under 1e-6.

extension Tensor {
    /// The sum along `axis`, as `x.sum(dim: axis, keepdim: keepingAxis)`.
    ///
    /// - Parameters:
    ///   - axis: negative counts from the end.
    ///   - keepingAxis: keep the reduced axis with extent 1 instead of removing it.
    /// - Complexity: O(count).
    public func sum(axis: Int, keepingAxis: Bool = false) -> Tensor {
        reduced(axis: axis, keepingAxis: keepingAxis, scale: 1)
    }

    /// The mean along `axis`, as `x.mean(dim: axis, keepdim: keepingAxis)`; NaN for an empty axis.
    ///
    /// - Parameters:
    ///   - axis: negative counts from the end.
    ///   - keepingAxis: keep the reduced axis with extent 1 instead of removing it.
    /// - Complexity: O(count).
    public func mean(axis: Int, keepingAxis: Bool = false) -> Tensor {
        let length = shape[normalizedAxis(axis)]
        return reduced(axis: axis, keepingAxis: keepingAxis, scale: 1 / Double(length))
    }

    /// `scale · Σ` along `axis`, accumulated in Double.
    private func reduced(axis: Int, keepingAxis: Bool, scale: Double) -> Tensor {
        let axis = normalizedAxis(axis)
        let length = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        let outer = shape[..<axis].reduce(1, *)
        var outputShape = shape
        if keepingAxis { outputShape[axis] = 1 } else { outputShape.remove(at: axis) }
        var output = Tensor(uninitializedShape: outputShape)
        guard outer * inner > 0 else { return output }
        let destination = output.mutableBase()
        if inner == 1 {
            // Contiguous rows: eight Double lanes per row, converted from Float vectors.
            withUnsafeBufferPointer { source in
                let source = source.baseAddress!
                Parallel.forEachChunk(count: outer, minimumChunk: max(1, (1 << 15) / max(length, 1))) { rows in
                    for row in rows {
                        destination[row] = Float(rowSum(source + row * length, length: length) * scale)
                    }
                }
            }
            return output
        }
        // Work items: (outer row, block of up to 256 inner columns).
        let blockWidth = 256
        let blocksPerRow = (inner + blockWidth - 1) / blockWidth
        withUnsafeBufferPointer { source in
            let source = source.baseAddress!
            Parallel.forEachChunk(count: outer * blocksPerRow,
                                  minimumChunk: max(1, (1 << 15) / max(1, length * min(inner, blockWidth)))) { items in
                var accumulator = [Double](repeating: 0, count: min(inner, blockWidth))
                for item in items {
                    let row = item / blocksPerRow, first = (item % blocksPerRow) * blockWidth
                    let width = min(blockWidth, inner - first)
                    for column in 0..<width { accumulator[column] = 0 }
                    var start = source + row * length * inner + first
                    for _ in 0..<length {
                        for column in 0..<width { accumulator[column] += Double(start[column]) }
                        start += inner
                    }
                    let target = destination + row * inner + first
                    for column in 0..<width { target[column] = Float(accumulator[column] * scale) }
                }
            }
        }
        return output
    }
}

/// Σ of `length` contiguous floats, accumulated in Double.
@inline(__always)
private func rowSum(_ row: UnsafePointer<Float>, length: Int) -> Double {
    var sums = SIMD8<Double>()
    var index = 0
    while index + 8 <= length {
        sums += SIMD8<Double>(UnsafeRawPointer(row + index).loadUnaligned(as: SIMD8<Float>.self))
        index += 8
    }
    var total = sums.sum()
    while index < length { total += Double(row[index]); index += 1 }
    return total
}
