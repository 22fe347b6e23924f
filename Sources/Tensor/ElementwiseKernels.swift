// Element-wise loops shared by arithmetic and activations: 16 lanes at a time, the tail through
// a zero-padded vector so every element goes through the same arithmetic, split over the cores.

/// A function applied lane-wise to a vector of floats.
protocol UnaryKernel {
    /// Elements per thread below which splitting the work does not pay.
    var minimumChunk: Int { get }
    func callAsFunction(_ x: Vector) -> Vector
}

/// A function of two vectors applied lane-wise.
protocol BinaryKernel {
    func callAsFunction(_ a: Vector, _ b: Vector) -> Vector
}

@inline(__always)
func loadVector(_ pointer: UnsafePointer<Float>) -> Vector {
    UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
}

@inline(__always)
func storeVector(_ value: Vector, _ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Vector.self)
}

/// `count` (< 16) elements as a vector, the rest zero.
@inline(__always)
func loadPartialVector(_ pointer: UnsafePointer<Float>, count: Int) -> Vector {
    var vector = Vector()
    for lane in 0..<count { vector[lane] = pointer[lane] }
    return vector
}

@inline(__always)
func storePartialVector(_ value: Vector, _ pointer: UnsafeMutablePointer<Float>, count: Int) {
    for lane in 0..<count { pointer[lane] = value[lane] }
}

/// `destination[i] = kernel(source[i])` for `i < count`; source and destination may coincide.
func applyUnary<Kernel: UnaryKernel>(
    _ kernel: Kernel, source: UnsafePointer<Float>, destination: UnsafeMutablePointer<Float>, count: Int
) {
    Parallel.forEachChunk(count: count, minimumChunk: kernel.minimumChunk) { range in
        var index = range.lowerBound
        while index + Vector.scalarCount <= range.upperBound {
            storeVector(kernel(loadVector(source + index)), destination + index)
            index += Vector.scalarCount
        }
        let remaining = range.upperBound - index
        if remaining > 0 {
            storePartialVector(kernel(loadPartialVector(source + index, count: remaining)),
                               destination + index, count: remaining)
        }
    }
}

/// One inner run of a binary operation: `length` elements, each operand either advancing
/// (stride 1) or repeating its first element (stride 0).
@inline(__always)
func applyBinaryRun<Kernel: BinaryKernel>(
    _ kernel: Kernel, _ a: UnsafePointer<Float>, strideA: Int, _ b: UnsafePointer<Float>, strideB: Int,
    _ destination: UnsafeMutablePointer<Float>, length: Int
) {
    var index = 0
    let width = Vector.scalarCount
    switch (strideA, strideB) {
    case (1, 1):
        while index + width <= length {
            storeVector(kernel(loadVector(a + index), loadVector(b + index)), destination + index)
            index += width
        }
        if index < length {
            let remaining = length - index
            storePartialVector(kernel(loadPartialVector(a + index, count: remaining),
                                      loadPartialVector(b + index, count: remaining)),
                               destination + index, count: remaining)
        }
    case (1, _):
        let repeated = Vector(repeating: b.pointee)
        while index + width <= length {
            storeVector(kernel(loadVector(a + index), repeated), destination + index)
            index += width
        }
        if index < length {
            let remaining = length - index
            storePartialVector(kernel(loadPartialVector(a + index, count: remaining), repeated),
                               destination + index, count: remaining)
        }
    case (_, 1):
        let repeated = Vector(repeating: a.pointee)
        while index + width <= length {
            storeVector(kernel(repeated, loadVector(b + index)), destination + index)
            index += width
        }
        if index < length {
            let remaining = length - index
            storePartialVector(kernel(repeated, loadPartialVector(b + index, count: remaining)),
                               destination + index, count: remaining)
        }
    default:
        let value = kernel(Vector(repeating: a.pointee), Vector(repeating: b.pointee))[0]
        destination.update(repeating: value, count: length)
    }
}

/// Shapes and strides of a broadcasting binary operation, with adjacent axes merged where
/// both operands are contiguous across them (so `[B, T, C] + [C]` runs as `[B·T, C]`).
struct BroadcastPlan {
    /// NumPy broadcasting of the two shapes.
    let outputShape: [Int]
    /// Merged axes, outermost first; extents exclude 1s.
    private(set) var extents: [Int] = []
    private(set) var stridesA: [Int] = []
    private(set) var stridesB: [Int] = []

    init(_ shapeA: [Int], _ shapeB: [Int]) {
        let rank = max(shapeA.count, shapeB.count)
        let paddedA = Array(repeating: 1, count: rank - shapeA.count) + shapeA
        let paddedB = Array(repeating: 1, count: rank - shapeB.count) + shapeB
        var output = [Int](repeating: 1, count: rank)
        for axis in 0..<rank {
            let a = paddedA[axis], b = paddedB[axis]
            precondition(a == b || a == 1 || b == 1, "shapes \(shapeA) and \(shapeB) do not broadcast")
            output[axis] = a == 1 ? b : a
        }
        outputShape = output
        var strideA = 1, strideB = 1
        // Innermost first, then reversed.
        var mergedExtents: [Int] = [], mergedA: [Int] = [], mergedB: [Int] = []
        for axis in stride(from: rank - 1, through: 0, by: -1) where output[axis] != 1 {
            let stepA = paddedA[axis] == 1 ? 0 : strideA
            let stepB = paddedB[axis] == 1 ? 0 : strideB
            if let lastExtent = mergedExtents.last,
               stepA == mergedA.last! * lastExtent, stepB == mergedB.last! * lastExtent {
                mergedExtents[mergedExtents.count - 1] *= output[axis]
            } else {
                mergedExtents.append(output[axis]); mergedA.append(stepA); mergedB.append(stepB)
            }
            strideA *= paddedA[axis]; strideB *= paddedB[axis]
        }
        extents = mergedExtents.reversed()
        stridesA = mergedA.reversed()
        stridesB = mergedB.reversed()
    }

    /// Runs `kernel` over the output; `destination` may alias `a` when `a` has the output shape.
    func run<Kernel: BinaryKernel>(
        _ kernel: Kernel, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ destination: UnsafeMutablePointer<Float>
    ) {
        let minimumChunk = 1 << 15
        guard let length = extents.last else {
            // Every extent is 1: a single element (or none when the output is empty).
            if outputShape.allSatisfy({ $0 != 0 }) { applyBinaryRun(kernel, a, strideA: 1, b, strideB: 1, destination, length: 1) }
            return
        }
        let innerA = stridesA.last!, innerB = stridesB.last!
        if extents.count == 1 {
            Parallel.forEachChunk(count: length, minimumChunk: minimumChunk) { range in
                applyBinaryRun(kernel, a + range.lowerBound * innerA, strideA: innerA,
                               b + range.lowerBound * innerB, strideB: innerB,
                               destination + range.lowerBound, length: range.count)
            }
            return
        }
        let outerExtents = Array(extents.dropLast())
        let rows = outerExtents.reduce(1, *)
        Parallel.forEachChunk(count: rows, minimumChunk: max(1, minimumChunk / length)) { range in
            // Odometer over the outer axes, started at the first row of this chunk.
            var index = [Int](repeating: 0, count: outerExtents.count)
            var remainder = range.lowerBound
            for axis in stride(from: outerExtents.count - 1, through: 0, by: -1) {
                index[axis] = remainder % outerExtents[axis]
                remainder /= outerExtents[axis]
            }
            var offsetA = 0, offsetB = 0
            for axis in 0..<outerExtents.count {
                offsetA += index[axis] * stridesA[axis]; offsetB += index[axis] * stridesB[axis]
            }
            for row in range {
                applyBinaryRun(kernel, a + offsetA, strideA: innerA, b + offsetB, strideB: innerB,
                               destination + row * length, length: length)
                var axis = outerExtents.count - 1
                while axis >= 0 {
                    index[axis] += 1; offsetA += stridesA[axis]; offsetB += stridesB[axis]
                    if index[axis] < outerExtents[axis] { break }
                    offsetA -= stridesA[axis] * outerExtents[axis]; offsetB -= stridesB[axis] * outerExtents[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}
