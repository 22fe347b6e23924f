// Broadcasting arithmetic. Broadcasting follows NumPy: shapes are aligned at the trailing axis
// and an extent of 1 stretches to the other operand's, e.g. `[B, T, C] + [C]`, `[B, T, C] * [B, T, 1]`.

struct AddKernel: BinaryKernel {
    @inline(__always) func callAsFunction(_ a: Vector, _ b: Vector) -> Vector { a + b }
}
struct SubtractKernel: BinaryKernel {
    @inline(__always) func callAsFunction(_ a: Vector, _ b: Vector) -> Vector { a - b }
}
struct MultiplyKernel: BinaryKernel {
    @inline(__always) func callAsFunction(_ a: Vector, _ b: Vector) -> Vector { a * b }
}
struct DivideKernel: BinaryKernel {
    @inline(__always) func callAsFunction(_ a: Vector, _ b: Vector) -> Vector { a / b }
}

extension Tensor {
    /// A new tensor `kernel(lhs, rhs)` with broadcasting.
    static func broadcasting<Kernel: BinaryKernel>(_ kernel: Kernel, _ lhs: Tensor, _ rhs: Tensor) -> Tensor {
        let plan = BroadcastPlan(lhs.shape, rhs.shape)
        var output = Tensor(uninitializedShape: plan.outputShape)
        let destination = output.mutableBase()
        lhs.withUnsafeBufferPointer { a in
            rhs.withUnsafeBufferPointer { b in
                plan.run(kernel, a.baseAddress!, b.baseAddress!, destination)
            }
        }
        return output
    }

    /// `self = kernel(self, other)` with `other` broadcast to `self`'s shape, without allocating
    /// (unless `self` shares its storage).
    mutating func formBroadcasting<Kernel: BinaryKernel>(_ kernel: Kernel, _ other: Tensor) {
        let plan = BroadcastPlan(shape, other.shape)
        precondition(plan.outputShape == shape,
                     "in-place operand \(other.shape) must broadcast to \(shape) without growing it")
        let destination = mutableBase()
        other.withUnsafeBufferPointer { b in
            plan.run(kernel, UnsafePointer(destination), b.baseAddress!, destination)
        }
    }

    /// Element-wise sum with broadcasting.
    /// - Precondition: the shapes broadcast.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(AddKernel(), lhs, rhs) }

    /// Element-wise difference with broadcasting.
    /// - Precondition: the shapes broadcast.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(SubtractKernel(), lhs, rhs) }

    /// Element-wise product with broadcasting.
    /// - Precondition: the shapes broadcast.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(MultiplyKernel(), lhs, rhs) }

    /// Element-wise quotient with broadcasting.
    /// - Precondition: the shapes broadcast.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(DivideKernel(), lhs, rhs) }

    /// Adds `other` (broadcast to this shape) in place, e.g. a residual `[T, C]` or a bias `[C]`.
    /// - Precondition: `other` broadcasts to `shape` without changing it.
    public mutating func addInPlace(_ other: Tensor) { formBroadcasting(AddKernel(), other) }

    /// Subtracts `other` (broadcast to this shape) in place.
    /// - Precondition: `other` broadcasts to `shape` without changing it.
    public mutating func subtractInPlace(_ other: Tensor) { formBroadcasting(SubtractKernel(), other) }

    /// Multiplies by `other` (broadcast to this shape) in place, e.g. a LayerScale `[C]`.
    /// - Precondition: `other` broadcasts to `shape` without changing it.
    public mutating func multiplyInPlace(_ other: Tensor) { formBroadcasting(MultiplyKernel(), other) }

    /// Divides by `other` (broadcast to this shape) in place.
    /// - Precondition: `other` broadcasts to `shape` without changing it.
    public mutating func divideInPlace(_ other: Tensor) { formBroadcasting(DivideKernel(), other) }

    /// `lhs.addInPlace(rhs)`.
    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs.addInPlace(rhs) }

    /// `lhs.subtractInPlace(rhs)`.
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs.subtractInPlace(rhs) }

    /// `lhs.multiplyInPlace(rhs)`.
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs.multiplyInPlace(rhs) }

    /// Every element multiplied by `factor`.
    public func scaled(by factor: Float) -> Tensor {
        var result = self
        result.scaleInPlace(by: factor)
        return result
    }

    /// Multiplies every element by `factor` in place.
    public mutating func scaleInPlace(by factor: Float) {
        mapInPlace(ScaleKernel(factor: factor))
    }

    /// Every element plus `value`.
    public func adding(_ value: Float) -> Tensor {
        var result = self
        result.mapInPlace(OffsetKernel(offset: value))
        return result
    }

    /// A new tensor with `kernel` applied to every element.
    func mapped<Kernel: UnaryKernel>(_ kernel: Kernel) -> Tensor {
        var output = Tensor(uninitializedShape: shape)
        let destination = output.mutableBase()
        withUnsafeBufferPointer { source in
            applyUnary(kernel, source: source.baseAddress!, destination: destination, count: count)
        }
        return output
    }

    /// Applies `kernel` to every element in place.
    mutating func mapInPlace<Kernel: UnaryKernel>(_ kernel: Kernel) {
        let destination = mutableBase()
        applyUnary(kernel, source: destination, destination: destination, count: count)
    }
}

struct ScaleKernel: UnaryKernel {
    let factor: Float
    var minimumChunk: Int { 1 << 15 }
    @inline(__always) func callAsFunction(_ x: Vector) -> Vector { x * factor }
}

struct OffsetKernel: UnaryKernel {
    let offset: Float
    var minimumChunk: Int { 1 << 15 }
    @inline(__always) func callAsFunction(_ x: Vector) -> Vector { x + offset }
}
