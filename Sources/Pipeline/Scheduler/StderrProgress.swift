import Foundation
import Synchronization

/// Progress on standard error: `[done/total] running: … ETA …`.
///
/// On a terminal it redraws one line; otherwise (logs, CI) it prints one line per finished stage
/// at most every `logInterval` seconds, plus every failure as it happens.
public final class StderrProgress: SchedulerObserver, Sendable {
    private struct State {
        var lastLine = Date.distantPast
        /// Whether the terminal's cursor sits at the end of a progress line (no newline yet).
        var lineOpen = false
    }

    private let state = Mutex(State())
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private let logInterval: TimeInterval

    /// Creates the display.
    /// - Parameter logInterval: seconds between lines when standard error is not a terminal.
    public init(logInterval: TimeInterval = 10) {
        self.logInterval = logInterval
    }

    /// Redraws when a stage starts.
    public func stageStarted(_ stage: Stage, snapshot: ProgressSnapshot) {
        draw(snapshot, force: false)
    }

    /// Prints failures at once; otherwise redraws.
    public func stageFinished(_ stage: Stage, outcome: StageOutcome, snapshot: ProgressSnapshot) {
        if case .failed(let message, _) = outcome {
            state.withLock { state in
                write((isTerminal ? "\r\u{1B}[K" : "") + "failed: \(stage.label) [\(stage.key.short)]: \(message)\n")
                state.lineOpen = false
            }
        }
        draw(snapshot, force: snapshot.finished == snapshot.total)
    }

    /// Redraws periodically.
    public func tick(_ snapshot: ProgressSnapshot) {
        draw(snapshot, force: false)
    }

    /// Ends an open progress line, so what the command prints next starts on a line of its own.
    public func finished() {
        state.withLock { state in
            if state.lineOpen { write("\n") }
            state.lineOpen = false
        }
    }

    /// The progress line for a snapshot.
    public static func line(_ snapshot: ProgressSnapshot) -> String {
        var text = "[\(snapshot.finished)/\(snapshot.total)]"
        if snapshot.failed > 0 { text += " \(snapshot.failed) failed" }
        if !snapshot.running.isEmpty {
            let shown = snapshot.running.prefix(3).joined(separator: ", ")
            text += " running: \(shown)" + (snapshot.running.count > 3 ? " +\(snapshot.running.count - 3) more" : "")
        }
        if let eta = snapshot.estimatedSecondsLeft { text += "  ETA \(formatSeconds(eta))" }
        return text
    }

    private func draw(_ snapshot: ProgressSnapshot, force: Bool) {
        state.withLock { state in
            let now = Date()
            if isTerminal {
                guard force || now.timeIntervalSince(state.lastLine) >= 0.2 else { return }
                let width = 160
                let line = Self.line(snapshot)
                write("\r\u{1B}[K" + String(line.prefix(width)) + (force ? "\n" : ""))
                state.lineOpen = !force
            } else {
                guard force || now.timeIntervalSince(state.lastLine) >= logInterval else { return }
                write(Self.line(snapshot) + "\n")
            }
            state.lastLine = now
        }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// `1h02m`, `3m05s` or `12s`.
public func formatSeconds(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    if total >= 3600 { return "\(total / 3600)h" + String(format: "%02dm", (total % 3600) / 60) }
    if total >= 60 { return "\(total / 60)m" + String(format: "%02ds", total % 60) }
    return "\(total)s"
}
