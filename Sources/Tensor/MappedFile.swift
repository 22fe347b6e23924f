import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory; unmapped when the last reference goes.
///
/// Tensors that borrow from the mapping keep it alive. The file must not be truncated while
/// mapped (reading a page past the new end raises SIGBUS); safetensors files are written
/// once and then only read, and writers here replace files by renaming, which leaves an
/// existing mapping intact.
public final class MappedFile: @unchecked Sendable {
    /// The first byte; `nil` for an empty file.
    let bytes: UnsafeRawPointer?
    /// Length in bytes.
    public let size: Int

    /// Maps the file at `url`.
    /// - Throws: `TensorFileError` (`.inputOutput`) when it cannot be opened or mapped.
    public init(url: URL) throws {
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else {
            throw TensorFileError(file: url, kind: .inputOutput("cannot open: \(String(cString: strerror(errno)))"))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw TensorFileError(file: url, kind: .inputOutput("cannot stat: \(String(cString: strerror(errno)))"))
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw TensorFileError(file: url, kind: .inputOutput("not a regular file"))
        }
        size = Int(status.st_size)
        if size == 0 {
            bytes = nil
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != MAP_FAILED else {
            throw TensorFileError(file: url, kind: .inputOutput("cannot map into memory: \(String(cString: strerror(errno)))"))
        }
        bytes = UnsafeRawPointer(address)
    }

    deinit {
        if let bytes { munmap(UnsafeMutableRawPointer(mutating: bytes), size) }
    }

    /// Gives the pages around `range` back to the kernel: they leave the process's resident
    /// set (the page cache keeps them), and a later read maps them again from the file. What a
    /// reader that copies rows out calls, so a pass over a large file does not stay resident.
    /// Safe while tensors borrow from the mapping: it is read-only and the file does not change.
    ///
    /// A read fault maps the cached pages around it too (Linux's fault-around, 64 KiB by
    /// default, aligned in the address space), so the whole aligned window is released, not
    /// only the pages of `range`.
    public func release(_ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "range \(range) outside \(size)-byte file")
        guard let bytes, !range.isEmpty else { return }
        let window = 64 << 10
        let base = UInt(bitPattern: bytes), end = base + UInt(size)
        let first = max(base, (base + UInt(range.lowerBound)) / UInt(window) * UInt(window))
        let last = min(end, (base + UInt(range.upperBound) + UInt(window) - 1) / UInt(window) * UInt(window))
        _ = madvise(UnsafeMutableRawPointer(bitPattern: first), Int(last - first), Int32(MADV_DONTNEED))
    }

    /// Runs `body` with the whole file as `Data` that borrows the mapping (no copy); the `Data`
    /// must not outlive `body`.
    public func withData<Result>(_ body: (Data) throws -> Result) rethrows -> Result {
        guard let bytes else { return try body(Data()) }
        return try withExtendedLifetime(self) {
            try body(Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: bytes), count: size, deallocator: .none))
        }
    }

    /// The bytes in `range` (which must lie within the file).
    func buffer(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "range \(range) outside \(size)-byte file")
        guard let bytes else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: bytes + range.lowerBound, count: range.count)
    }
}
