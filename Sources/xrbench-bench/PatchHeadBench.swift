import Random
import Evaluation
import Foundation
import Tensor

// `make bench BENCH=patchheads`: one training step of each patch-token head (paper Table 5) on
// ViT-B/14 tokens of 518-px images: batch 16 (the paper's PTX batch), 37×37×768 tokens, one
// label, for the multitask heads one mask class at 128 px; Adam. Side by side with the same
// PyTorch modules run by scripts/bench/torch_patch_heads.py. Widths as the engine's defaults:
// pe-conv and multitask 192 (a quarter of 768), multitask-plus five layers of 384 (half).

/// The three heads' configurations as the bench runs them.
func patchBenchConfigurations() -> [(String, PatchHeadTrainingConfiguration)] {
    func configuration(_ channels: [Int], segmentation: Bool, dice: Double, structure: Double) -> PatchHeadTrainingConfiguration {
        var configuration = PatchHeadTrainingConfiguration(
            architecture: PatchHeadArchitecture(channels: channels, kernels: PatchHeadArchitecture.kernels(layers: channels.count),
                                                segmentation: segmentation))
        configuration.batchSize = 16
        configuration.maskSize = 128
        configuration.diceWeight = dice
        configuration.structureWeight = structure
        return configuration
    }
    return [("pe-conv", configuration([192, 192, 192], segmentation: false, dice: 0, structure: 0)),
            ("multitask", configuration([192, 192, 192], segmentation: true, dice: 1, structure: 0)),
            ("multitask-plus", configuration([384, 384, 384, 384, 384], segmentation: true, dice: 1, structure: 1))]
}

/// Times the patch heads; returns `patchheads <head> step s` and `patchheads <head> peak RSS MB`.
func runPatchHeadBench() -> BenchMeasurements {
    var measurements = BenchMeasurements()
    let threads = ProcessInfo.processInfo.activeProcessorCount
    let count = 16
    let samples: PatchTokenArrays
    do {
        samples = try patchBenchSamples(count: count)
    } catch {
        print("patchheads bench failed: \(error)")
        return measurements
    }
    var generator = SeededGenerator(seed: 43)
    let targets = (0..<count).map { _ in generator.nextUnitFloat() > 0.5 ? 1.0 : 0.0 }
    for (name, configuration) in patchBenchConfigurations() {
        do {
            let trainer = try PatchHeadTrainer(configuration: configuration, task: .multiLabel(["finding"]), train: samples,
                                               trainTargets: targets, validation: samples, validationTargets: targets, threads: threads)
            let rows = Array(0..<count)
            try trainer.trainStep(rows: rows)  // warm-up: first touch of every buffer
            var times: [Double] = [], processorTimes: [Double] = []
            for _ in 0..<5 {
                let start = ContinuousClock.now, startCPU = processCPUSeconds()
                try trainer.trainStep(rows: rows)
                times.append(seconds(since: start))
                processorTimes.append(processCPUSeconds() - startCPU)
            }
            let median = times.sorted()[times.count / 2], processorMedian = processorTimes.sorted()[times.count / 2]
            let peak = peakResidentMegabytes() ?? .nan
            print(String(format: "patchheads %@: %.4f s per training step, %.4f CPU s (median of 5; batch 16, 37x37x768 tokens), peak RSS %.0f MB",
                         name, median, processorMedian, peak))
            measurements.record("patchheads \(name) step s", median, higherIsBetter: false)
            measurements.record("patchheads \(name) peak RSS MB", peak, higherIsBetter: false)
        } catch {
            print("patchheads \(name) bench failed: \(error)")
        }
    }
    return measurements
}

/// Sixteen samples of pseudo-normal tokens and blocky masks (a 128-px plane of 16-px squares,
/// ~30% foreground), as the PyTorch side draws them.
private func patchBenchSamples(count: Int) throws -> PatchTokenArrays {
    let grid = TokenGrid(height: 37, width: 37, channels: 768), size = 128
    var generator = SeededGenerator(seed: 42)
    let tokens = (0..<(count * 37 * 37 * 768)).map { _ in
        (generator.nextUnitFloat() + generator.nextUnitFloat() + generator.nextUnitFloat() - 1.5) * 2
    }
    let masks: [[Float]?] = (0..<count).map { _ in
        let blocks = (0..<64).map { _ in generator.nextUnitFloat() > 0.7 ? Float(1) : 0 }
        return (0..<(size * size)).map { blocks[(($0 / size) / 16) * 8 + ($0 % size) / 16] }
    }
    return try PatchTokenArrays(tokens: tokens, grid: grid, masks: masks, maskClasses: 1, maskSize: size)
}

/// Runs scripts/bench/torch_patch_heads.py once per head (each in its own process, so each peak
/// RSS is that head's) and parses its figures under the names `runPatchHeadBench` uses.
func runTorchPatchHeads(python: String) -> BenchMeasurements {
    var anchors = BenchMeasurements()
    let script = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("scripts/bench/torch_patch_heads.py")
    guard FileManager.default.fileExists(atPath: script.path) else {
        print("\nPyTorch patch heads: \(script.path) not found (run from the repository root); skipped")
        return anchors
    }
    print("\nPyTorch patch heads (\(python)):")
    for (name, _) in patchBenchConfigurations() {
        guard let output = runScript(python: python, script: script, arguments: [name]) else { continue }
        print(output, terminator: "")
        for line in output.split(separator: "\n").map(String.init) {
            for (prefix, metric) in [("torch patchheads \(name) step s:", "step s"), ("torch patchheads \(name) peak RSS MB:", "peak RSS MB")]
            where line.hasPrefix(prefix) {
                if let value = line.dropFirst(prefix.count).split(separator: " ").first.flatMap({ Double($0) }) {
                    anchors.record("patchheads \(name) \(metric)", value, higherIsBetter: false)
                }
            }
        }
    }
    return anchors
}
