import Dispatch
import Synchronization
import Testing
@testable import Tensor

/// OpenBLAS's process-wide thread count has one owner, `BLASBackend`, and one policy: 1 while any
/// `withSingleThreadedCalls` body runs, `defaultThreadCount` otherwise. The policy is checked on
/// its own instances, whose count is a recorder: the real one is shared with every suite that
/// runs at the same time (a ViT forward's body holds it at 1).
@Suite struct BLASThreadCountTests {
    /// A stand-in for OpenBLAS's count, as the policy sets it.
    final class RecordedCount: Sendable {
        let value: Mutex<Int>
        init(_ value: Int) { self.value = Mutex(value) }
        var current: Int { value.withLock { $0 } }
        func policy() -> ThreadCountPolicy {
            ThreadCountPolicy(defaultCount: current) { count in self.value.withLock { $0 = count } }
        }
    }

    /// A retrieval lowering the default while a probe's single-threaded body runs: when the body
    /// ends, the count must stay lowered. With two owners (the engine writing the count without
    /// a lock, bodies saving and restoring it) the body restored the 2 it found on entry, and the
    /// retrieval's GEMMs ran on OpenBLAS's spinning pool beside the other stages.
    @Test func aDefaultLoweredDuringABodyHolds() {
        let count = RecordedCount(2)
        let policy = count.policy()
        policy.withSingleThreadedCalls {
            #expect(count.current == 1)
            DispatchQueue.global().sync { policy.defaultCount = 1 }
            #expect(count.current == 1)
        }
        #expect(count.current == 1)
        #expect(policy.defaultCount == 1)
    }

    /// A default raised while bodies run waits for the last of them to end.
    @Test func aDefaultRaisedDuringABodyWaitsForTheLastBody() {
        let count = RecordedCount(1)
        let policy = count.policy()
        policy.withSingleThreadedCalls {
            policy.withSingleThreadedCalls { policy.defaultCount = 3 }
            #expect(count.current == 1, "an outer body is still running")
        }
        #expect(count.current == 3)
        policy.defaultCount = 2
        #expect(count.current == 2, "no body runs: the default applies at once")
    }

    /// Bodies on several threads while another thread keeps changing the default: every body
    /// sees one thread, and the count ends at the last default. (An unlocked write of the
    /// default, as the engine did, raises the count under running bodies.)
    @Test func concurrentBodiesAndDefaultChangesKeepThePolicy() {
        let count = RecordedCount(2)
        let policy = count.policy()
        let wrongCounts = Mutex(0)
        let bodyWorkersDone = Atomic(0)
        DispatchQueue.concurrentPerform(iterations: 3) { worker in
            if worker == 0 {
                // Keeps changing the default until the bodies are done.
                var round = 0
                while bodyWorkersDone.load(ordering: .acquiring) < 2 {
                    policy.defaultCount = 2 + round % 2
                    round += 1
                }
            } else {
                for _ in 0..<5_000 {
                    policy.withSingleThreadedCalls {
                        for _ in 0..<3 where count.current != 1 { wrongCounts.withLock { $0 += 1 } }
                    }
                }
                bodyWorkersDone.add(1, ordering: .releasing)
            }
        }
        policy.defaultCount = 4
        #expect(wrongCounts.withLock { $0 } == 0, "bodies saw more than one thread")
        #expect(count.current == 4)
    }

    /// The real count: 1 inside a body, whatever else runs.
    @Test func openBLASRunsOneThreadInsideABody() {
        BLASBackend.withSingleThreadedCalls {
            #expect(BLASBackend.threadCount == 1)
        }
        #expect(BLASBackend.defaultThreadCount >= 1)
    }
}
