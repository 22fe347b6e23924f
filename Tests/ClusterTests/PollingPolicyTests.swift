import Cluster
import Testing

@Suite struct PollingPolicyTests {
    @Test func backoffGrowsWhileNothingChangesAndResetsOnChange() {
        var backoff = PollBackoff(initial: .seconds(10), maximum: .seconds(180), factor: 1.5)
        var waits: [Duration] = []
        for _ in 0..<9 { waits.append(backoff.next(sawChange: false)) }
        #expect(waits == [15_000, 22_500, 33_750, 50_625, 75_938, 113_907, 170_861, 180_000, 180_000].map { .milliseconds($0) })
        #expect(backoff.next(sawChange: true) == .seconds(10))
        #expect(backoff.next(sawChange: false) == .seconds(15))
    }

    @Test func rateLimitAllowsABurstThenSpacesCommands() {
        var limit = CommandRateLimit(burst: 2, perSecond: 1)
        let start = ContinuousClock.now
        #expect(limit.reserve(at: start) == .zero)
        #expect(limit.reserve(at: start) == .zero)
        // The third and fourth wait for refills, queued one second apart.
        #expect(limit.reserve(at: start) == .seconds(1))
        #expect(limit.reserve(at: start) == .seconds(2))
        // Long after, the bucket is full again, but never fuller than the burst.
        let later = start + .seconds(60)
        #expect(limit.reserve(at: later) == .zero)
        #expect(limit.reserve(at: later) == .zero)
        #expect(limit.reserve(at: later) == .seconds(1))
    }

    @Test func rateLimitedRunnerWaitsForItsToken() async throws {
        let replay = ReplayRunner(["true": CommandOutput(status: 0, standardOutput: "", standardError: "")])
        let runner = RateLimitedRunner(replay, limit: CommandRateLimit(burst: 1, perSecond: 20))
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            for _ in 0..<3 { _ = try await runner.run(CommandInvocation("true", [])) }
        }
        // One free token, then two waits of 50 ms.
        #expect(elapsed >= .milliseconds(95))
        #expect(replay.invocations.count == 3)
    }
}
