import Foundation

/// A shared "please stop" flag: set by Ctrl-C, polled by the scheduler and by long-running stages.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    /// Creates an unset flag.
    public init() {}

    /// Sets the flag.
    public func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
    }

    /// Whether the flag is set.
    public var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }

    /// Throws `CancellationError` when the flag is set; long loops in stage runners call this.
    public func check() throws {
        if isCancelled { throw CancellationError() }
    }
}

/// The self-pipe a SIGINT handler writes to: `write` is async-signal-safe, Swift code is not, so
/// the handler only writes a byte and a dispatch source reads it on an ordinary thread.
/// A process-wide constant (created before any handler is installed, so the handler never
/// triggers its lazy initialisation).
private let interruptPipe: (read: Int32, write: Int32) = {
    var descriptors: [Int32] = [0, 0]
    guard pipe(&descriptors) == 0 else { return (-1, -1) }
    _ = fcntl(descriptors[1], F_SETFL, O_NONBLOCK)
    return (descriptors[0], descriptors[1])
}()

/// Turns SIGINT (Ctrl-C) into a cancellation: the first stops launching stages and asks running
/// ones to stop (their temporary folders are discarded); a second exits at once with status 130
/// (what is committed stays valid, the next run resumes).
///
/// A dispatch signal source would be simpler, but on Linux it needs the signal blocked in every
/// thread rather than ignored, so a classic handler with a self-pipe is used on every platform.
public final class InterruptHandler: @unchecked Sendable {
    private let source: DispatchSourceRead?
    private let lock = NSLock()
    private var count = 0

    /// Installs the handler; it stays installed until the returned object is released.
    /// - Parameter flag: the flag to set on the first interrupt.
    public init(flag: CancellationFlag) {
        let descriptors = interruptPipe
        guard descriptors.read >= 0 else {
            source = nil
            return
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptors.read, queue: .global())
        self.source = source
        source.setEventHandler { [weak self] in
            var buffer = [UInt8](repeating: 0, count: 16)
            let received = read(descriptors.read, &buffer, buffer.count)
            guard received > 0, let self else { return }
            self.lock.lock()
            self.count += received
            let interrupts = self.count
            self.lock.unlock()
            if interrupts == 1 {
                FileHandle.standardError.write(Data("\ninterrupted: stopping after running stages end (Ctrl-C again to quit now)\n".utf8))
                flag.cancel()
            } else {
                _exit(130)
            }
        }
        source.resume()
        signal(SIGINT) { _ in
            var byte: UInt8 = 1
            _ = write(interruptPipe.write, &byte, 1)
        }
    }

    deinit {
        signal(SIGINT, SIG_DFL)
        source?.cancel()
    }
}
