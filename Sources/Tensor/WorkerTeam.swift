import Dispatch
import Foundation
import Synchronization

/// A fixed group of threads that run one closure together, for work cut into many short
/// fork–join phases.
///
/// A probe's training step is about a dozen GEMMs of 30–250 µs each. Starting a
/// `DispatchQueue.concurrentPerform` round costs about 70 µs on the 2-core machines we measure
/// on (the second thread has to be woken), as much as the work; here the helper threads spin on
/// an atomic counter between phases, so a phase costs ~4 µs. A helper that has waited a while
/// (~50 µs of spinning and yielding) parks on a semaphore, so an idle team costs no CPU.
///
/// The calling thread is member 0 and works too; `size − 1` helper threads are started at
/// creation and stopped when the team is released. One caller at a time: `run` is not reentrant
/// and must not be called from two threads at once.
public final class WorkerTeam: @unchecked Sendable {
    /// Number of members, the caller included.
    public let size: Int
    private let state: State

    /// Starts `size − 1` helper threads.
    /// - Precondition: `size >= 1`.
    public init(size: Int) {
        precondition(size >= 1, "a team needs at least one member")
        self.size = size
        state = State(helpers: size - 1)
        for helper in 1..<max(size, 1) {
            let state = self.state
            let thread = Thread { state.helperLoop(member: helper) }
            thread.name = "xrbench-team-\(helper)"
            thread.start()
        }
    }

    deinit {
        state.stop()
    }

    /// Calls `body(member)` once for every member `0..<size` concurrently (member 0 on the
    /// calling thread) and returns when all calls have returned. `body` may only write memory
    /// that no other member reads or writes during the same call; the caller promises this, as
    /// with `Parallel.forEachChunk`.
    public func run(_ body: (Int) -> Void) {
        guard size > 1 else {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { body in
            state.job = body
            let target = state.finished.load(ordering: .relaxed) + (size - 1)
            state.publish()
            body(0)
            state.waitForHelpers(finishedCount: target)
            state.job = nil
        }
    }

    /// Shared between the owner and the helper threads (which must not keep the team alive).
    private final class State: @unchecked Sendable {
        /// Bumped once per `run` (and once more to stop); helpers run the job when it changes.
        let generation = Atomic<Int>(0)
        /// Helper calls finished so far, over the team's life.
        let finished = Atomic<Int>(0)
        let stopping = Atomic<Bool>(false)
        /// Per helper: whether it is parked (or about to park), and its semaphore.
        final class Parking: Sendable {
            let parked = Atomic<Bool>(false)
            let wakeup = DispatchSemaphore(value: 0)
        }
        let parking: [Parking]
        /// Written by the owner before `generation` is bumped, read by helpers after.
        var job: ((Int) -> Void)?

        init(helpers: Int) {
            parking = (0..<helpers).map { _ in Parking() }
        }

        /// Announces a new job and wakes parked helpers.
        func publish() {
            generation.add(1, ordering: .sequentiallyConsistent)
            for helper in parking where helper.parked.exchange(false, ordering: .sequentiallyConsistent) {
                helper.wakeup.signal()
            }
        }

        func stop() {
            stopping.store(true, ordering: .sequentiallyConsistent)
            publish()
        }

        func waitForHelpers(finishedCount target: Int) {
            var spins = 0
            while finished.load(ordering: .acquiring) < target {
                spins += 1
                if spins > 4096 { sched_yield() }
            }
        }

        func helperLoop(member: Int) {
            let parking = parking[member - 1]
            var seen = 0
            while true {
                var spins = 0
                while generation.load(ordering: .acquiring) == seen {
                    spins += 1
                    if spins < 20_000 { continue }
                    if spins < 22_000 {
                        sched_yield()
                        continue
                    }
                    // Park. The owner bumps `generation` before it looks at `parked`, and we set
                    // `parked` before we look at `generation` (both sequentially consistent), so
                    // either we see the new generation or the owner sees us parked and signals.
                    parking.parked.store(true, ordering: .sequentiallyConsistent)
                    if generation.load(ordering: .sequentiallyConsistent) == seen {
                        parking.wakeup.wait()
                    } else if !parking.parked.exchange(false, ordering: .sequentiallyConsistent) {
                        // The owner already took our flag and will signal: consume it.
                        parking.wakeup.wait()
                    }
                    spins = 0
                }
                seen = generation.load(ordering: .acquiring)
                if stopping.load(ordering: .acquiring) { return }
                job?(member)
                finished.add(1, ordering: .releasing)
            }
        }
    }
}
