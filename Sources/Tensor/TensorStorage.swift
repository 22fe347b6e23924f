/// The memory behind one or more `Tensor` values.
///
/// Either owns a 64-byte-aligned allocation (writable) or wraps memory owned by someone else,
/// such as a memory-mapped file (read-only: the first mutation copies it out). `Tensor` copies
/// a storage before writing whenever it is shared or read-only, so a storage that is written is
/// only ever reachable from one value; that is what makes the unchecked `Sendable` sound.
final class TensorStorage: @unchecked Sendable {
    /// The first element.
    let base: UnsafeMutablePointer<Float>
    /// Number of elements.
    let count: Int
    /// Whether writing through `base` is allowed (false for wrapped, e.g. mapped, memory).
    let isWritable: Bool
    /// Keeps wrapped memory alive; `nil` when this storage owns `base`.
    private let owner: AnyObject?

    /// Allocates `count` elements; their contents are unspecified until written.
    init(uninitializedCount count: Int) {
        precondition(count >= 0, "negative element count \(count)")
        // 64-byte alignment: one cache line, and aligned for every SIMD width we use.
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        self.base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.count = count
        self.isWritable = true
        self.owner = nil
    }

    /// Allocates `count` elements, all set to `value`.
    convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: value, count: count)
    }

    /// Allocates a copy of `source`.
    convenience init(copying source: UnsafeBufferPointer<Float>) {
        self.init(uninitializedCount: source.count)
        if let address = source.baseAddress {
            base.update(from: address, count: source.count)
        }
    }

    /// Wraps `count` elements at `base` without copying; `owner` must keep them valid and
    /// unchanged for its lifetime. The memory is treated as read-only.
    init(wrapping base: UnsafePointer<Float>, count: Int, owner: AnyObject) {
        self.base = UnsafeMutablePointer(mutating: base)
        self.count = count
        self.isWritable = false
        self.owner = owner
    }

    /// A fresh writable copy.
    func copy() -> TensorStorage {
        TensorStorage(copying: UnsafeBufferPointer(start: base, count: count))
    }

    deinit {
        if owner == nil {
            UnsafeMutableRawPointer(base).deallocate()
        }
    }
}
