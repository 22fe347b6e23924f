// Axis rearrangements that copy: permute, concatenate, slice. (`reshaped` is free
// and lives with the core type.)

extension Tensor {
    /// The tensor with its axes reordered: result axis `i` is axis `axes[i]` of `self`,
    /// as `torch.permute`. E.g. `[T, 3, H, D].permuted([1, 2, 0, 3]) → [3, H, T, D]`.
    ///
    /// - Precondition: `axes` is a permutation of `0..<rank`.
    /// - Complexity: O(count); runs of contiguous elements are copied whole.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "\(axes) is not a permutation of the axes of \(shape)")
        let outputShape = axes.map { shape[$0] }
        var output = Tensor(uninitializedShape: outputShape)
        guard count > 0 else { return output }
        var sourceStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) {
            sourceStrides[axis] = sourceStrides[axis + 1] * shape[axis + 1]
        }
        // Merge output axes that are also adjacent (in the same order) in the source.
        var extents: [Int] = [], strides: [Int] = []
        for (extent, sourceStride) in zip(outputShape, axes.map { sourceStrides[$0] }) where extent != 1 {
            if let last = strides.last, last == sourceStride * extent {
                extents[extents.count - 1] *= extent
                strides[strides.count - 1] = sourceStride
            } else {
                extents.append(extent); strides.append(sourceStride)
            }
        }
        if extents.isEmpty { extents = [1]; strides = [1] }
        let destination = output.mutableBase()
        withUnsafeBufferPointer { source in
            copyStrided(from: source.baseAddress!, extents: extents, strides: strides, to: destination)
        }
        return output
    }

    /// The elements whose index along `axis` lies in `range`, as `x.narrow(axis, start, length)`.
    ///
    /// - Parameter axis: negative counts from the end.
    /// - Precondition: `range` lies within `0..<shape[axis]`.
    /// - Complexity: O(result count).
    public func sliced(axis: Int, range: Range<Int>) -> Tensor {
        let axis = normalizedAxis(axis)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "slice \(range) out of bounds for axis \(axis) of shape \(shape)")
        var outputShape = shape
        outputShape[axis] = range.count
        var output = Tensor(uninitializedShape: outputShape)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let outer = shape[..<axis].reduce(1, *)
        let sourceBlock = shape[axis] * inner, block = range.count * inner
        guard block > 0 else { return output }
        let destination = output.mutableBase()
        withUnsafeBufferPointer { source in
            let start = source.baseAddress! + range.lowerBound * inner
            Parallel.forEachChunk(count: outer, minimumChunk: max(1, (1 << 16) / block)) { rows in
                for row in rows { (destination + row * block).update(from: start + row * sourceBlock, count: block) }
            }
        }
        return output
    }

    /// `axis` with negative values counted from the end.
    func normalizedAxis(_ axis: Int) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(resolved >= 0 && resolved < rank, "axis \(axis) out of range for shape \(shape)")
        return resolved
    }
}

/// The tensors joined along `axis`, as `torch.cat(tensors, dim: axis)`.
///
/// - Parameter axis: negative counts from the end.
/// - Precondition: at least one tensor; equal ranks; equal extents except along `axis`.
/// - Complexity: O(total count).
public func concatenated(_ tensors: [Tensor], axis: Int) -> Tensor {
    precondition(!tensors.isEmpty, "concatenated needs at least one tensor")
    let first = tensors[0]
    let axis = first.normalizedAxis(axis)
    for tensor in tensors {
        precondition(tensor.rank == first.rank
                     && zip(tensor.shape, first.shape).enumerated().allSatisfy { $0.offset == axis || $0.element.0 == $0.element.1 },
                     "cannot concatenate \(tensor.shape) with \(first.shape) along axis \(axis)")
    }
    var outputShape = first.shape
    outputShape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
    var output = Tensor(uninitializedShape: outputShape)
    let inner = first.shape[(axis + 1)...].reduce(1, *)
    let outer = first.shape[..<axis].reduce(1, *)
    let outputBlock = outputShape[axis] * inner
    let destination = output.mutableBase()
    var offset = 0
    for tensor in tensors {
        let block = tensor.shape[axis] * inner
        if block > 0 {
            tensor.withUnsafeBufferPointer { source in
                let source = source.baseAddress!
                for row in 0..<outer {
                    (destination + row * outputBlock + offset).update(from: source + row * block, count: block)
                }
            }
        }
        offset += block
    }
    return output
}

/// Copies the elements of a strided view (outermost axis first; `extents` and `strides` of equal
/// length) into contiguous `destination`, splitting the outer rows over the cores.
private func copyStrided(
    from source: UnsafePointer<Float>, extents: [Int], strides: [Int], to destination: UnsafeMutablePointer<Float>
) {
    let length = extents.last!, innerStride = strides.last!
    if extents.count >= 2, strides[strides.count - 2] == 1, innerStride != 1 {
        copyTransposed(from: source, extents: extents, strides: strides, to: destination)
        return
    }
    let outerExtents = Array(extents.dropLast()), outerStrides = Array(strides.dropLast())
    let rows = outerExtents.reduce(1, *)
    Parallel.forEachChunk(count: rows, minimumChunk: max(1, (1 << 15) / length)) { range in
        var index = [Int](repeating: 0, count: outerExtents.count)
        var remainder = range.lowerBound
        for axis in stride(from: outerExtents.count - 1, through: 0, by: -1) {
            index[axis] = remainder % outerExtents[axis]
            remainder /= outerExtents[axis]
        }
        var offset = zip(index, outerStrides).reduce(0) { $0 + $1.0 * $1.1 }
        for row in range {
            let target = destination + row * length, start = source + offset
            if innerStride == 1 {
                target.update(from: start, count: length)
            } else {
                for element in 0..<length { target[element] = start[element * innerStride] }
            }
            var axis = outerExtents.count - 1
            while axis >= 0 {
                index[axis] += 1; offset += outerStrides[axis]
                if index[axis] < outerExtents[axis] { break }
                offset -= outerStrides[axis] * outerExtents[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

/// `copyStrided` for views whose last two axes are a transpose (source strides `[1, s]`):
/// copies 32×32 tiles, so that both the rows read and the rows written stay in cache, instead
/// of gathering one element per cache line (~10× faster for a 8192×768 transpose).
private func copyTransposed(
    from source: UnsafePointer<Float>, extents: [Int], strides: [Int], to destination: UnsafeMutablePointer<Float>
) {
    let tile = 32
    let rows = extents[extents.count - 2], columns = extents[extents.count - 1]
    let columnStride = strides[strides.count - 1]
    let batchExtents = Array(extents.dropLast(2)), batchStrides = Array(strides.dropLast(2))
    let matrices = batchExtents.reduce(1, *)
    let rowTiles = (rows + tile - 1) / tile
    Parallel.forEachChunk(count: matrices * rowTiles, minimumChunk: max(1, (1 << 15) / (tile * max(columns, 1)))) { items in
        for item in items {
            let matrix = item / rowTiles, firstRow = (item % rowTiles) * tile
            let lastRow = min(firstRow + tile, rows)
            var remainder = matrix, offset = 0
            for axis in stride(from: batchExtents.count - 1, through: 0, by: -1) {
                offset += (remainder % batchExtents[axis]) * batchStrides[axis]
                remainder /= batchExtents[axis]
            }
            let input = source + offset, output = destination + matrix * rows * columns
            var firstColumn = 0
            while firstColumn < columns {
                let lastColumn = min(firstColumn + tile, columns)
                for row in firstRow..<lastRow {
                    let target = output + row * columns, start = input + row
                    for column in firstColumn..<lastColumn { target[column] = start[column * columnStride] }
                }
                firstColumn = lastColumn
            }
        }
    }
}
