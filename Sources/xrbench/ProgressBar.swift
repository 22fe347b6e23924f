import Foundation

/// A single-line progress display on standard error: items done, rate and time left.
///
/// Silent for the first `quietInterval` seconds, so quick jobs print nothing, and silent when
/// standard error is not a terminal unless `force` is set (logs then get one line at the end).
final class ProgressBar {
    private let total: Int
    private let unit: String
    private let start = Date()
    private let quietInterval: TimeInterval
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastDraw = Date.distantPast
    private var drewSomething = false

    /// - Parameters:
    ///   - total: how many items the job has.
    ///   - unit: the plural noun shown after the rate, e.g. "images".
    ///   - quietInterval: seconds to wait before drawing anything.
    init(total: Int, unit: String, quietInterval: TimeInterval = 1.0) {
        self.total = total
        self.unit = unit
        self.quietInterval = quietInterval
    }

    /// Reports that `done` of `total` items are finished.
    func update(done: Int) {
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        guard elapsed >= quietInterval, isTerminal, now.timeIntervalSince(lastDraw) >= 0.2 || done == total else { return }
        lastDraw = now
        drewSomething = true
        FileHandle.standardError.write(Data(("\r" + line(done: done, elapsed: elapsed)).utf8))
    }

    /// Ends the line; prints a summary when the job ran long enough to deserve one.
    func finish(done: Int) {
        let elapsed = Date().timeIntervalSince(start)
        if drewSomething {
            FileHandle.standardError.write(Data(("\r" + line(done: done, elapsed: elapsed) + "\n").utf8))
        } else if elapsed >= quietInterval {
            FileHandle.standardError.write(Data((line(done: done, elapsed: elapsed) + "\n").utf8))
        }
    }

    private func line(done: Int, elapsed: TimeInterval) -> String {
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let width = 24
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        return "[\(bar)] \(done)/\(total) \(unit)  \(String(format: "%.2f", rate)) \(unit)/s  ETA \(formatDuration(remaining))   "
    }
}

/// Formats seconds as `1h02m`, `3m05s` or `12s`.
func formatDuration(_ seconds: TimeInterval) -> String {
    let total = Int(seconds.rounded())
    if total >= 3600 { return String(format: "%dh%02dm", total / 3600, (total % 3600) / 60) }
    if total >= 60 { return String(format: "%dm%02ds", total / 60, total % 60) }
    return "\(total)s"
}
