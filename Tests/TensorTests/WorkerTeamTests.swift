import Foundation
import Testing
@testable import Tensor

@Suite struct WorkerTeamTests {
    /// Every member runs once per `run`, and `run` returns only after all of them finished: each
    /// member adds to its own slot, and the caller checks the sums after every run, including
    /// runs after pauses long enough for the helpers to park on their semaphores.
    @Test(arguments: [1, 2, 3])
    func everyMemberRunsOncePerRunAndRunWaitsForAll(size: Int) {
        let team = WorkerTeam(size: size)
        #expect(team.size == size)
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: size * 16)   // one cache line each
        slots.initialize(repeating: 0, count: size * 16)
        defer { slots.deallocate() }
        var mismatches = 0
        for round in 1...3_000 {
            if round % 500 == 0 { usleep(3_000) }   // let helpers park, then wake them
            team.run { member in
                // A little work, uneven across members, so finishing order varies.
                var sum = 0
                for index in 0..<(member * 200) { sum &+= index }
                slots[member * 16] += 1 + (sum & 0)
            }
            for member in 0..<size where slots[member * 16] != round { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    /// A team can be released while its helpers are parked or spinning, and new teams work after it.
    @Test func teamsComeAndGo() {
        for round in 0..<20 {
            let team = WorkerTeam(size: 2)
            var seen = [false, false]
            seen.withUnsafeMutableBufferPointer { seen in
                team.run { member in seen[member] = true }
            }
            #expect(seen == [true, true], "round \(round)")
            if round % 5 == 0 { usleep(2_000) }
        }
    }
}
