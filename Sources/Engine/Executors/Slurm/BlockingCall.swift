import Dispatch
import Synchronization

/// Runs an async call to completion from a thread that may block (the Slurm driver's own
/// thread, never a thread of Swift's cooperative pool).
///
/// The Slurm client is async (its commands resume through `Process`'s termination handler);
/// the driver's loop is plain sequential code on a dedicated thread, as the scheduler's workers
/// are, so it waits here.
func blockingCall<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) throws -> Value {
    let result = Mutex<Result<Value, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        let outcome: Result<Value, any Error>
        do {
            outcome = .success(try await body())
        } catch {
            outcome = .failure(error)
        }
        result.withLock { $0 = outcome }
        done.signal()
    }
    done.wait()
    return try result.withLock { $0! }.get()
}
