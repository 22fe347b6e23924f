// `make bench`: speed and memory of xrbench's hot paths, printed with the machine's own sgemm
// peak so numbers from different (noisy) machines can be read as ratios. When
// XRBENCH_TORCH_PYTHON names a Python with torch and transformers, the PyTorch anchors in
// ../shared/anchors run in the same session and the ratios are printed side by side.
import Foundation
import Tensor

// With OpenBLAS's generic fallback kernels every number would measure the fallback, not xrbench.
BLASBackend.restartWithRecommendedCoreTypeIfNeeded()

print("xrbench bench — \(ProcessInfo.processInfo.activeProcessorCount) cores, OpenBLAS \(BLASBackend.coreName) kernels, \(BLASBackend.threadCount) threads")
var measurements = BenchMeasurements()
measurements.record("sgemm 2048^3 GFLOP/s", measureSgemmGigaflops(), higherIsBetter: true)
print(String(format: "sgemm 2048^3: %.1f GFLOP/s", measurements["sgemm 2048^3 GFLOP/s"]!))
measurements.merge(runViTBench())
measurements.merge(runProbeBench())
measurements.merge(runEngineBench())

if let python = ProcessInfo.processInfo.environment["XRBENCH_TORCH_PYTHON"], !python.isEmpty {
    let anchors = runTorchAnchors(python: python)
    printRatios(ours: measurements, anchors: anchors)
} else {
    print("\n(set XRBENCH_TORCH_PYTHON to a Python with torch and transformers to run the PyTorch anchors side by side)")
}
