import Datasets
import Engine
import Foundation
import Pipeline
import Results
import Testing
import TestSupport

/// A tiny segmentation project: phantom radiographs with label maps, the random-weight ViT.
struct SegmentationProject {
    let folder: URL
    let configuration: EngineConfiguration

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-segmentation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        configuration = EngineConfiguration(
            cacheDirectory: folder.appendingPathComponent("cache"), databasePath: folder.appendingPathComponent("results.sqlite"),
            jobs: 2, environment: [:], registry: Registry.standard, observer: nil, handlesInterrupts: false)
    }

    static func spec(task: String, masks: Bool = true) -> String {
        """
        experiment: segmentation
        backbones:
          tiny: {kind: vit-tiny-random, seed: 0, resolution: 112}
          pixels: {kind: pixels, size: 8}
        datasets:
          phantom: {kind: phantom, count: 60, seed: 3, size: 64, masks: \(masks)}
        tasks:
        \(task)
        """
    }

    func run(_ yaml: String) throws -> RunReport {
        let url = folder.appendingPathComponent("spec.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return try Engine.run(specURL: url, configuration: configuration)
    }

    /// The problems of compiling `yaml`, or none.
    static func problems(_ yaml: String) throws -> [SpecDiagnostic] {
        let registry = Registry.standard
        do {
            let spec = try SpecLoader(catalog: registry.catalog, environment: [:]).load(text: yaml, directory: FileManager.default.temporaryDirectory)
            _ = try GraphBuilder.compile(spec, catalog: registry.catalog, options: registry.compileOptions, digester: FileDigester(memoURL: nil))
            return []
        } catch let error as SpecError {
            return error.diagnostics
        }
    }
}

@Suite struct SegmentationTaskTests {
    static let lungs = """
          - name: lungs
            kind: segmentation
            classes: [lungs]
            mask_size: 32
            iterations: 200
            validation_interval: 50
            lr: 1e-3
            bootstrap: {replicates: 50, seed: 1}
            matrix: {backbone: [tiny], dataset: [phantom]}
        """

    @Test func aLinearDecoderLearnsTheLungsWellAboveChanceAndReRunsFromTheCache() throws {
        let project = try SegmentationProject()
        let first = try project.run(SegmentationProject.spec(task: Self.lungs))
        #expect(first.status == .succeeded, "\(first.summary)")
        let store = try ResultStore.openReadOnly(path: project.configuration.databasePath)
        func value(_ metric: String, _ label: String) throws -> Double? {
            try store.query("SELECT value FROM latest_result WHERE metric = '\(metric)' AND label = '\(label)'").rows.first?[0].doubleValue
        }
        let dicePositive = try #require(try value("dice-pos", "lungs"))
        let dice = try #require(try value("dice", ""))
        let low = try #require(try value("dice-ci-low", "")), high = try #require(try value("dice-ci-high", ""))
        #expect(low <= dice && dice <= high)

        // Per-image rows: their mean is the recorded mean, and positives are the images with lungs.
        let rows = try store.query("SELECT sample_id, dice, positive FROM latest_segmentation_score WHERE class = 'lungs'").rows
        let tested = try #require(try store.query("SELECT n FROM latest_result WHERE metric = 'dice' AND label = ''").rows.first?[0].doubleValue)
        #expect(rows.count == Int(tested) && rows.count >= 5, "the test part (about 20% of 60 images, by patient)")
        let mean = rows.map { $0[1].doubleValue! }.reduce(0, +) / Double(rows.count)
        #expect(abs(mean - dice) < 1e-12)

        // Chance: predicting lungs everywhere on the positive test images (the same masks, read directly).
        let data = project.folder.appendingPathComponent("reference")
        var options = PhantomOptions()
        options.imageSize = 64
        let manifest = try generatePhantomDataset(at: data, count: 60, seed: 3, options: options, masks: true)
        var chance: [Double] = []
        for row in rows where row[2].doubleValue == 1 {
            let sample = try #require(manifest.samples.first { $0.id == row[0].textValue })
            let masks = try manifest.masks(of: sample, size: MaskSize(width: 32, height: 32), padToSquare: true)
            let truth = Double(masks.pixelCounts[0])
            chance.append(2 * truth / (truth + 32 * 32))
        }
        #expect(!chance.isEmpty)
        let chanceDice = chance.reduce(0, +) / Double(chance.count)
        #expect(dicePositive > chanceDice + 0.1, "DicePos \(dicePositive) against all-lungs \(chanceDice)")

        // Again: every stage from the cache, the same numbers.
        let second = try project.run(SegmentationProject.spec(task: Self.lungs))
        #expect(second.status == .succeeded)
        #expect(second.summary.contains("0 computed"), "\(second.summary)")
        #expect(try value("dice-pos", "lungs") == dicePositive)
    }

    @Test func masksDefaultToTheBackbonesInputSizeAndTheEmbeddingStoresWhatTheDecodersRead() throws {
        let registry = Registry.standard
        let spec = try SpecLoader(catalog: registry.catalog, environment: [:]).load(text: SegmentationProject.spec(task: """
              - name: seg
                kind: segmentation
                matrix: {backbone: [tiny], dataset: [phantom], decoder: [linear, upernet]}
            """), directory: FileManager.default.temporaryDirectory)
        let graph = try GraphBuilder.compile(spec, catalog: registry.catalog, options: registry.compileOptions,
                                             digester: FileDigester(memoURL: nil)).graph
        let train = graph.stages.filter { $0.kind == .segmentationTrain }
        #expect(train.count == 2)
        for stage in train {
            #expect(try stage.parameters.decode(SegmentationTrainParameters.self).maskSize == 112)
        }
        let embed = try #require(graph.stages.first { $0.kind == .embed })
        #expect(try embed.parameters.decode(EmbedParameters.self).outputs == EmbeddingOutputs(patchTokens: true, layers: [4, 6, 8, 12]))
    }

    @Test func anUnknownDecoderOptionIsAPlanTimeErrorAtItsKey() throws {
        let problems = try SegmentationProject.problems(SegmentationProject.spec(task: """
              - name: seg
                kind: segmentation
                upernet: {chanels: 32}
                matrix: {backbone: [tiny], dataset: [phantom], decoder: [upernet]}
            """))
        let problem = try #require(problems.first)
        #expect(problem.keyPath == "tasks[0].upernet.chanels")
        #expect(problem.suggestion == "channels")
        #expect(problem.location.line == 10)
    }

    @Test func aBlockBeyondTheBackbonesDepthIsAPlanTimeError() throws {
        let problems = try SegmentationProject.problems(SegmentationProject.spec(task: """
              - name: seg
                kind: segmentation
                upernet: {layers: [4, 6, 8, 14]}
                matrix: {backbone: [tiny], dataset: [phantom], decoder: [upernet]}
            """))
        let problem = try #require(problems.first)
        #expect(problem.keyPath == "tasks[0].upernet.layers[3]")
        #expect(problem.message.contains("block 14 is beyond the depth of backbone \"tiny\" (12 blocks)"), "\(problem.message)")
        #expect(problem.location.line == 10)
    }

    @Test func uperNetsDefaultBlocksAreRefusedForABackboneOfAnotherDepth() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-depth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // A ViT-S/14 layout with 6 blocks: config.json is all the plan reads.
        try #"{"model_type": "dinov2", "hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 6, "patch_size": 14, "image_size": 518}"#
            .write(to: folder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let yaml = SegmentationProject.spec(task: """
              - name: seg
                kind: segmentation
                matrix: {backbone: [small], dataset: [phantom], decoder: [upernet]}
            """).replacingOccurrences(of: "  pixels: {kind: pixels, size: 8}", with: "  small: {kind: dinov2, path: \(folder.path)}")
        let problems = try SegmentationProject.problems(yaml)
        #expect(problems.map(\.keyPath) == ["tasks[0].matrix.backbone[0]"])
        #expect(problems.first?.message.contains("give `upernet: {layers: [2, 3, 4, 6]}`") == true, "\(problems)")
    }

    @Test func aDatasetWithoutMasksAndAnUnknownClassArePlanTimeErrors() throws {
        let noMasks = try SegmentationProject.problems(SegmentationProject.spec(task: """
              - name: seg
                kind: segmentation
                matrix: {backbone: [tiny], dataset: [phantom]}
            """, masks: false))
        #expect(noMasks.map(\.keyPath) == ["tasks[0].matrix.dataset[0]"])
        #expect(noMasks.first?.message.contains("has no segmentation masks") == true)
        #expect(noMasks.first?.message.contains("masks: true") == true)

        let unknownClass = try SegmentationProject.problems(SegmentationProject.spec(task: """
              - name: seg
                kind: segmentation
                classes: [lung]
                matrix: {backbone: [tiny], dataset: [phantom]}
            """))
        #expect(unknownClass.map(\.keyPath) == ["tasks[0].classes[0]"])
        #expect(unknownClass.first?.suggestion == "lungs")
    }

    @Test func aBackboneWithoutTokensIsAPlanTimeError() throws {
        let problems = try SegmentationProject.problems(SegmentationProject.spec(task: """
              - name: seg
                kind: segmentation
                matrix: {backbone: [tiny, pixels], dataset: [phantom]}
            """))
        #expect(problems.map(\.keyPath) == ["tasks[0].matrix.backbone[1]"])
    }
}

@Suite struct SegmentationRunErrorTests {
    @Test func aSoftmaxOverClassesThatMayOverlapFailsItsStageNamingTheOption() throws {
        let project = try SegmentationProject()
        let report = try project.run(SegmentationProject.spec(task: """
              - name: seg
                kind: segmentation
                classes: [lungs, heart]
                activation: softmax
                iterations: 5
                matrix: {backbone: [tiny], dataset: [phantom]}
            """).replacingOccurrences(of: "resolution: 112", with: "resolution: 56"))
        #expect(report.status == .failed)
        let failure = try #require(report.failures.first)
        #expect(failure.label.hasPrefix("segmentation-train seg"))
        #expect(failure.message.contains("activation") && failure.message.contains("may overlap"), "\(failure.message)")
        #expect(report.blocked == 2, "its metric and bootstrap stages")
    }
}

@Suite struct SegmentationAugmentedRunTests {
    @Test func uperNetWithThePapersAugmentationsRunsTheBackbonePerIterationAndIsDeterministic() throws {
        let task = """
              - name: organs
                kind: segmentation
                classes: [lungs, heart]
                mask_size: 16
                iterations: 12
                validation_interval: 6
                batch: 4
                augment: paper
                upernet: {layers: [3, 6, 9, 12], channels: 8, neck_channels: 8}
                bootstrap: {replicates: 20, seed: 1}
                matrix: {backbone: [tiny], dataset: [phantom], decoder: [upernet]}
            """
        func scores(_ project: SegmentationProject) throws -> [[QueryValue]] {
            let store = try ResultStore.openReadOnly(path: project.configuration.databasePath)
            return try store.query("SELECT sample_id, class, dice, iou FROM latest_segmentation_score ORDER BY sample_id, class").rows
        }
        let first = try SegmentationProject(), second = try SegmentationProject()
        for project in [first, second] {
            let report = try project.run(SegmentationProject.spec(task: task).replacingOccurrences(of: "resolution: 112", with: "resolution: 56"))
            #expect(report.status == .succeeded, "\(report.summary)")
        }
        let recorded = try scores(first)
        #expect(!recorded.isEmpty)
        #expect(recorded == (try scores(second)), "two fresh caches, the same augmented training")
        let store = try ResultStore.openReadOnly(path: first.configuration.databasePath)
        let note = try store.query("SELECT note FROM latest_result WHERE metric = 'dice' AND label = ''").rows.first?[0].textValue
        #expect(note == nil, "no deviation note with the paper's augmentations")
    }
}
