import Datasets
import Engine
import Foundation
import Imaging
import Models
import Pipeline
import Results
import Tensor
import Testing

/// Wraps a family so that its backbone counts the images it embeds (any image backbone).
struct CountingFamily: BackboneFamily {
    let inner: any BackboneFamily
    let embedded: ImageCount
    var name: String { inner.name }
    var summary: String { inner.summary }
    var options: [SchemaField] { inner.options }
    func check(_ options: [String: ParameterValue]) -> [SpecProblem] { inner.check(options) }
    func embeddingShape(_ options: [String: ParameterValue]) -> EmbeddingShape? { inner.embeddingShape(options) }

    func makeBackbone(_ options: ComponentOptions) throws -> any Backbone {
        CountingImageBackbone(inner: try inner.makeBackbone(options) as! any ImageBackbone, embedded: embedded)
    }
}

struct CountingImageBackbone: ImageBackbone {
    let inner: any ImageBackbone
    let embedded: ImageCount
    var description: String { inner.description }
    var dimension: Int { inner.dimension }
    var patchGrid: (height: Int, width: Int)? { inner.patchGrid }

    func embed(images: [URL], outputs: EmbeddingOutputs, context: StageContext) throws -> EmbeddingBatch {
        embedded.add(images.count)
        return try inner.embed(images: images, outputs: outputs, context: context)
    }
}

/// A random ViT over 40 phantom PNGs read through `csv`, in shards of `shardImages`.
struct ViTStoreProject {
    static let imageCount = 40
    let folder: URL
    let embedded = ImageCount()
    var configuration: EngineConfiguration

    init(folder given: URL? = nil, shardImages: Int) throws {
        folder = given ?? FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-vitstore-\(UUID().uuidString)")
        if !FileManager.default.fileExists(atPath: folder.appendingPathComponent("data/manifest.csv").path) {
            var options = PhantomOptions()
            options.imageSize = 48
            try generatePhantomDataset(at: folder.appendingPathComponent("data"), count: Self.imageCount, seed: 11, options: options)
        }
        var registry = Registry.standard
        registry.register(backbone: CountingFamily(inner: TinyRandomViTFamily(), embedded: embedded))
        registry.register(runner: EmbedRunner(shardImages: shardImages))
        configuration = EngineConfiguration(
            cacheDirectory: folder.appendingPathComponent("cache"), databasePath: folder.appendingPathComponent("results.sqlite"),
            jobs: 2, environment: [:], registry: registry, observer: nil, handlesInterrupts: false)
    }

    static let spec = """
        experiment: vit-store
        backbones: {tiny: {kind: vit-tiny-random, seed: 4, resolution: 56}}
        datasets: {images: {kind: csv, manifest: data/manifest.csv, root: data, patient_column: patient, label_columns: [marker]}}
        tasks:
          - {name: neighbours, kind: retrieval, k: [1], relevance: marker, matrix: {backbone: [tiny], dataset: [images]}}
        """

    func run() throws -> RunReport {
        let url = folder.appendingPathComponent("spec.yaml")
        try Self.spec.write(to: url, atomically: true, encoding: .utf8)
        return try Engine.run(specURL: url, configuration: configuration)
    }

    var cache: ArtifactCache { get throws { try ArtifactCache(root: configuration.cacheDirectory) } }

    /// The CLS and mean rows of the embed artifact.
    func embeddings() throws -> [Float] {
        let cache = try cache
        let entry = try #require(cache.entries().first { $0.kind == .embed })
        let artifact = try EmbeddingArtifact.read(from: cache.directory(for: entry.key, kind: .embed), cacheDirectory: cache.root)
        return artifact.cls + (artifact.mean ?? [])
    }

    /// Images in committed shards.
    func storedImages() throws -> [String] {
        let cache = try cache
        return try cache.entries().filter { $0.kind == StageKind("embedding-shard") }.flatMap { entry -> [String] in
            let data = try Data(contentsOf: cache.directory(for: entry.key, kind: entry.kind).appendingPathComponent("shard.json"))
            return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["images"] as? [String] ?? []
        }
    }
}

/// Kill and resume, and two processes on one stage: child processes are this test binary
/// re-launched to run only `embeddingChild` on the folder in `XRBENCH_EMBED_TEST_FOLDER`.
@Suite struct EmbeddingResumeTests {
    static let folderVariable = "XRBENCH_EMBED_TEST_FOLDER"

    @Test(.enabled(if: ProcessInfo.processInfo.environment[folderVariable] != nil))
    func embeddingChild() throws {
        let folder = URL(fileURLWithPath: ProcessInfo.processInfo.environment[Self.folderVariable]!)
        let project = try ViTStoreProject(folder: folder, shardImages: 4)
        let report = try project.run()
        #expect(report.status == .succeeded)
        // What this process embedded, for the parent to add up.
        try String(project.embedded.take()).write(to: folder.appendingPathComponent("embedded-\(getpid())"), atomically: true, encoding: .utf8)
    }

    /// The children's stderr, for a failure message.
    func childLogs(in folder: URL) -> String {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix("child-") }
        return names.map { (try? String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)) ?? "" }
            .map { String($0.suffix(4000)) }.joined(separator: "\n---\n")
    }

    func launchChild(in folder: URL) throws -> Process {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["--testing-library", "swift-testing", "--filter", "embeddingChild"]
        child.environment = ProcessInfo.processInfo.environment.merging([Self.folderVariable: folder.path]) { $1 }
        child.standardOutput = FileHandle.nullDevice
        // Its stderr goes to a file, quoted when it fails.
        let log = folder.appendingPathComponent("child-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        child.standardError = try FileHandle(forWritingTo: log)
        try child.run()
        return child
    }

    @Test(.disabled(if: ProcessInfo.processInfo.environment[folderVariable] != nil))
    func aKilledEmbeddingResumesAtItsFirstMissingShardToTheSameRows() throws {
        // The uninterrupted reference, with the same shards.
        let reference = try ViTStoreProject(shardImages: 4)
        #expect(try reference.run().status == .succeeded)
        let expected = try reference.embeddings()
        // Rows computed in other batches (one big shard) agree to the bit: the forward runs one
        // image at a time, so an image's products do not depend on its batch-mates.
        let oneShard = try ViTStoreProject(shardImages: 256)
        #expect(try oneShard.run().status == .succeeded)
        let otherBatches = try oneShard.embeddings()
        let differing = zip(otherBatches, expected).filter { $0 != $1 }.count
        #expect(otherBatches.count == expected.count && differing == 0,
                "\(differing) of \(expected.count) values differ between shards of 4 and of 256 images")

        let project = try ViTStoreProject(shardImages: 4)
        let child = try launchChild(in: project.folder)
        // Kill it once some shards, not all, are committed.
        let deadline = Date().addingTimeInterval(120)
        var committed = 0
        while child.isRunning, Date() < deadline {
            committed = (try? project.storedImages().count) ?? 0
            if committed >= 8 { break }
            Thread.sleep(forTimeInterval: 0.01)
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        committed = try project.storedImages().count
        #expect(committed >= 8 && committed < ViTStoreProject.imageCount, "killed after \(committed) images")

        let resumed = try project.run()
        #expect(resumed.status == .succeeded, "\(resumed.summary)")
        #expect(project.embedded.take() == ViTStoreProject.imageCount - committed)
        // Bit-identical to the uninterrupted run.
        #expect(try project.embeddings() == expected)
    }

    @Test(.disabled(if: ProcessInfo.processInfo.environment[folderVariable] != nil))
    func twoProcessesShareOneEmbeddingStagesShards() throws {
        let project = try ViTStoreProject(shardImages: 4)
        let children = try (0..<2).map { _ in try launchChild(in: project.folder) }
        for child in children { child.waitUntilExit() }
        #expect(children.map(\.terminationStatus) == [0, 0], "\(childLogs(in: project.folder))")
        let counts = try FileManager.default.contentsOfDirectory(atPath: project.folder.path).filter { $0.hasPrefix("embedded-") }
            .map { Int(try String(contentsOf: project.folder.appendingPathComponent($0), encoding: .utf8)) ?? -1 }
        // Every image embedded once, by one of the two.
        #expect(counts.count == 2 && counts.reduce(0, +) == ViTStoreProject.imageCount, "\(counts)")
        let stored = try project.storedImages()
        #expect(stored.count == ViTStoreProject.imageCount && Set(stored).count == stored.count)
    }
}

/// A task kind that asks for patch tokens and two blocks, and records the first sample's
/// stored tokens (a test stand-in for a dense head).
struct TokenProbeTask: TaskKind {
    var name: String { "token-probe" }
    var summary: String { "reads stored tokens (test)" }
    var fields: [SchemaField] { [] }
    var axes: [SchemaField] { [] }
    var runners: [any StageRunner] { [TokenProbeRunner()] }

    func embeddingOutputs(_ task: TaskSpec, in spec: Spec) -> EmbeddingOutputs {
        EmbeddingOutputs(patchTokens: true, layers: [3, 12])
    }

    func compile(_ task: TaskSpec, into graph: inout GraphBuilder) {
        for backbone in task.matrix.backbone {
            for dataset in task.matrix.dataset {
                guard let (embed, _) = graph.embedding(backbone: backbone, dataset: dataset) else { continue }
                graph.add(StageKind("token-probe"), parameters: ["sample": 0], inputs: ["embed": embed.key], label: "token probe")
            }
        }
    }
}

struct TokenProbeRunner: StageRunner {
    var kind: StageKind { "token-probe" }

    func run(_ context: StageContext) throws -> StageOutputs {
        let tokens = try EmbeddingTokens(embedDirectory: context.input("embed").directory, cacheDirectory: context.cacheDirectory)
        let stored = ["patch": try tokens.patchTokens(0), "layer3": try tokens.layer(3, 0), "layer12": try tokens.layer(12, 0)]
        try JSONEncoder().encode(stored).write(to: context.outputDirectory.appendingPathComponent("tokens.json"))
        try JSONEncoder().encode(tokens.ids).write(to: context.outputDirectory.appendingPathComponent("ids.json"))
        return StageOutputs()
    }
}

@Suite struct StoredTokensTests {
    @Test func patchTokensAndBlocksReadBackAsTheForwardPassGaveThemToFloat16Rounding() throws {
        var project = try ViTStoreProject(shardImages: 256)
        project.configuration.registry.register(task: TokenProbeTask())
        let url = project.folder.appendingPathComponent("spec.yaml")
        try ViTStoreProject.spec.replacingOccurrences(of: "kind: retrieval, k: [1], relevance: marker,", with: "kind: token-probe,")
            .write(to: url, atomically: true, encoding: .utf8)
        let report = try Engine.run(specURL: url, configuration: project.configuration)
        #expect(report.status == .succeeded, "\(report.summary)")
        let cache = try project.cache
        let entry = try #require(cache.entries().first { $0.kind == StageKind("token-probe") })
        let folder = cache.directory(for: entry.key, kind: entry.kind)
        let stored = try JSONDecoder().decode([String: [Float]].self, from: Data(contentsOf: folder.appendingPathComponent("tokens.json")))
        let firstID = try JSONDecoder().decode([String].self, from: Data(contentsOf: folder.appendingPathComponent("ids.json")))[0]

        // The same image through the same model, directly.
        let model = VisionTransformer(randomlyInitialized: TinyRandomViTFamily.configuration(resolution: 56), seed: 4)
        let image = Preprocessing(size: 56).apply(to: try decodeImage(at: project.folder.appendingPathComponent("data").appendingPathComponent(firstID)))
        let output = try model.forward(Tensor(shape: [1, 3, 56, 56], scalars: image.values), intermediateBlocks: [3, 12])
        let patches = output.patchTokens.scalars
        func withoutClass(_ tokens: Tensor) -> [Float] { tokens.sliced(axis: 1, range: 1..<tokens.shape[1]).scalars }
        for (name, reference) in [("patch", patches), ("layer3", withoutClass(output.intermediates[3]!)),
                                  ("layer12", withoutClass(output.intermediates[12]!))] {
            let values = try #require(stored[name])
            #expect(values.count == 16 * 192, "\(name)")
            // Within one float16 rounding step of the forward's value.
            let worst = zip(values, reference).map { abs($0 - $1) / max(abs($1), 6.1e-5) }.max() ?? .infinity
            #expect(worst <= 1.0 / 1024, "\(name): relative error \(worst)")
        }
        // The final block's output is what the forward pass returns as patch tokens.
        #expect(stored["layer12"] == stored["patch"])
    }
}
