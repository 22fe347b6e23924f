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

/// Turns SIGINT (Ctrl-C) into a cancellation: the first stops launching stages and asks running
/// ones to stop (their temporary folders are discarded); a second exits at once with status 130
/// (what is committed stays valid, the next run resumes).
public final class InterruptHandler: @unchecked Sendable {
    private let source: DispatchSourceSignal
    private let lock = NSLock()
    private var count = 0

    /// Installs the handler; it stays installed until the returned object is released.
    /// - Parameter flag: the flag to set on the first interrupt.
    public init(flag: CancellationFlag) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [lock] in
            lock.lock()
            self.count += 1
            let interrupts = self.count
            lock.unlock()
            if interrupts == 1 {
                FileHandle.standardError.write(Data("\ninterrupted: stopping after running stages end (Ctrl-C again to quit now)\n".utf8))
                flag.cancel()
            } else {
                _exit(130)
            }
        }
        source.resume()
    }

    deinit {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
