import Engine
import Foundation
import Pipeline

/// A spec of about 100,000 stages: 4 backbones × 2 datasets × 2 heads × 25 fractions × 120 seeds
/// (2 manifests, 8 embeddings, 6,000 splits, 48,000 probes, 48,000 metrics = 102,010 stages).
private let largeSpec = """
    experiment: large-plan-bench
    backbones:
      pixels-8: {kind: pixels, size: 8}
      pixels-16: {kind: pixels, size: 16}
      pixels-24: {kind: pixels, size: 24}
      pixels-32: {kind: pixels, size: 32}
    datasets:
      phantom-a: {kind: phantom, count: 100, seed: 1}
      phantom-b: {kind: phantom, count: 100, seed: 2}
    tasks:
      - name: findings
        kind: classification
        labels: [nodule, effusion]
        metric: auroc
        matrix:
          backbone: [pixels-8, pixels-16, pixels-24, pixels-32]
          dataset: [phantom-a, phantom-b]
          head: [mlp, linear]
          fraction: [\((1...25).map { String(Double($0) / 25) }.joined(separator: ", "))]
          seed: [\((0..<120).map(String.init).joined(separator: ", "))]
    """

/// CPU seconds this process has used, over all its threads.
/// `make bench`: `xrbench plan` on a 100,000-stage spec, with an empty cache and again with its
/// descriptors saved, and where the time goes (loading, compiling with keys, saving descriptors,
/// cache lookups, text rendering).
/// - Returns: the timings, named `engine plan 100k ...` (seconds, lower is better).
func runLargePlanBench() -> BenchMeasurements {
    var measurements = BenchMeasurements()
    do {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-plan-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let specURL = folder.appendingPathComponent("large.yaml")
        try largeSpec.write(to: specURL, atomically: true, encoding: .utf8)
        var configuration = EngineConfiguration(
            cacheDirectory: folder.appendingPathComponent("cache"), databasePath: folder.appendingPathComponent("results.sqlite"),
            environment: [:], observer: nil, handlesInterrupts: false)
        configuration.maximumStages = 200_000

        // Wall-clock seconds, and CPU seconds of the whole process (all threads) beside them:
        // on a shared machine the wall clock also counts other processes' turns.
        var cpuSeconds: [Double] = []
        func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
            let start = ContinuousClock.now, cpuStart = processCPUSeconds()
            let value = try body()
            cpuSeconds.append(processCPUSeconds() - cpuStart)
            return (value, seconds(since: start))
        }
        let catalog = configuration.registry.catalog
        let (spec, loadSeconds) = try timed { try SpecLoader(catalog: catalog, environment: [:]).load(specURL) }
        var options = configuration.registry.compileOptions
        options.maximumStages = configuration.maximumStages
        let digester = FileDigester(memoURL: folder.appendingPathComponent("digests.json"))
        let (compiled, compileSeconds) = try timed {
            try GraphBuilder.compile(spec, catalog: catalog, options: options, digester: digester)
        }
        let (coldPlan, coldSeconds) = try timed { try Engine.plan(specURL: specURL, configuration: configuration) }
        let (warmPlan, warmSeconds) = try timed { try Engine.plan(specURL: specURL, configuration: configuration) }
        let (text, renderSeconds) = timed { warmPlan.text() }
        precondition(coldPlan.stages.count == compiled.graph.stages.count && !text.isEmpty)
        print("engine: \(compiled.graph.stages.count)-stage spec (plan)")
        print(String(format: "engine: load and validate the spec   %.3f s  (CPU %.3f s)", loadSeconds, cpuSeconds[0]))
        print(String(format: "engine: compile (stages, keys, DAG)  %.3f s  (CPU %.3f s)", compileSeconds, cpuSeconds[1]))
        print(String(format: "engine: plan (empty cache)           %.3f s  (CPU %.3f s; target: seconds)", coldSeconds, cpuSeconds[2]))
        print(String(format: "engine: plan (descriptors saved)     %.3f s  (CPU %.3f s)", warmSeconds, cpuSeconds[3]))
        print(String(format: "engine: render the plan as text      %.3f s  (CPU %.3f s)", renderSeconds, cpuSeconds[4]))
        measurements.record("engine plan 100k stages, empty cache s", coldSeconds, higherIsBetter: false)
        measurements.record("engine plan 100k stages, descriptors saved s", warmSeconds, higherIsBetter: false)
    } catch {
        print("large plan bench failed: \(error)")
    }
    return measurements
}
