import Foundation
import Models
import Tensor

// ViT-B/14 forward throughput and memory, comparable with /work/shared/anchors/anchor_torch_vit.py
// (transformers Dinov2Model, random weights, image_size 518, fp32, sdpa): images/s and GFLOP/s
// at 224x224 batch 8 and 518x518 batch 1, plus peak resident memory.
//
// The 518 case runs first, so the peak RSS printed after it is the model plus the 518
// activations; the 224 batch-8 case (larger activations: 2056 tokens against 1370) follows
// and its own peak is printed after it.

/// Runs the ViT-B/14 benchmark, prints one line per case and returns images/s per case (named
/// as `runTorchAnchors` names the PyTorch figures) and the peak RSS after the 518 case.
///
/// Call `BLASBackend.restartWithRecommendedCoreTypeIfNeeded()` at the top of `main` first: with
/// OpenBLAS's generic fallback kernels the numbers are 4-6x lower and say nothing about this code.
func runViTBench() -> BenchMeasurements {
    var measurements = BenchMeasurements()
    let configuration = ViTConfiguration.base()
    var clock = ContinuousClock.now
    let model = VisionTransformer(randomlyInitialized: configuration, seed: 0)
    print(String(format: "vit-b/14: %.1fM parameters, random init %.1f s, peak RSS %@",
                 Double(configuration.parameterCount) / 1e6, seconds(since: clock), peakResidentText()))
    for (resolution, batch) in [(518, 1), (224, 8)] {
        let pixels = benchmarkPixels(batch: batch, resolution: resolution)
        do {
            _ = try model.forward(pixels)   // warm-up: first-touch of buffers, BLAS thread start
            var times: [Double] = []
            var processorTimes: [Double] = []
            for _ in 0..<3 {
                clock = ContinuousClock.now
                let processorStart = processorSeconds()
                _ = try model.forward(pixels)
                times.append(seconds(since: clock))
                processorTimes.append(processorSeconds() - processorStart)
            }
            let median = times.sorted()[1]
            let processorMedian = processorTimes.sorted()[1]
            let tokens = (resolution / 14) * (resolution / 14) + 1
            let flops = Double(batch) * vitBaseFlops(tokens: tokens)
            // CPU seconds (all threads) say how much work a forward costs even when other
            // processes share the cores and stretch the wall time.
            print(String(format: "vit-b/14 %dx%d batch %d: %.2f img/s, %.1f GFLOP/s (median of 3: %.3f s wall, "
                         + "%.3f s CPU = %.1f GFLOP per CPU-second), peak RSS %@",
                         resolution, resolution, batch, Double(batch) / median, flops / median / 1e9, median,
                         processorMedian, flops / processorMedian / 1e9, peakResidentText()))
            measurements.record("vit-b/14 \(resolution)x\(resolution) batch \(batch) img/s", Double(batch) / median,
                                higherIsBetter: true)
            if resolution == 518, let peak = peakResidentMegabytes() {
                measurements.record("vit-b/14 518x518 batch 1 peak RSS MB", peak, higherIsBetter: false)
            }
        } catch {
            print("vit-b/14 \(resolution) batch \(batch): failed: \(error)")
        }
    }
    return measurements
}

/// FLOPs of one ViT-B/14 forward per image (anchors README): the linear layers plus attention.
private func vitBaseFlops(tokens: Int) -> Double {
    let t = Double(tokens)
    return 2 * t * 12 * (4 * 768 * 768 + 2 * 768 * 3072) + 12 * 4 * t * t * 768
}

/// Deterministic pseudo-normal pixels `[B, 3, R, R]` (sum of uniforms; values only need to be
/// realistic in scale, not exactly normal).
private func benchmarkPixels(batch: Int, resolution: Int) -> Tensor {
    var state: UInt64 = 0x2545_F491_4F6C_DD1D
    var pixels = Tensor(zeros: [batch, 3, resolution, resolution])
    pixels.withUnsafeMutableBufferPointer { buffer in
        for index in buffer.indices {
            var sum: Float = 0
            for _ in 0..<4 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                sum += Float(state >> 40) / Float(1 << 24)
            }
            buffer[index] = (sum - 2) * 1.7
        }
    }
    return pixels
}

/// CPU time of this process, all threads, in seconds.
private func processorSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return user + system
}

/// Peak RSS as text, e.g. "412 MB".
private func peakResidentText() -> String {
    peakResidentMegabytes().map { String(format: "%.0f MB", $0) } ?? "n/a"
}
