// `make bench`: speed and memory of xrbench's hot paths, printed with the machine's own sgemm
// peak so numbers from different (noisy) machines can be read as ratios. When
// XRBENCH_TORCH_PYTHON names a Python with torch and transformers, the PyTorch anchors in
// ../shared/anchors run in the same session and the ratios are printed side by side.
import Foundation
import Tensor

// With OpenBLAS's generic fallback kernels every number would measure the fallback, not xrbench.
BLASBackend.restartWithRecommendedCoreTypeIfNeeded()

// The store section measures whole runs in child processes of this binary.
if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--store-child" {
    runStoreChild(folder: CommandLine.arguments[2])
}

print("xrbench bench — \(ProcessInfo.processInfo.activeProcessorCount) cores, OpenBLAS \(BLASBackend.coreName) kernels, \(BLASBackend.threadCount) threads")
// Optional arguments pick sections (`xrbench-bench probe`, `make bench BENCH=vit`); none runs all.
let sections = Set(CommandLine.arguments.dropFirst())
let known: Set<String> = ["sgemm", "vit", "probe", "engine", "store", "dense", "comparisons", "slurm", "patchheads"]
if let unknown = sections.subtracting(known).first {
    print("xrbench-bench: unknown section '\(unknown)'; choose from \(known.sorted().joined(separator: ", ")) or give none for all")
    exit(2)
}
func wanted(_ section: String) -> Bool { sections.isEmpty || sections.contains(section) }
var measurements = BenchMeasurements()
// The sgemm peak is the yardstick for every other figure, so it always runs.
measurements.record("sgemm 2048^3 GFLOP/s", measureSgemmGigaflops(), higherIsBetter: true)
print(String(format: "sgemm 2048^3: %.1f GFLOP/s", measurements["sgemm 2048^3 GFLOP/s"]!))
if wanted("vit") { measurements.merge(runViTBench()) }
if wanted("probe") { measurements.merge(runProbeBench()) }
if wanted("engine") {
    measurements.merge(runEngineBench())
    measurements.merge(runLargePlanBench())
}
if wanted("store") { measurements.merge(runStoreBench()) }
if wanted("dense") { measurements.merge(runDenseBench()) }
if wanted("comparisons") { measurements.merge(runComparisonBench()) }
if wanted("slurm") { measurements.merge(runSlurmBench()) }
if wanted("patchheads") { measurements.merge(runPatchHeadBench()) }

if let python = ProcessInfo.processInfo.environment["XRBENCH_TORCH_PYTHON"], !python.isEmpty {
    var anchors = runTorchAnchors(python: python, vit: wanted("vit"), probe: wanted("probe"))
    if wanted("dense") { anchors.merge(runTorchDense(python: python)) }
    if wanted("comparisons") { anchors.merge(runNumPyComparisons(python: python)) }
    if wanted("patchheads") { anchors.merge(runTorchPatchHeads(python: python)) }
    printRatios(ours: measurements, anchors: anchors)
} else {
    print("\n(set XRBENCH_TORCH_PYTHON to a Python with torch and transformers to run the PyTorch anchors side by side)")
}
