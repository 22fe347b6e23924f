import Foundation

/// Runs the PyTorch anchor scripts from `../shared/anchors/` with `python` and parses their
/// figures into the same names xrbench's own measurements use.
func runTorchAnchors(python: String, vit: Bool = true, probe: Bool = true) -> BenchMeasurements {
    var anchors = BenchMeasurements()
    guard let folder = anchorsFolder() else {
        print("\nPyTorch anchors: ../shared/anchors not found next to the repository; skipped")
        return anchors
    }
    print("\nPyTorch anchors (\(python)):")
    if vit, let output = runScript(python: python, script: folder.appendingPathComponent("anchor_torch_vit.py")) {
        print(output, terminator: "")
        for line in output.split(separator: "\n") {
            // "torch sdpa res=224 batch=8: 2.85 img/s, 131.0 GFLOP/s"
            let text = String(line)
            guard text.hasPrefix("torch sdpa res="), let imagesPerSecond = number(before: " img/s", in: text) else { continue }
            if text.contains("res=224 batch=8") { anchors.record("vit-b/14 224x224 batch 8 img/s", imagesPerSecond, higherIsBetter: true) }
            if text.contains("res=518 batch=1") { anchors.record("vit-b/14 518x518 batch 1 img/s", imagesPerSecond, higherIsBetter: true) }
        }
        for line in output.split(separator: "\n") where line.hasPrefix("numpy sgemm") {
            if let gflops = number(before: " GFLOP/s", in: String(line)) { anchors.record("sgemm 2048^3 GFLOP/s", gflops, higherIsBetter: true) }
        }
    }
    if probe, let output = runScript(python: python, script: folder.appendingPathComponent("anchor_torch_mlp.py")) {
        print(output, terminator: "")
        // The second epoch (index 1) is the warmed-up one.
        let epochs = output.split(separator: "\n").compactMap { line -> Double? in
            line.hasPrefix("torch MLP epoch") ? number(before: " s (", in: String(line)) : nil
        }
        if let last = epochs.last { anchors.record("probe epoch 190000x768 s", last, higherIsBetter: false) }
    }
    return anchors
}

/// Prints xrbench / PyTorch ratios, oriented so that > 1 means xrbench is better.
func printRatios(ours: BenchMeasurements, anchors: BenchMeasurements) {
    print("\nSide by side (ratio > 1: xrbench better):")
    for (name, entry) in ours.entries {
        guard let anchor = anchors[name], anchor > 0, entry.value > 0 else { continue }
        let ratio = entry.higherIsBetter ? entry.value / anchor : anchor / entry.value
        print(String(format: "  %-34@ xrbench %10.3f   torch %10.3f   ratio %.2fx", name as NSString, entry.value, anchor, ratio))
    }
}

private func anchorsFolder() -> URL? {
    var folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    for _ in 0..<4 {
        let candidate = folder.deletingLastPathComponent().appendingPathComponent("shared/anchors")
        if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("anchor_torch_vit.py").path) { return candidate }
        folder = folder.deletingLastPathComponent()
    }
    return nil
}

/// Runs `python script arguments…` and returns its standard output, or nil (with a note) on failure.
func runScript(python: String, script: URL, arguments: [String] = []) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [script.path] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    do {
        try process.run()
    } catch {
        print("  could not run \(python) \(script.lastPathComponent): \(error)")
        return nil
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        print("  \(script.lastPathComponent) exited with status \(process.terminationStatus)")
        return nil
    }
    return String(decoding: data, as: UTF8.self)
}

/// The number written right before `suffix` in `text`.
private func number(before suffix: String, in text: String) -> Double? {
    guard let range = text.range(of: suffix) else { return nil }
    let prefix = text[..<range.lowerBound]
    let token = prefix.split(separator: " ").last.map(String.init) ?? ""
    return Double(token)
}
