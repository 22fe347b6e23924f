import Foundation

/// Named benchmark numbers, so xrbench's and the PyTorch anchors' figures can be paired by name.
struct BenchMeasurements {
    struct Entry {
        var value: Double
        var higherIsBetter: Bool
    }
    private(set) var entries: [(name: String, entry: Entry)] = []

    mutating func record(_ name: String, _ value: Double, higherIsBetter: Bool) {
        entries.removeAll { $0.name == name }
        entries.append((name, Entry(value: value, higherIsBetter: higherIsBetter)))
    }

    mutating func merge(_ other: BenchMeasurements) {
        for (name, entry) in other.entries { record(name, entry.value, higherIsBetter: entry.higherIsBetter) }
    }

    subscript(name: String) -> Double? { entries.first { $0.name == name }?.entry.value }
}

/// Seconds elapsed since `start`.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// Peak resident set size (`VmHWM`) of this process in megabytes, or nil off Linux.
func peakResidentMegabytes() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
    return kilobytes / 1024
}
