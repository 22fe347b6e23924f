import Engine
import Foundation
import Pipeline
import Results
import Synchronization

/// Counts runner calls per stage kind, thread-safely.
final class CallCounter: Sendable {
    private let counts = Mutex<[StageKind: Int]>([:])

    func increment(_ kind: StageKind) {
        counts.withLock { $0[kind, default: 0] += 1 }
    }

    /// Calls so far, by kind; resets the counts.
    func take() -> [StageKind: Int] {
        counts.withLock { counts in
            defer { counts = [:] }
            return counts
        }
    }
}

/// A cheap deterministic runner: its artifact's content depends on its key and its inputs'
/// content (so corruption upstream would show downstream), and recording stages return one
/// result row whose value derives from the key.
struct CountingRunner: StageRunner {
    let kind: StageKind
    let counter: CallCounter
    /// Stages whose label contains this text fail.
    var failing: String?
    /// Set from inside the runner when a stage whose label contains `interruptAt` runs.
    var interruptAt: String?
    /// Seconds each call sleeps first, so another process can be killed mid-run.
    var delay: TimeInterval = 0

    var threadNeed: ThreadNeed { kind == .embed ? .all : .count(1) }

    func run(_ context: StageContext) throws -> StageOutputs {
        counter.increment(kind)
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        if let failing, context.stage.label.contains(failing) {
            throw CacheError(path: context.stage.label, problem: "injected failure")
        }
        if let interruptAt, context.stage.label.contains(interruptAt) {
            context.cancellation.cancel()
            try context.checkCancellation()
        }
        var content = context.stage.key.rawValue
        for role in context.inputs.keys.sorted() {
            content += try String(contentsOf: context.input(role).directory.appendingPathComponent("artifact.txt"), encoding: .utf8)
        }
        try sha256Hex(Data(content.utf8)).write(to: context.outputDirectory.appendingPathComponent("artifact.txt"),
                                                atomically: false, encoding: .utf8)
        guard context.stage.coordinates != nil else { return StageOutputs() }
        let value = Double(Int(context.stage.key.rawValue.prefix(4), radix: 16)!) / 65535
        return StageOutputs(
            results: [ResultRow(coordinates: context.resultCoordinates(label: ""), metric: kind.rawValue, value: value, sampleCount: 10)],
            predictions: kind == .metric ? [PredictionRow(sampleID: "s1", label: "nodule", score: value, target: 1)] : [])
    }
}

/// The standard registry with a counting runner in place of every built-in stage kind's runner
/// (and none for the kinds in `without`).
func countingRegistry(_ counter: CallCounter, failing: String? = nil, interruptAt: String? = nil, without: Set<StageKind> = [],
                      delay: TimeInterval = 0) -> Registry {
    var registry = Registry.standard
    for kind in [StageKind.manifest, .embed, .split, .probe, .metric, .retrieval, .bootstrap, .compare, .pairedTest] {
        if without.contains(kind) {
            registry.removeRunner(for: kind)
        } else {
            registry.register(runner: CountingRunner(kind: kind, counter: counter, failing: failing, interruptAt: interruptAt, delay: delay))
        }
    }
    return registry
}

/// A temporary project: a spec folder, a cache and a database, run with counting runners.
struct TestProject {
    let folder: URL
    let counter = CallCounter()
    var configuration: EngineConfiguration

    /// A project in `folder` (default: a fresh temporary one).
    init(registry: String = defaultRegistry, folder given: URL? = nil) throws {
        folder = given ?? FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try registry.write(to: folder.appendingPathComponent("registry.yaml"), atomically: true, encoding: .utf8)
        configuration = EngineConfiguration(
            cacheDirectory: folder.appendingPathComponent("cache"), databasePath: folder.appendingPathComponent("results.sqlite"),
            jobs: 2, environment: [:], registry: countingRegistry(counter), observer: nil, handlesInterrupts: false)
    }

    /// Writes `yaml` as `spec.yaml` and returns its URL.
    func spec(_ yaml: String) throws -> URL {
        let url = folder.appendingPathComponent("spec.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func run(_ yaml: String) throws -> RunReport {
        try Engine.run(specURL: spec(yaml), configuration: configuration)
    }

    /// A single number from the results database.
    func count(_ sql: String) throws -> Int {
        let table = try ResultStore.openReadOnly(path: configuration.databasePath).query(sql)
        return Int(table.rows.first?.first?.doubleValue ?? -1)
    }

    static let defaultRegistry = """
        backbones:
          pixels: {kind: pixels, size: 8}
          tiny: {kind: vit-tiny-random, seed: 3}
        datasets:
          phantom: {kind: phantom, count: 60, seed: 1}
        """
}

/// Two backbones × one dataset × two fractions × two seeds, one head: 1 manifest, 2 embeds,
/// 4 splits, 8 probes, 8 metrics = 23 stages; plus a retrieval task (2 stages).
func demoSpec(dropout: Double = 0.2) -> String {
    """
    experiment: engine-test
    include: [registry.yaml]
    heads:
      small: {kind: mlp, hidden: [8], dropout: \(dropout)}
    tasks:
      - name: findings
        kind: classification
        labels: [nodule]
        metric: auroc
        matrix: {backbone: [pixels, tiny], dataset: [phantom], head: [small], fraction: [0.5, 1], seed: [0, 1]}
      - name: views
        kind: retrieval
        k: [5]
        relevance: view
        matrix: {backbone: [pixels, tiny], dataset: [phantom]}
    """
}
