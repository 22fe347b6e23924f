import Engine
import Foundation
import Pipeline
import Results

/// A runner that does almost nothing: writes a 64-byte file and, for stages with coordinates,
/// one result row, so the bench measures the engine (planning, cache lookups, recording), not
/// the numerics.
private struct NoOpRunner: StageRunner {
    let kind: StageKind

    func run(_ context: StageContext) throws -> StageOutputs {
        try Data(context.stage.key.rawValue.utf8).write(to: context.outputDirectory.appendingPathComponent("artifact"))
        guard context.stage.coordinates != nil else { return StageOutputs() }
        return StageOutputs(results: [ResultRow(coordinates: context.resultCoordinates(label: ""), metric: "auroc", value: 0.5, sampleCount: 1)])
    }
}

/// A spec of about 1,000 stages: 4 backbones × 2 datasets × 2 heads × 5 fractions × 6 seeds
/// (2 manifests, 8 embeddings, 60 splits, 480 probes, 480 metrics = 1,030 stages).
private let benchRegistry = """
    backbones:
      pixels-8: {kind: pixels, size: 8}
      pixels-16: {kind: pixels, size: 16}
      pixels-24: {kind: pixels, size: 24}
      pixels-32: {kind: pixels, size: 32}
    datasets:
      phantom-a: {kind: phantom, count: 100, seed: 1}
      phantom-b: {kind: phantom, count: 100, seed: 2}
    """

/// The tasks of the 1,030-stage spec that the engine and Slurm benches run.
let thousandStageTasks = """
    tasks:
      - name: findings
        kind: classification
        labels: [nodule, effusion]
        metric: auroc
        matrix:
          backbone: [pixels-8, pixels-16, pixels-24, pixels-32]
          dataset: [phantom-a, phantom-b]
          head: [mlp, linear]
          fraction: [0.01, 0.1, 0.25, 0.5, 1.0]
          seed: [0, 1, 2, 3, 4, 5]
    """

private let benchSpec = "experiment: engine-bench\ninclude: [registry.yaml]\n" + thousandStageTasks

/// `make bench`: plans a generated 1,000-stage spec and re-runs it fully cached with no-op
/// runners, printing seconds (target: plan + cached re-run ≤ 1 s).
/// - Returns: the timings, named `engine ...` (seconds, lower is better).
func runEngineBench() -> BenchMeasurements {
    var measurements = BenchMeasurements()
    do {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-engine-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try benchRegistry.write(to: folder.appendingPathComponent("registry.yaml"), atomically: true, encoding: .utf8)
        let specURL = folder.appendingPathComponent("bench.yaml")
        try benchSpec.write(to: specURL, atomically: true, encoding: .utf8)
        var registry = Registry.standard
        for kind in [StageKind.manifest, .embed, .split, .probe, .metric] { registry.register(runner: NoOpRunner(kind: kind)) }
        let configuration = EngineConfiguration(
            cacheDirectory: folder.appendingPathComponent("cache"), databasePath: folder.appendingPathComponent("results.sqlite"),
            environment: [:], registry: registry, observer: nil, handlesInterrupts: false)

        func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
            let start = DispatchTime.now().uptimeNanoseconds
            let value = try body()
            return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let (coldPlan, coldPlanSeconds) = try timed { try Engine.plan(specURL: specURL, configuration: configuration) }
        let (first, firstSeconds) = try timed { try Engine.run(specURL: specURL, configuration: configuration) }
        let (plan, planSeconds) = try timed { try Engine.plan(specURL: specURL, configuration: configuration) }
        let (rerun, rerunSeconds) = try timed { try Engine.run(specURL: specURL, configuration: configuration) }
        precondition(plan.count(.cached) == plan.stages.count && rerun.executed == 0, "the re-run was not fully cached")
        print("engine: \(coldPlan.stages.count)-stage spec")
        print(String(format: "engine: plan (empty cache)          %.3f s", coldPlanSeconds))
        print(String(format: "engine: first run (no-op runners)   %.3f s  (%d stages computed)", firstSeconds, first.executed))
        print(String(format: "engine: plan (all cached)           %.3f s", planSeconds))
        print(String(format: "engine: fully cached re-run         %.3f s", rerunSeconds))
        print(String(format: "engine: plan + cached re-run        %.3f s  (target <= 1 s)", planSeconds + rerunSeconds))
        measurements.record("engine plan, 1030 stages, empty cache s", coldPlanSeconds, higherIsBetter: false)
        measurements.record("engine plan + cached re-run, 1030 stages s", planSeconds + rerunSeconds, higherIsBetter: false)
    } catch {
        print("engine bench failed: \(error)")
    }
    return measurements
}
