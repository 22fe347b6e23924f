import Engine
import Foundation
import Pipeline
import Testing

/// Pins the stage keys of a fixed spec: any change to a key (parameters, code versions, key
/// material, canonical JSON) fails here. A deliberate change bumps the runner's `codeVersion`
/// and re-records the fixture with `XRBENCH_RECORD_GOLDEN=1 swift test --filter GoldenStageKeys`;
/// an accidental one is a bug to fix, not a fixture to re-record.
@Suite struct GoldenStageKeysTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/golden-stage-keys.json")

    /// Every task kind and shared stage of the standard registry, with no file paths (keys must
    /// be the same on every machine).
    static let spec = """
        experiment: golden
        backbones:
          pixels: {kind: pixels, size: 12}
          tiny: {kind: vit-tiny-random, seed: 5, resolution: 56}
          tiny-patches: {kind: vit-tiny-random, seed: 6, resolution: 56}
        datasets:
          phantom: {kind: phantom, count: 40, seed: 9, size: 64}
          phantom-masks: {kind: phantom, count: 40, seed: 9, size: 64, masks: true}
        heads:
          small: {kind: mlp, hidden: [16], dropout: 0.1, max_epochs: 20}
        tasks:
          - name: views
            kind: retrieval
            k: [5, 10]
            relevance: [view]
            matrix: {backbone: [pixels, tiny], dataset: [phantom], features: [cls, mean]}
          - name: findings
            kind: classification
            labels: [nodule, effusion]
            metric: [auroc, mcc]
            matrix: {backbone: [pixels], dataset: [phantom], head: [small, linear], fraction: [0.5, 1], seed: [0], features: [cls+mean]}
          - name: sex
            kind: fairness
            labels: [nodule]
            bootstrap: {replicates: 20, seed: 1}
            correction: holm
            matrix: {backbone: [tiny], dataset: [phantom], train: [male, female], test: [male, female, all]}
          - name: few
            kind: classification
            labels: [nodule]
            metric: [auroc, ece]
            compare: {against: pixels, test: paired-bootstrap, replicates: 50}
            tries: 2
            matrix: {backbone: [pixels, tiny], dataset: [phantom], head: [knn, small], shots: [2]}
          - name: organs
            kind: segmentation
            classes: [lungs, heart]
            loss: dice+ce
            mask_size: 32
            iterations: 10
            upernet: {layers: [3, 6, 9, 12], channels: 16, neck_channels: 16}
            bootstrap: {replicates: 20, seed: 1}
            matrix: {backbone: [tiny], dataset: [phantom-masks], decoder: [linear, upernet], seed: [0]}
          - name: nodule-heads
            kind: classification
            labels: [nodule]
            metric: [auroc, mcc]
            matrix: {backbone: [tiny-patches], dataset: [phantom-masks], head: [pe-conv, multitask], fraction: [1], seed: [0]}
        """

    @Test func stageKeysOfAFixedSpecAreUnchanged() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-golden-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let registry = Registry.standard
        let spec = try SpecLoader(catalog: registry.catalog, environment: [:]).load(text: Self.spec, directory: folder)
        let compiled = try GraphBuilder.compile(spec, catalog: registry.catalog, options: registry.compileOptions,
                                                digester: FileDigester(memoURL: nil))
        var keys: [String: String] = [:]
        for stage in compiled.graph.stages {
            #expect(keys[stage.label] == nil, "two stages labelled \(stage.label)")
            keys[stage.label] = stage.key.rawValue
        }
        #expect(compiled.graph.stages.count == 71)
        if ProcessInfo.processInfo.environment["XRBENCH_RECORD_GOLDEN"] == "1" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(keys).write(to: Self.fixture)
            return
        }
        let expected = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: Self.fixture))
        #expect(Set(keys.keys) == Set(expected.keys), "stages added or removed")
        for label in keys.keys.sorted() where expected[label] != nil && expected[label] != keys[label] {
            Issue.record("the key of \(label) changed: \(expected[label]!.prefix(12)) → \(keys[label]!.prefix(12)); bump the runner's codeVersion if its output changes, and re-record")
        }
    }
}
