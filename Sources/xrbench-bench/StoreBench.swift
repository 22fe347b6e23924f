import Datasets
import Engine
import Foundation
import Imaging
import Models
import Pipeline
import Synchronization
import Tensor

// The embedding store (issue 11), measured through the engine as a user runs it:
// - end-to-end embedding of 16-bit 2,500 x 3,000 PNGs at 518 px (decode and resize on a
//   prefetch thread) against forward-only throughput of the same ViT-B/14;
// - the first hash of image files (what a 200k-image dataset costs before anything runs);
// - the incremental cost of 10 % more images and the overhead of a resume after SIGKILL;
// - peak RSS of a whole run (embed + linear probe) at 2,000 and 20,000 phantom images.
// The RSS and kill cases run in child processes (this binary with `--store-child`), so each
// peak is the run's own and a kill leaves this process standing.

/// Seconds per stage kind, summed over the stages that ran.
final class StageTimes: SchedulerObserver {
    private let started = Mutex<[StageKey: ContinuousClock.Instant]>([:])
    private let totals = Mutex<[StageKind: Double]>([:])
    private let byLabel = Mutex<[String: Double]>([:])

    func stageStarted(_ stage: Stage, snapshot: ProgressSnapshot) {
        started.withLock { $0[stage.key] = .now }
    }

    func stageFinished(_ stage: Stage, outcome: StageOutcome, snapshot: ProgressSnapshot) {
        guard let start = started.withLock({ $0[stage.key] }) else { return }
        let elapsed = seconds(since: start)
        totals.withLock { $0[stage.kind, default: 0] += elapsed }
        byLabel.withLock { $0[stage.label, default: 0] += elapsed }
    }

    /// Seconds spent in stages of `kind` of task `task` (labels `kind task …`).
    func taskSeconds(_ kind: StageKind, task: String) -> Double {
        byLabel.withLock { $0.filter { $0.key.hasPrefix("\(kind) \(task) ") }.values.reduce(0, +) }
    }

    func tick(_ snapshot: ProgressSnapshot) {}

    /// Seconds spent in stages of `kind`.
    subscript(kind: StageKind) -> Double { totals.withLock { $0[kind] ?? 0 } }
}

/// A ViT-B/14 with seeded random weights, built once before timing (loading a real model folder
/// takes a fraction of a second; random initialisation of 86M weights takes longer and is not
/// what is measured). Same architecture and arithmetic as `dinov2` with facebook/dinov2-base.
private struct BenchViTFamily: BackboneFamily {
    let model: VisionTransformer
    var name: String { "vit-b14-random-bench" }
    var summary: String { "bench only: ViT-B/14 with random weights" }
    var options: [SchemaField] { [SchemaField("resolution", .integer(.atLeastOne))] }

    func makeBackbone(_ options: ComponentOptions) throws -> any Backbone {
        let resolution = try options.integer("resolution") ?? 518
        return ViTBackbone(model: model, preprocessing: Preprocessing(size: resolution),
                           description: "ViT-B/14 with random weights at \(resolution)x\(resolution) (bench)")
    }
}

/// Runs `spec` (text) in `folder` with its own cache and database; returns the report.
func runBenchSpec(_ spec: String, in folder: URL, name: String = "spec.yaml", registry: Registry = .standard,
                  times: StageTimes? = nil) throws -> RunReport {
    let specURL = folder.appendingPathComponent(name)
    try spec.write(to: specURL, atomically: true, encoding: .utf8)
    let configuration = EngineConfiguration(
        cacheDirectory: folder.appendingPathComponent("cache"), databasePath: folder.appendingPathComponent("results.sqlite"),
        environment: [:], registry: registry, observer: times, handlesInterrupts: false)
    let report = try Engine.run(specURL: specURL, configuration: configuration)
    if let failure = report.failures.first { throw BenchFailure(message: "\(failure.label): \(failure.message)") }
    return report
}

struct BenchFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// `make bench` section `store`.
func runStoreBench() -> BenchMeasurements {
    var measurements = BenchMeasurements()
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-store-bench-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    do {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        measurements.merge(try endToEndThroughput(root.appendingPathComponent("large")))
        measurements.merge(try incrementalAndResume(root.appendingPathComponent("grow")))
        measurements.merge(try peakMemory(root.appendingPathComponent("rss")))
        measurements.merge(try probeStreaming(root.appendingPathComponent("probe-rows")))
    } catch {
        print("store bench failed: \(error)")
    }
    return measurements
}

/// Writes `count` 16-bit 3,000 x 2,500 (h x w) greyscale PNGs: smooth anatomy-like shading plus
/// 8 bits of noise, so they compress about as badly as real 16-bit radiographs.
private func writeLargePNGs(count: Int, in folder: URL) throws -> [String] {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let (width, height) = (2500, 3000)
    return try (0..<count).map { index in
        var state = UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15
        var samples = [UInt16](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let shade = 24_000 + 14_000 * sin(Double(x + 97 * index) / 230) * cos(Double(y) / 310)
                samples[y * width + x] = UInt16(max(0, min(65_535, shade + Double(state >> 56))))
            }
        }
        let name = "image\(index).png"
        try DecodedImage(width: width, height: height, channels: 1, bitDepth: 16, samples: samples)
            .writePNG(to: folder.appendingPathComponent(name))
        return name
    }
}

private func endToEndThroughput(_ folder: URL) throws -> BenchMeasurements {
    var measurements = BenchMeasurements()
    let images = 12
    let names = try writeLargePNGs(count: images, in: folder.appendingPathComponent("images"))
    let csv = "path,patient,group\n" + names.enumerated().map { "\($1),p\($0),g\($0 % 3)" }.joined(separator: "\n") + "\n"
    try csv.write(to: folder.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
    let bytes = names.reduce(0) { total, name in
        total + ((try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("images/\(name)").path)[.size] as? Int) ?? 0)
    }

    let model = VisionTransformer(randomlyInitialized: .base(), seed: 0)
    // Forward-only: the batches the embed stage forms at 518 px (2 images: about 4,096 tokens).
    let batch = max(1, 4096 / ((518 / 14) * (518 / 14) + 1))
    let pixels = Tensor(zeros: [batch, 3, 518, 518])
    _ = try model.forward(pixels)
    func forwardOnly() throws -> Double {
        let start = ContinuousClock.now
        for _ in 0..<(images / batch) { _ = try model.forward(pixels) }
        return Double(images) / seconds(since: start)
    }
    let before = try forwardOnly()

    var registry = Registry.standard
    registry.register(backbone: BenchViTFamily(model: model))
    let times = StageTimes()
    let spec = """
        experiment: store-bench-large
        backbones: {vit-b: {kind: vit-b14-random-bench, resolution: 518}}
        datasets: {large: {kind: csv, manifest: labels.csv, root: images, patient_column: patient, attribute_columns: [group]}}
        tasks:
          - {name: nearest, kind: retrieval, k: [1], relevance: group, matrix: {backbone: [vit-b], dataset: [large]}}
        """
    // The first plan hashes every image (the manifest is volatile: it runs at plan time).
    let specURL = folder.appendingPathComponent("spec.yaml")
    try spec.write(to: specURL, atomically: true, encoding: .utf8)
    let planStart = ContinuousClock.now
    _ = try Engine.plan(specURL: specURL, configuration: EngineConfiguration(
        cacheDirectory: folder.appendingPathComponent("cache"), databasePath: folder.appendingPathComponent("results.sqlite"),
        environment: [:], registry: registry, observer: nil, handlesInterrupts: false))
    let hashSeconds = seconds(since: planStart)
    _ = try runBenchSpec(spec, in: folder, registry: registry, times: times)
    let endToEnd = Double(images) / times["embed"]
    let after = try forwardOnly()
    let forward = (before + after) / 2
    print(String(format: "store: 16-bit 2500x3000 PNG -> 518 px, ViT-B/14: end-to-end %.3f img/s, forward-only %.3f img/s "
                 + "(before %.3f, after %.3f): %.2f of forward-only (target >= 0.9)", endToEnd, forward, before, after, endToEnd / forward))
    let megabytesPerSecond = Double(bytes) / 1e6 / hashSeconds
    print(String(format: "store: first plan of %d PNGs (%.0f MB, SHA-256 of every file, page cache warm): %.2f s = %.0f MB/s; "
                 + "200k images at an assumed 2 MB each (full-size CheXpert JPEGs) would take ~%.0f min at this rate, plus disk reads",
                 images, Double(bytes) / 1e6, hashSeconds, megabytesPerSecond, 200_000 * 2.0 / megabytesPerSecond / 60))
    measurements.record("store end-to-end / forward-only at 518", endToEnd / forward, higherIsBetter: true)
    measurements.record("store first hash MB/s", megabytesPerSecond, higherIsBetter: true)
    return measurements
}

/// Writes the phantom's label file cut to its first `rows` images, as `labels.csv` in `folder`.
private func writeLabels(from phantom: URL, rows: Int, to folder: URL) throws {
    let lines = try String(contentsOf: phantom.appendingPathComponent("manifest.csv"), encoding: .utf8).split(separator: "\n")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try (lines.prefix(rows + 1).joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
}

/// Retrieval over a CSV copy of the phantom: an embed stage and little else.
private func growSpec(images: URL) -> String {
    """
    experiment: store-bench-grow
    backbones: {tiny: {kind: vit-tiny-random, seed: 0, resolution: 112}}
    datasets: {grow: {kind: csv, manifest: labels.csv, root: "\(images.path)", patient_column: patient, attribute_columns: [view]}}
    tasks:
      - {name: nearest, kind: retrieval, k: [1], relevance: view, matrix: {backbone: [tiny], dataset: [grow]}}
    """
}

private func incrementalAndResume(_ folder: URL) throws -> BenchMeasurements {
    var measurements = BenchMeasurements()
    let (base, grown) = (2000, 2200)
    var options = PhantomOptions()
    options.imageSize = 128
    let phantom = folder.appendingPathComponent("phantom")
    try generatePhantomDataset(at: phantom, count: grown, seed: 3, options: options)
    let spec = growSpec(images: phantom)

    // A full run of the grown dataset, against the same dataset grown by 10 % after a run.
    let full = folder.appendingPathComponent("full"), incremental = folder.appendingPathComponent("incremental")
    try writeLabels(from: phantom, rows: grown, to: full)
    let fullTimes = StageTimes()
    _ = try runBenchSpec(spec, in: full, times: fullTimes)
    try writeLabels(from: phantom, rows: base, to: incremental)
    _ = try runBenchSpec(spec, in: incremental)
    try writeLabels(from: phantom, rows: grown, to: incremental)
    let grownTimes = StageTimes()
    _ = try runBenchSpec(spec, in: incremental, times: grownTimes)
    let share = grownTimes["embed"] / fullTimes["embed"]
    print(String(format: "store: +10%% images (%d -> %d, vit-tiny-random at 112): embed %.2f s against %.2f s for all: %.3f of a full run "
                 + "(target <= 0.15 plus fixed overhead)", base, grown, grownTimes["embed"], fullTimes["embed"], share))
    measurements.record("store +10% images, share of a full embed", share, higherIsBetter: false)

    // A run killed (SIGKILL) once about half its shards are committed, then resumed, against
    // an uninterrupted run; whole processes, wall time.
    let uninterrupted = folder.appendingPathComponent("uninterrupted"), killed = folder.appendingPathComponent("killed")
    for run in [uninterrupted, killed] {
        try writeLabels(from: phantom, rows: grown, to: run)
        try spec.write(to: run.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
    }
    let whole = try runChild(uninterrupted)
    let shardCount = (grown + 255) / 256
    let killedAfter = try runChild(killed, killWhenShards: shardCount / 2)
    let resumed = try runChild(killed)
    let overhead = (killedAfter.seconds + resumed.seconds) / whole.seconds - 1
    print(String(format: "store: kill after %d of %d shards, then resume: %.2f s + %.2f s against %.2f s uninterrupted: "
                 + "overhead %.1f%% of a run", shardCount / 2, shardCount, killedAfter.seconds, resumed.seconds, whole.seconds, overhead * 100))
    measurements.record("store resume overhead after a kill, share of a run", overhead, higherIsBetter: false)
    return measurements
}

private func peakMemory(_ folder: URL) throws -> BenchMeasurements {
    var measurements = BenchMeasurements()
    for backbone in ["pixels", "vit-tiny-random"] {
        var peaks: [Int: Double] = [:]
        for count in [2000, 20000] {
            let run = folder.appendingPathComponent("\(backbone)-\(count)")
            try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
            let options = backbone == "pixels" ? "size: 16" : "seed: 0, resolution: 56"
            let spec = """
                experiment: store-bench-rss
                backbones: {b: {kind: \(backbone), \(options)}}
                datasets: {phantom: {kind: phantom, count: \(count), seed: 5, size: 64}}
                tasks:
                  - {name: mirror, kind: classification, labels: [mirrored], metric: auroc,
                     matrix: {backbone: [b], dataset: [phantom], head: [linear], fraction: [1.0], seed: [0]}}
                """
            try spec.write(to: run.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
            let result = try runChild(run)
            peaks[count] = result.peakMegabytes
            print(String(format: "store: %@ on %d phantom images (64 px), embed + linear probe: peak RSS %.0f MB, %.1f s",
                         backbone, count, result.peakMegabytes, result.seconds))
            measurements.record("store peak RSS MB, \(backbone), \(count) images", result.peakMegabytes, higherIsBetter: false)
        }
        print(String(format: "store: %@ peak RSS at 20,000 / at 2,000 images: %.2f", backbone, peaks[20000]! / peaks[2000]!))
    }
    return measurements
}

/// Probe stages on 20,000 phantom images with their pooled rows held in memory against read
/// from the shards batch by batch (`ProbeRunner.heldRowBytes`; the same numbers either way):
/// a linear probe on 256 `pixels` features (little arithmetic per row, so the reads show) and
/// the paper's MLP (512, 256) on 784 (30 epochs at most).
private func probeStreaming(_ folder: URL) throws -> BenchMeasurements {
    var measurements = BenchMeasurements()
    let spec = """
        experiment: store-bench-probe-rows
        backbones: {p16: {kind: pixels, size: 16}, p28: {kind: pixels, size: 28}}
        datasets: {phantom: {kind: phantom, count: 20000, seed: 5, size: 64}}
        heads: {mlp30: {kind: mlp, max_epochs: 30}}
        tasks:
          - {name: linear, kind: classification, labels: [mirrored], metric: auroc,
             matrix: {backbone: [p16], dataset: [phantom], head: [linear], fraction: [1.0], seed: [0]}}
          - {name: mlp, kind: classification, labels: [mirrored], metric: auroc,
             matrix: {backbone: [p28], dataset: [phantom], head: [mlp30], fraction: [1.0], seed: [0]}}
        """
    var seconds: [String: [Double]] = [:]
    for held in [true, false] {
        let run = folder.appendingPathComponent(held ? "held" : "streamed")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        var registry = Registry.standard
        registry.register(runner: ProbeRunner(heldRowBytes: held ? Int.max : 0))
        let times = StageTimes()
        _ = try runBenchSpec(spec, in: run, registry: registry, times: times)
        for task in ["linear", "mlp"] { seconds[task, default: []].append(times.taskSeconds("probe", task: task)) }
    }
    for (task, label) in [("linear", "linear probe, 256 features"), ("mlp", "MLP probe (512, 256), 784 features, 30 epochs")] {
        let held = seconds[task]![0], streamed = seconds[task]![1]
        print(String(format: "store: %@, 20,000 images: rows held %.2f s, read from the shards %.2f s: %.2fx the time", label, held, streamed, streamed / held))
        measurements.record("store probe rows read / held time, \(task)", streamed / held, higherIsBetter: false)
    }
    return measurements
}

/// What a child run reported.
struct ChildRun {
    var seconds: Double
    var peakMegabytes: Double
}

/// Runs `folder/spec.yaml` in a child process (`--store-child`); with `killWhenShards`, sends
/// SIGKILL once that many embedding shards are committed.
private func runChild(_ folder: URL, killWhenShards: Int? = nil) throws -> ChildRun {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    process.arguments = ["--store-child", folder.path]
    let output = Pipe()
    process.standardOutput = output
    let start = ContinuousClock.now
    try process.run()
    if let killWhenShards {
        let markers = folder.appendingPathComponent("cache/embedding-spaces")
        while process.isRunning {
            let committed = (FileManager.default.enumerator(atPath: markers.path)?.allObjects.count ?? 0) - 1   // minus the space folder
            if committed >= killWhenShards {
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(20_000)
        }
    }
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let elapsed = seconds(since: start)
    if killWhenShards != nil { return ChildRun(seconds: elapsed, peakMegabytes: 0) }
    guard process.terminationStatus == 0, let line = text.split(separator: "\n").last(where: { $0.hasPrefix("peak-rss-mb ") }),
          let peak = Double(line.dropFirst("peak-rss-mb ".count)) else {
        throw BenchFailure(message: "child run in \(folder.path) failed (status \(process.terminationStatus)): \(text)")
    }
    return ChildRun(seconds: elapsed, peakMegabytes: peak)
}

/// The child side: runs `folder/spec.yaml` with the standard registry and prints its peak RSS.
func runStoreChild(folder: String) -> Never {
    let folder = URL(fileURLWithPath: folder)
    do {
        let spec = try String(contentsOf: folder.appendingPathComponent("spec.yaml"), encoding: .utf8)
        _ = try runBenchSpec(spec, in: folder)
        print("peak-rss-mb \(peakResidentMegabytes() ?? 0)")
        exit(0)
    } catch {
        print("failed: \(error)")
        exit(1)
    }
}
