import Datasets
import Engine
import Foundation
import Imaging
import Pipeline
import Results
import Synchronization
import Testing

/// The `histogram` family with a count of the images it embedded: what proves that an image is
/// embedded once, and only when its content is new.
struct CountingHistogramFamily: BackboneFamily {
    let embedded: ImageCount
    var name: String { "histogram" }
    var summary: String { "counting histogram (test)" }
    var options: [SchemaField] { [SchemaField("bins", .integer(NumberRange(lower: 2, upper: 256)), required: true)] }

    func makeBackbone(_ options: ComponentOptions) throws -> any Backbone {
        CountingBackbone(inner: HistogramBackbone(bins: try options.integer("bins") ?? 8, gamma: 1), embedded: embedded)
    }
}

/// A thread-safe count.
final class ImageCount: Sendable {
    private let value = Mutex(0)
    func add(_ count: Int) { value.withLock { $0 += count } }
    /// The count so far; resets it.
    func take() -> Int { value.withLock { count in defer { count = 0 }; return count } }
}

struct CountingBackbone: ImageBackbone {
    let inner: HistogramBackbone
    let embedded: ImageCount
    var description: String { inner.description }
    var dimension: Int { inner.dimension }
    var patchGrid: (height: Int, width: Int)? { nil }

    func embed(images: [URL], outputs: EmbeddingOutputs, context: StageContext) throws -> EmbeddingBatch {
        embedded.add(images.count)
        return try inner.embed(images: images, outputs: outputs, context: context)
    }
}

/// A project whose dataset is a folder of phantom PNGs read through the `csv` adapter (a
/// dataset outside the cache, so its manifest is volatile), embedded in shards of 4 images.
struct StoreProject {
    let folder: URL
    let embedded = ImageCount()
    var configuration: EngineConfiguration

    init(count: Int = 24) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-store-\(UUID().uuidString)")
        var options = PhantomOptions()
        options.imageSize = 32
        try generatePhantomDataset(at: folder.appendingPathComponent("data"), count: count, seed: 5, options: options)
        var registry = Registry.standard
        registry.register(backbone: CountingHistogramFamily(embedded: embedded))
        registry.register(runner: EmbedRunner(shardImages: 4))
        configuration = EngineConfiguration(
            cacheDirectory: folder.appendingPathComponent("cache"), databasePath: folder.appendingPathComponent("results.sqlite"),
            jobs: 2, environment: [:], registry: registry, observer: nil, handlesInterrupts: false)
    }

    /// A spec over the dataset at `data` (relative to the project), with a classification task
    /// (splits, probes) and a retrieval task reading the embeddings.
    func spec(data: String = "data", datasets: [String] = ["phantom"], extraDatasets: String = "", onError: String? = nil) -> String {
        """
        experiment: store
        backbones:
          hist: {kind: histogram, bins: 8}
        datasets:
          phantom: {kind: csv, manifest: \(data)/manifest.csv, root: \(data), patient_column: patient, label_columns: [marker]\(onError.map { ", on_error: \($0)" } ?? "")}
        \(extraDatasets)
        heads: {quick: {kind: linear, max_epochs: 3}}
        tasks:
          - {name: marker, kind: classification, labels: [marker], metric: accuracy, matrix: {backbone: [hist], dataset: \(datasets), head: [quick]}}
          - {name: views, kind: retrieval, k: [1], relevance: marker, matrix: {backbone: [hist], dataset: \(datasets)}}
        """
    }

    func run(_ yaml: String) throws -> RunReport {
        let url = folder.appendingPathComponent("spec.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return try Engine.run(specURL: url, configuration: configuration)
    }

    /// Stages this run computed, by kind.
    func computed(_ report: RunReport) throws -> [String: Int] {
        let table = try ResultStore.openReadOnly(path: configuration.databasePath).query(
            "SELECT kind, count(*) FROM stage_execution WHERE run_id = \(report.runID) AND status = 'succeeded' GROUP BY kind")
        return Dictionary(uniqueKeysWithValues: table.rows.map { ($0[0].textValue ?? "", Int($0[1].doubleValue ?? -1)) })
    }

    /// The CLS rows of the one embed artifact this run used.
    func embeddings(_ report: RunReport) throws -> [Float] {
        let key = try ResultStore.openReadOnly(path: configuration.databasePath).query(
            "SELECT stage_key FROM stage_execution WHERE run_id = \(report.runID) AND kind = 'embed'").rows.first?.first?.textValue ?? ""
        let cache = try ArtifactCache(root: configuration.cacheDirectory)
        return try EmbeddingArtifact.read(from: cache.directory(for: StageKey(key), kind: .embed), cacheDirectory: cache.root).cls
    }

    func csv() throws -> String {
        try String(contentsOf: folder.appendingPathComponent("data/manifest.csv"), encoding: .utf8)
    }

    func writeCSV(_ text: String) throws {
        try text.write(to: folder.appendingPathComponent("data/manifest.csv"), atomically: true, encoding: .utf8)
    }
}

@Suite struct EmbeddingStoreTests {
    @Test func aLabelEditReEmbedsNothingAndAnUnreadColumnChangesNoKey() throws {
        let project = try StoreProject()
        let first = try project.run(project.spec())
        #expect(first.status == .succeeded, "\(first.summary)")
        #expect(project.embedded.take() == 24)
        // A column no stage reads (the bit depth): the manifest runs again, nothing else.
        let lines = try project.csv().split(separator: "\n").map(String.init)
        var edited = [lines[0]] + lines.dropFirst().map { $0.hasSuffix(",8") ? String($0.dropLast()) + "16" : $0 }
        try project.writeCSV(edited.joined(separator: "\n") + "\n")
        let unread = try project.run(project.spec())
        #expect(project.embedded.take() == 0)
        #expect(try project.computed(unread) == [:], "the manifest read the same content: nothing is new")
        // A label the task reads: splits, probes and metrics re-run; no image is embedded.
        let header = edited[0].split(separator: ",").map(String.init)
        let marker = header.firstIndex(of: "marker")!
        var fields = edited[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[marker] = fields[marker] == "1" ? "0" : "1"
        edited[1] = fields.joined(separator: ",")
        try project.writeCSV(edited.joined(separator: "\n") + "\n")
        let relabelled = try project.run(project.spec())
        #expect(relabelled.status == .succeeded, "\(relabelled.summary)")
        #expect(project.embedded.take() == 0)
        let computed = try project.computed(relabelled)
        #expect(computed["embed"] == nil && computed["split"] == 1 && computed["probe"] == 1)
    }

    @Test func swappedImageBytesReEmbedExactlyTheSwappedImages() throws {
        let project = try StoreProject()
        let first = try project.run(project.spec())
        _ = project.embedded.take()
        let images = project.folder.appendingPathComponent("data/images")
        let files = try FileManager.default.contentsOfDirectory(atPath: images.path).sorted()
        let a = images.appendingPathComponent(files[0]), b = images.appendingPathComponent(files[1])
        let bytesA = try Data(contentsOf: a), bytesB = try Data(contentsOf: b)
        try bytesB.write(to: a)
        try bytesA.write(to: b)
        let swapped = try project.run(project.spec())
        #expect(swapped.status == .succeeded, "\(swapped.summary)")
        // Both images' contents were embedded before (under each other's names): nothing new.
        #expect(project.embedded.take() == 0)
        let before = try project.embeddings(first), after = try project.embeddings(swapped)
        #expect(before != after)
        // A changed image, though, is embedded, and only it.
        var changed = bytesA
        changed.append(contentsOf: [0])   // trailing bytes after IEND: a different file, the same picture
        try changed.write(to: a)
        _ = try project.run(project.spec())
        #expect(project.embedded.take() == 1)
    }

    @Test func aMovedDatasetReEmbedsNothingAndKeepsEveryKey() throws {
        let project = try StoreProject()
        let first = try project.run(project.spec())
        _ = project.embedded.take()
        try FileManager.default.moveItem(at: project.folder.appendingPathComponent("data"),
                                         to: project.folder.appendingPathComponent("moved"))
        let moved = try project.run(project.spec(data: "moved"))
        #expect(moved.status == .succeeded, "\(moved.summary)")
        #expect(project.embedded.take() == 0)
        #expect(moved.executed == 0 && moved.cached == first.totalStages)
    }

    @Test func aGrownDatasetEmbedsOnlyItsNewImages() throws {
        let project = try StoreProject(count: 24)
        _ = try project.run(project.spec())
        #expect(project.embedded.take() == 24)
        var options = PhantomOptions()
        options.imageSize = 32
        try generatePhantomDataset(at: project.folder.appendingPathComponent("more"), count: 30, seed: 5, options: options)
        // The same seed draws the same first 24 images, then 6 more.
        let grown = try project.run(project.spec(data: "more"))
        #expect(grown.status == .succeeded, "\(grown.summary)")
        #expect(project.embedded.take() == 6)
    }

    /// A process killed between committing a shard and writing its marker leaves a shard that
    /// no marker lists: the next run finds it by its key, marks it and embeds nothing again.
    @Test func aCommittedShardWithoutItsMarkerIsMarkedAndReused() throws {
        let project = try StoreProject(count: 24)
        _ = try project.run(project.spec())
        #expect(project.embedded.take() == 24)
        try FileManager.default.removeItem(at: project.configuration.cacheDirectory.appendingPathComponent("embedding-spaces"))
        var options = PhantomOptions()
        options.imageSize = 32
        try generatePhantomDataset(at: project.folder.appendingPathComponent("more"), count: 30, seed: 5, options: options)
        let grown = try project.run(project.spec(data: "more"))
        #expect(grown.status == .succeeded, "\(grown.summary)")
        #expect(project.embedded.take() == 6)
    }

    @Test func theSameImageInTwoDatasetsIsEmbeddedOnce() throws {
        let project = try StoreProject()
        try FileManager.default.copyItem(at: project.folder.appendingPathComponent("data"), to: project.folder.appendingPathComponent("copy"))
        // The second dataset: half of the same images, under another label file.
        let lines = try project.csv().split(separator: "\n").map(String.init)
        try (lines.prefix(13).joined(separator: "\n") + "\n").write(to: project.folder.appendingPathComponent("copy/manifest.csv"),
                                                                    atomically: true, encoding: .utf8)
        let spec = project.spec(datasets: ["phantom", "copy"], extraDatasets: "  copy: {kind: csv, manifest: copy/manifest.csv, root: copy, patient_column: patient, label_columns: [marker]}")
        let report = try project.run(spec)
        #expect(report.status == .succeeded, "\(report.summary)")
        #expect(project.embedded.take() == 24)
    }
}

@Suite struct UnreadableImageTests {
    /// Breaks two images of the dataset; returns their paths.
    func breakTwoImages(_ project: StoreProject) throws -> [String] {
        let images = project.folder.appendingPathComponent("data/images")
        let files = try FileManager.default.contentsOfDirectory(atPath: images.path).sorted()
        let broken = [files[3], files[17]].map { images.appendingPathComponent($0) }
        for url in broken { try Data("not a png: \(url.lastPathComponent)".utf8).write(to: url) }
        return broken.map(\.path)
    }

    @Test func everyUnreadableImageIsListedAtOnceAndTheOthersAreKept() throws {
        let project = try StoreProject()
        let broken = try breakTwoImages(project)
        let report = try project.run(project.spec())
        #expect(report.status == .failed)
        let message = report.failures.first { $0.label.hasPrefix("embed") }?.message ?? ""
        #expect(message.contains("2 images cannot be read") && broken.allSatisfy(message.contains), "\(report.summary)")
        #expect(message.contains("on_error: skip"))
        // The readable images' shards were committed: fixing the two embeds only them.
        #expect(project.embedded.take() == 24)
        var options = PhantomOptions()
        options.imageSize = 32
        try generatePhantomDataset(at: project.folder.appendingPathComponent("data"), count: 24, seed: 5, options: options)
        #expect(try project.run(project.spec()).status == .succeeded)
        #expect(project.embedded.take() == 2)
    }

    @Test func skippedImagesAreRecordedAndLeftOutForEveryBackbone() throws {
        let project = try StoreProject()
        let broken = try breakTwoImages(project)
        let spec = project.spec(onError: "skip")
            .replacingOccurrences(of: "  hist: {kind: histogram, bins: 8}", with: "  hist: {kind: histogram, bins: 8}\n  pixels: {kind: pixels, size: 8}")
            .replacingOccurrences(of: "backbone: [hist]", with: "backbone: [hist, pixels]")
        let report = try project.run(spec)
        #expect(report.status == .succeeded, "\(report.summary)")
        #expect(project.embedded.take() == 22)
        let reader = try ResultStore.openReadOnly(path: project.configuration.databasePath)
        let issues = try reader.query("SELECT file, severity, dataset FROM latest_sample_issue ORDER BY file").rows
        #expect(issues.map { $0[0].textValue ?? "" } == broken.sorted())
        #expect(issues.allSatisfy { $0[1].textValue == "skipped" && $0[2].textValue == "phantom" })
        // Both backbones were tested on the same samples (one split, 22 images).
        let counts = try reader.query("SELECT DISTINCT n FROM latest_result WHERE task = 'marker'").rows
        #expect(counts.count == 1)
    }
}

@Suite struct EmbeddingStoragePlanTests {
    @Test func planSaysWhatEachEmbeddingWillStore() throws {
        var project = try ViTStoreProject(shardImages: 8)
        project.configuration.registry.register(task: TokenProbeTask())
        let url = project.folder.appendingPathComponent("spec.yaml")
        try ViTStoreProject.spec.replacingOccurrences(of: "kind: retrieval, k: [1], relevance: marker,", with: "kind: token-probe,")
            .write(to: url, atomically: true, encoding: .utf8)
        let plan = try Engine.plan(specURL: url, configuration: project.configuration)
        let estimate = try #require(plan.storage.first)
        // 40 images of a ViT-Ti at 56 px: 192-wide rows, a 4×4 grid, patch tokens and two blocks.
        #expect(estimate.images == 40 && estimate.newImages == 40)
        #expect(estimate.bytes == 40 * (192 * 8 + 3 * 16 * 192 * 2))
        #expect(plan.text().contains("embed tiny × images: 40 of 40 images × (CLS+mean 192×2×4 B + patch tokens 4×4×192×2 B + 2 blocks 4×4×192×2 B)"))
        // Once embedded, nothing more is needed.
        _ = try Engine.run(specURL: url, configuration: project.configuration)
        #expect(try Engine.plan(specURL: url, configuration: project.configuration).storage.isEmpty)
    }

    @Test func aRunThatWouldFillTheDiskIsRefused() {
        let estimate = StorageEstimate(label: "embed big × chexpert", images: 224_316, newImages: 224_316,
                                       shape: EmbeddingShape(dimension: 768, grid: [37, 37]), outputs: EmbeddingOutputs(patchTokens: true, layers: []))
        let problem = Engine.spaceProblem([estimate], freeBytes: 100 << 30, folder: "/cache")
        #expect(problem.map { "\($0)" }?.contains("need 473") == true)
        #expect(Engine.spaceProblem([estimate], freeBytes: 1 << 40, folder: "/cache") == nil)
    }
}
