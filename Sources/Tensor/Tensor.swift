/// A Float32 tensor: row-major contiguous storage with value semantics (copy-on-write).
///
/// Copies share storage until one of them is mutated. A tensor can also wrap memory it does not
/// own, such as the data section of a memory-mapped safetensors file; such storage is read-only
/// and the first mutation copies it.
///
/// Shapes are written beside tensors in comments, e.g. `// [B, T, C]`. A tensor of shape `[]`
/// is a scalar with one element.
public struct Tensor: Sendable {
    /// The extent of each axis, outermost first, e.g. `[B, T, C]`.
    ///
    /// Assigning a new shape reshapes in place; the element count must not change.
    public var shape: [Int] {
        didSet {
            precondition(Tensor.elementCount(of: shape) == storage.count,
                         "cannot reshape \(oldValue) (\(storage.count) elements) to \(shape)")
        }
    }

    /// The memory; shared between copies until one is mutated.
    var storage: TensorStorage

    /// Number of elements: the product of `shape`.
    public var count: Int { storage.count }

    /// Number of axes (`shape.count`).
    public var rank: Int { shape.count }

    /// A tensor with the given shape and elements in row-major order.
    ///
    /// - Precondition: `scalars.count` equals the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        let expected = Tensor.elementCount(of: shape)
        precondition(scalars.count == expected,
                     "shape \(shape) needs \(expected) scalars, got \(scalars.count)")
        self.shape = shape
        self.storage = scalars.withUnsafeBufferPointer { TensorStorage(copying: $0) }
    }

    /// A tensor of zeros with the given shape.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, repeating: 0)
    }

    /// A tensor with every element equal to `value`.
    public init(shape: [Int], repeating value: Float) {
        self.shape = shape
        self.storage = TensorStorage(count: Tensor.elementCount(of: shape), repeating: value)
    }

    /// A tensor of the given shape whose elements `body` writes in place, avoiding the
    /// intermediate `[Float]` of `init(shape:scalars:)` (e.g. when decoding an image).
    ///
    /// The buffer starts as zeros.
    /// - Throws: whatever `body` throws.
    public init(shape: [Int], initializingWith body: (inout UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        self.init(zeros: shape)
        try withUnsafeMutableBufferPointer(body)
    }

    /// A tensor whose elements are not yet written; callers must write every element.
    init(uninitializedShape shape: [Int]) {
        self.shape = shape
        self.storage = TensorStorage(uninitializedCount: Tensor.elementCount(of: shape))
    }

    /// A tensor over existing storage.
    init(shape: [Int], storage: TensorStorage) {
        precondition(Tensor.elementCount(of: shape) == storage.count,
                     "shape \(shape) does not match \(storage.count) elements")
        self.shape = shape
        self.storage = storage
    }

    /// The elements in row-major order, copied out.
    /// - Complexity: O(count).
    public var scalars: [Float] {
        withUnsafeBufferPointer { Array($0) }
    }

    /// Whether this tensor reads memory it does not own (for example a memory-mapped file).
    ///
    /// Such a tensor costs no heap memory until it is mutated, which copies it.
    public var isBorrowingMemory: Bool { !storage.isWritable }

    /// Calls `body` with the elements in row-major order.
    public func withUnsafeBufferPointer<R>(
        _ body: (UnsafeBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base, count: storage.count))
    }

    /// Calls `body` with writable access to the elements in row-major order.
    ///
    /// Copies the storage first when it is shared with another tensor or read-only.
    /// - Precondition: `body` must not replace the buffer with another one.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUniqueAndWritable()
        var buffer = UnsafeMutableBufferPointer(start: storage.base, count: storage.count)
        let original = buffer
        defer {
            precondition(buffer.baseAddress == original.baseAddress && buffer.count == original.count,
                         "withUnsafeMutableBufferPointer: the buffer must not be replaced")
        }
        return try body(&buffer)
    }

    /// The element at `indices` (one index per axis).
    ///
    /// Meant for tests and small lookups; bulk work should use the buffer accessors.
    public subscript(_ indices: Int...) -> Float {
        get { storage.base[flatIndex(indices)] }
        set {
            let index = flatIndex(indices)
            makeUniqueAndWritable()
            storage.base[index] = newValue
        }
    }

    /// The same elements viewed with another shape, without copying.
    ///
    /// One axis may be `-1`; it is inferred from the element count.
    /// - Precondition: the shapes have the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            precondition(newShape.filter { $0 == -1 }.count == 1, "at most one -1 in \(newShape)")
            let known = newShape.enumerated().reduce(1) { $1.offset == inferred ? $0 : $0 * $1.element }
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            resolved[inferred] = count / known
        }
        precondition(Tensor.elementCount(of: resolved) == count,
                     "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        return Tensor(shape: resolved, storage: storage)
    }

    /// Copies the storage if it is shared or read-only, so that writing cannot be observed by
    /// any other tensor.
    mutating func makeUniqueAndWritable() {
        if !isKnownUniquelyReferenced(&storage) || !storage.isWritable {
            storage = storage.copy()
        }
    }

    /// Writable pointer to the first element, after making the storage unique.
    mutating func mutableBase() -> UnsafeMutablePointer<Float> {
        makeUniqueAndWritable()
        return storage.base
    }

    /// Row-major offset of `indices`.
    private func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "\(indices.count) indices for shape \(shape)")
        var offset = 0
        for (index, extent) in zip(indices, shape) {
            precondition(index >= 0 && index < extent, "index \(indices) out of range for shape \(shape)")
            offset = offset * extent + index
        }
        return offset
    }

    /// The product of `shape`; every extent must be non-negative.
    static func elementCount(of shape: [Int]) -> Int {
        var product = 1
        for extent in shape {
            precondition(extent >= 0, "negative extent in shape \(shape)")
            product *= extent
        }
        return product
    }
}

extension Tensor: Equatable {
    /// Same shape and numerically equal elements (so `-0 == 0`, and NaN never equals NaN).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.shape == rhs.shape else { return false }
        if lhs.storage === rhs.storage { return !lhs.scalars.contains { $0.isNaN } }
        return lhs.withUnsafeBufferPointer { a in
            rhs.withUnsafeBufferPointer { b in a.elementsEqual(b) }
        }
    }
}

extension Tensor: CustomStringConvertible {
    /// Shape and the first few elements, for debugging.
    public var description: String {
        let preview = withUnsafeBufferPointer { $0.prefix(8).map { "\($0)" } }
        let more = count > 8 ? ", …" : ""
        return "Tensor(shape: \(shape), [\(preview.joined(separator: ", "))\(more)])"
    }
}
