import Random
import Evaluation
import Foundation

/// Times the paired comparisons on CheXpert-test-sized data: DeLong's test of two correlated
/// AUROCs on 20,000 samples (target < 50 ms), 1,000 paired bootstrap replicates of an AUROC
/// difference on 20,000 samples in 10,000 patients (target < 1 s), the same for MCC (the
/// generic path that scores every resample), and DINOv2's k-NN vote. With a Python, runs
/// scripts/bench/numpy_comparisons.py (the usual NumPy / scikit-learn way) side by side.
func runComparisonBench() -> BenchMeasurements {
    var measurements = BenchMeasurements()
    var generator = SeededGenerator(seed: 99)
    func normal() -> Double { (0..<4).reduce(0) { sum, _ in sum + generator.nextUnitDouble() } - 2 }
    let samples = 20_000
    let targets = (0..<samples).map { _ in generator.nextUnitDouble() < 0.3 ? 1.0 : 0.0 }
    let shared = (0..<samples).map { _ in normal() }
    let first = targets.indices.map { ((shared[$0] + 0.8 * targets[$0] + 0.5 * normal()) * 1000).rounded() / 1000 }
    let second = targets.indices.map { ((shared[$0] + 0.7 * targets[$0] + 0.5 * normal()) * 1000).rounded() / 1000 }

    var fastest = Double.infinity
    for _ in 0..<5 {
        let start = ContinuousClock.now
        _ = try? delongTest(targets: targets, firstScores: first, secondScores: second)
        fastest = min(fastest, seconds(since: start))
    }
    if case .tested(let result)? = try? delongTest(targets: targets, firstScores: first, secondScores: second) {
        print(String(format: "DeLong %d samples: %.1f ms (fastest of 5; ΔAUROC %.4f, z %.2f, p %.2g)", samples, fastest * 1000,
                     result.difference, result.z, result.pValue))
    }
    measurements.record("delong 20000 ms", fastest * 1000, higherIsBetter: false)

    // Probabilities for the thresholded metric: the scores squashed into (0, 1).
    let firstProbabilities = first.map { 1 / (1 + exp(-$0)) }, secondProbabilities = second.map { 1 / (1 + exp(-$0)) }
    let ids = (0..<samples).map { "s\($0)" }, patients = (0..<samples).map { "p\($0 / 2)" }
    do {
        let a = try ScoredPredictions(ids: ids, patientIDs: patients, outputs: ["finding"], scores: firstProbabilities,
                                      targets: targets, multiclass: false)
        let b = try ScoredPredictions(ids: ids, patientIDs: patients, outputs: ["finding"], scores: secondProbabilities,
                                      targets: targets, multiclass: false)
        let resampler = try BootstrapResampler(sampleCount: samples, patientIDs: patients, seed: 3)
        for (name, metric, runs) in [("auroc", AUROC() as any ClassificationMetric, 2), ("mcc", MCC(), 1)] {
            var best = Double.infinity
            var last: PairedBootstrapResult?
            for _ in 0..<runs {
                let start = ContinuousClock.now
                last = try a.pairedBootstrap(against: b, metric: metric, resampler: resampler,
                                             configuration: BootstrapConfiguration(replicates: 1000, seed: 3))
                best = min(best, seconds(since: start))
            }
            let interval = last?.interval.map { String(format: "[%.4f, %.4f]", $0.lowerBound, $0.upperBound) } ?? "none"
            print(String(format: "paired bootstrap %@ 1000 x %d samples (%d patients): %.3f s", name, samples, samples / 2, best)
                  + " (95% interval of the difference \(interval), p \(last?.pValue.map { String(format: "%.3g", $0) } ?? "–"))")
            measurements.record("paired bootstrap \(name) 1000x20000 s", best, higherIsBetter: false)
        }
    } catch {
        print("paired bootstrap bench failed: \(error)")
    }

    // k-NN: 10,000 training rows, 1,000 queries, 768 features, k = 20.
    let (bank, queries, width) = (10_000, 1_000, 768)
    let features = (0..<(bank * width)).map { _ in Float(normal()) }
    let labels = (0..<bank).map { _ in Double(generator.nextIndex(below: 5)) }
    let test = (0..<(queries * width)).map { _ in Float(normal()) }
    do {
        let train = ProbeData(features: features, width: width, targets: labels, sampleIDs: (0..<bank).map { "t\($0)" })
        let start = ContinuousClock.now
        _ = try nearestNeighbourProbabilities(train: train, testFeatures: test, task: .multiClass((0..<5).map { "c\($0)" }), k: 20,
                                              threads: ProcessInfo.processInfo.activeProcessorCount)
        let elapsed = seconds(since: start)
        print(String(format: "k-NN vote %d queries x %d bank x %d features (double precision, all cores): %.2f s", queries, bank, width, elapsed))
        measurements.record("knn 1000x10000x768 s", elapsed, higherIsBetter: false)
    } catch {
        print("k-NN bench failed: \(error)")
    }
    return measurements
}

/// Runs scripts/bench/numpy_comparisons.py with `python` and parses its figures.
func runNumPyComparisons(python: String) -> BenchMeasurements {
    var anchors = BenchMeasurements()
    let script = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("scripts/bench/numpy_comparisons.py")
    guard FileManager.default.fileExists(atPath: script.path) else {
        print("\nNumPy comparisons: \(script.path) not found (run make bench from the repository); skipped")
        return anchors
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [script.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    do {
        try process.run()
    } catch {
        print("\nNumPy comparisons: could not run \(python): \(error)")
        return anchors
    }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    print("\nNumPy / scikit-learn (\(python)):\n" + output, terminator: "")
    for line in output.split(separator: "\n").map(String.init) {
        let value = line.split(separator: ":").last.flatMap { Double($0.split(separator: " ").first ?? "") }
        if line.hasPrefix("numpy delong 20000"), let value { anchors.record("delong 20000 ms", value, higherIsBetter: false) }
        if line.hasPrefix("sklearn paired bootstrap 1000x20000"), let value {
            anchors.record("paired bootstrap auroc 1000x20000 s", value, higherIsBetter: false)
        }
    }
    return anchors
}
