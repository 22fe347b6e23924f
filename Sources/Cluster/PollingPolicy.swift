import Synchronization

/// How long to wait between status polls: short while tasks are changing state, growing
/// geometrically to a ceiling while nothing changes, so a long run costs the controller a query
/// every few minutes rather than every few seconds.
public struct PollBackoff: Sendable, Hashable {
    public let initial: Duration
    public let maximum: Duration
    public let factor: Double
    /// The wait the last call returned.
    public private(set) var current: Duration

    /// - Precondition: `initial > 0`, `maximum >= initial`, `factor >= 1`.
    public init(initial: Duration = .seconds(10), maximum: Duration = .seconds(180), factor: Double = 1.5) {
        precondition(initial > .zero && maximum >= initial && factor >= 1, "need 0 < initial <= maximum and factor >= 1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.current = initial
    }

    /// The wait before the next poll.
    /// - Parameter sawChange: whether the poll just made saw any task change state; a change
    ///   brings the wait back to `initial`, none multiplies it by `factor` (up to `maximum`).
    public mutating func next(sawChange: Bool) -> Duration {
        // Whole milliseconds, so that repeated growth does not accumulate rounding.
        let (seconds, attoseconds) = current.components
        let milliseconds = (Double(seconds) * 1000 + Double(attoseconds) / 1e15) * factor
        current = sawChange ? initial : min(maximum, .milliseconds(Int64(milliseconds.rounded())))
        return current
    }
}

/// A token bucket over every Slurm command a process issues: `burst` commands at once, then
/// `perSecond` on average (by default 10, then one a second: a driver that polls once per cycle
/// and submits a few arrays at a time never waits, a runaway loop cannot flood the controller).
/// Time is passed in, so the policy is tested without waiting.
public struct CommandRateLimit: Sendable, Hashable {
    public let burst: Double
    public let perSecond: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant?

    /// - Precondition: `burst >= 1`, `perSecond > 0`.
    public init(burst: Int = 10, perSecond: Double = 1) {
        precondition(burst >= 1 && perSecond > 0, "need burst >= 1 and perSecond > 0")
        self.burst = Double(burst)
        self.perSecond = perSecond
        self.tokens = Double(burst)
    }

    /// Takes one token for a command that wants to start at `now`, and returns how long it must
    /// wait first (zero when a token is free). Reservations queue: several callers at once get
    /// increasing waits.
    public mutating func reserve(at now: ContinuousClock.Instant) -> Duration {
        if let last {
            let elapsed = Self.seconds(now - last)
            tokens = min(burst, tokens + max(0, elapsed) * perSecond)
        }
        last = now
        tokens -= 1
        return tokens >= 0 ? .zero : .seconds(-tokens / perSecond)
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}

/// A `CommandRunner` that passes every command through one shared `CommandRateLimit`.
public final class RateLimitedRunner: CommandRunner {
    private let base: any CommandRunner
    private let limit: Mutex<CommandRateLimit>

    public init(_ base: any CommandRunner, limit: CommandRateLimit = CommandRateLimit()) {
        self.base = base
        self.limit = Mutex(limit)
    }

    public func run(_ invocation: CommandInvocation) async throws -> CommandOutput {
        let wait = limit.withLock { $0.reserve(at: .now) }
        if wait > .zero { try await Task.sleep(for: wait) }
        return try await base.run(invocation)
    }
}
