import Random
import Evaluation
import Foundation
import Tensor

// `make bench BENCH=dense`: one training iteration of each segmentation decoder on ViT-B/14
// tokens of 518-px images (batch 8, 37×37×768 tokens, four layers for UPerNet, 4 classes, sigmoid
// Dice at mask resolution 518, Adam), side by side with the same PyTorch modules run by
// scripts/bench/torch_dense.py. The linear head runs first, so the peak RSS printed after it is
// its own; UPerNet's follows.

/// Times the dense decoders; returns `dense <decoder> iteration s` and `dense <decoder> peak RSS MB`.
func runDenseBench() -> BenchMeasurements {
    var measurements = BenchMeasurements()
    let threads = ProcessInfo.processInfo.activeProcessorCount
    for (name, decoder, timed) in [("linear", SegmentationDecoderKind.linear, 5),
                                   ("upernet", SegmentationDecoderKind.upernet(.paper), 1)] {
        do {
            let samples = try denseBenchSamples(layers: decoder.layerCount)
            let configuration = SegmentationTrainingConfiguration(decoder: decoder, activation: .sigmoid, batchSize: 8)
            let trainer = try SegmentationTrainer(train: samples, validation: samples, configuration: configuration, threads: threads)
            trainer.trainIteration()  // warm-up: first touch of every buffer
            var times: [Double] = [], processorTimes: [Double] = []
            for _ in 0..<timed {
                let start = ContinuousClock.now, startCPU = processCPUSeconds()
                trainer.trainIteration()
                times.append(seconds(since: start))
                processorTimes.append(processCPUSeconds() - startCPU)
            }
            let median = times.sorted()[times.count / 2], processorMedian = processorTimes.sorted()[times.count / 2]
            let peak = peakResidentMegabytes() ?? .nan
            // CPU seconds beside wall seconds: on a shared machine the wall time mostly measures the neighbours.
            print(String(format: "dense %@: %.4f s per training iteration, %.4f CPU s (median of %d; batch 8, 37x37x768 tokens, 4 classes, Dice at 518), peak RSS %.0f MB",
                         name, median, processorMedian, timed, peak))
            measurements.record("dense \(name) iteration s", median, higherIsBetter: false)
            measurements.record("dense \(name) peak RSS MB", peak, higherIsBetter: false)
        } catch {
            print("dense \(name) bench failed: \(error)")
        }
    }
    return measurements
}

/// Eight samples of pseudo-normal tokens (one or four identical layers) and random masks
/// (30% foreground), as the PyTorch side draws them.
private func denseBenchSamples(layers: Int) throws -> SegmentationArrays {
    let count = 8, grid = TokenGrid(height: 37, width: 37, channels: 768), classes = 4, size = 518
    var generator = SeededGenerator(seed: 42)
    let tokens = (0..<(count * 37 * 37 * 768)).map { _ in
        (generator.nextUnitFloat() + generator.nextUnitFloat() + generator.nextUnitFloat() - 1.5) * 2
    }
    let masks = (0..<(count * classes * size * size)).map { _ in UInt8(generator.nextUnitFloat() > 0.7 ? 1 : 0) }
    return try SegmentationArrays(layers: [[Float]](repeating: tokens, count: layers), grid: grid, masks: masks, classes: classes,
                                  maskHeight: size, maskWidth: size)
}

/// Runs scripts/bench/torch_dense.py once per decoder (each in its own process, so each peak RSS
/// is that decoder's) and parses its figures under the names `runDenseBench` uses.
func runTorchDense(python: String) -> BenchMeasurements {
    var anchors = BenchMeasurements()
    let script = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("scripts/bench/torch_dense.py")
    guard FileManager.default.fileExists(atPath: script.path) else {
        print("\nPyTorch dense decoders: \(script.path) not found (run from the repository root); skipped")
        return anchors
    }
    print("\nPyTorch dense decoders (\(python)):")
    for name in ["linear", "upernet"] {
        guard let output = runScript(python: python, script: script, arguments: [name]) else { continue }
        print(output, terminator: "")
        for line in output.split(separator: "\n").map(String.init) {
            if let value = number(after: "torch dense \(name) iteration s:", in: line) {
                anchors.record("dense \(name) iteration s", value, higherIsBetter: false)
            }
            if let value = number(after: "torch dense \(name) peak RSS MB:", in: line) {
                anchors.record("dense \(name) peak RSS MB", value, higherIsBetter: false)
            }
        }
    }
    return anchors
}

/// The number right after `prefix` at the start of `line`.
private func number(after prefix: String, in line: String) -> Double? {
    guard line.hasPrefix(prefix) else { return nil }
    return line.dropFirst(prefix.count).split(separator: " ").first.flatMap { Double($0) }
}
