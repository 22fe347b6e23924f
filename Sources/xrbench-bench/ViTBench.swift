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

/// Runs the ViT-B/14 benchmark and prints one line per case.
///
/// Call `BLASBackend.restartWithRecommendedCoreTypeIfNeeded()` at the top of `main` first: with
/// OpenBLAS's generic fallback kernels the numbers are 4-6x lower and say nothing about this code.
func runViTBench() {
    print("OpenBLAS kernels: \(BLASBackend.coreName)"
          + (BLASBackend.recommendedCoreType.map { " (old fallback; OPENBLAS_CORETYPE=\($0) would be faster)" } ?? ""))
    let configuration = ViTConfiguration.base()
    var clock = ContinuousClock.now
    let model = VisionTransformer(randomlyInitialized: configuration, seed: 0)
    print(String(format: "vit-b/14: %.1fM parameters, random init %.1f s, peak RSS %@",
                 Double(configuration.parameterCount) / 1e6, seconds(since: clock), peakResidentMemory()))
    for (resolution, batch) in [(518, 1), (224, 8)] {
        let pixels = benchmarkPixels(batch: batch, resolution: resolution)
        do {
            _ = try model.forward(pixels)   // warm-up: first-touch of buffers, BLAS thread start
            var times: [Double] = []
            for _ in 0..<3 {
                clock = ContinuousClock.now
                _ = try model.forward(pixels)
                times.append(seconds(since: clock))
            }
            let median = times.sorted()[1]
            let tokens = (resolution / 14) * (resolution / 14) + 1
            let flops = Double(batch) * vitBaseFlops(tokens: tokens)
            print(String(format: "vit-b/14 %dx%d batch %d: %.2f img/s, %.1f GFLOP/s (median of 3: %.3f s), peak RSS %@",
                         resolution, resolution, batch, Double(batch) / median, flops / median / 1e9, median,
                         peakResidentMemory()))
        } catch {
            print("vit-b/14 \(resolution) batch \(batch): failed: \(error)")
        }
    }
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

private func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// `VmHWM` (peak resident set size) from /proc/self/status, e.g. "412 MB"; "n/a" elsewhere.
private func peakResidentMemory() -> String {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return "n/a" }
    return String(format: "%.0f MB", kilobytes / 1024)
}
