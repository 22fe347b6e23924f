import Foundation
import Pipeline
import Testing

/// A fresh temporary folder holding `files` (relative path → text).
func makeFolder(files: [String: String] = [:]) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-pipeline-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (path, text) in files {
        let url = folder.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
    return folder
}

// Kinds defined here, in the test target: Pipeline knows none by name, so these are all the
// spec language and the compiler have.

/// A backbone with a model folder (content digest), a width, and a check across options.
struct ToyNetwork: ComponentDefinition {
    var name: String { "toy-net" }
    var summary: String { "a test backbone" }
    var options: [SchemaField] {
        [SchemaField("weights", .path(.directory), required: true), SchemaField("width", .integer(.atLeastOne))]
    }

    func check(_ options: [String: ParameterValue]) -> [SpecProblem] {
        guard let width = options["width"]?.integerValue, width % 8 != 0 else { return [] }
        return [SpecProblem(at: "width", "must be a multiple of 8, not \(width)")]
    }
}

/// A dataset with a data root (location only) whose labels are known before its manifest.
struct ToySet: DatasetDefinition {
    var name: String { "toy-set" }
    var summary: String { "a test dataset" }
    var options: [SchemaField] { [SchemaField("root", .path(.dataRoot), required: true), SchemaField("rows", .integer())] }

    func fields(_ options: [String: ParameterValue]) throws(SpecProblem) -> DatasetFields? {
        DatasetFields(labels: ["finding"], attributes: ["sex"])
    }
}

/// A task that scores each (backbone, dataset, repeat) cell with one stage and checks its label.
struct ToyScore: TaskDefinition {
    var name: String { "toy-score" }
    var summary: String { "a test task" }
    var fields: [SchemaField] {
        [SchemaField("label", .string(), required: true), SchemaField("metric", .metric(input: "toy")), SchemaField("cut_off", .number())]
    }
    var axes: [SchemaField] { [SchemaField("repeat", .list(.integer(.nonNegative), minimumCount: 1))] }

    struct Options: Decodable {
        var label: String
        var cutOff: Double?
    }

    struct Parameters: Encodable {
        var label: String
        var cutOff: Double
        var round: Int
    }

    func check(_ task: TaskSpec, in spec: Spec) -> [SpecProblem] {
        guard let options = try? task.options(as: Options.self), let cutOff = options.cutOff, cutOff > 1 else { return [] }
        return [SpecProblem(at: "cut_off", "must be at most 1")]
    }

    func compile(_ task: TaskSpec, into graph: inout GraphBuilder) {
        guard let options = try? task.options(as: Options.self) else { return }
        for dataset in task.matrix.dataset {
            if let fields = graph.fields(ofDataset: dataset), !fields.labels.contains(options.label) {
                graph.report(at: task.keyPath("label"), "dataset \(dataset) has no label \(options.label)")
            }
        }
        for backbone in task.matrix.backbone {
            for dataset in task.matrix.dataset {
                guard let (embed, manifest) = graph.embedding(backbone: backbone, dataset: dataset) else { continue }
                for repeatIndex in task.matrix.integers("repeat") ?? [0] {
                    graph.add(StageKind("toy-score"), parameters: Parameters(label: options.label, cutOff: options.cutOff ?? 0.5, round: repeatIndex),
                              inputs: ["embed": embed.key, "manifest": manifest.key],
                              coordinates: StageCoordinates(experiment: graph.spec.experiment, task: task.name, backbone: backbone, dataset: dataset),
                              label: "toy-score \(backbone) × \(dataset) r=\(repeatIndex)")
                }
            }
        }
    }
}

let toyCatalog = Catalog(backbones: ["toy-net": ToyNetwork()], datasets: ["toy-set": ToySet()], tasks: ["toy-score": ToyScore()],
                         metrics: [MetricSpelling(spelling: "hits", input: "toy", displayName: "Hits", higherIsBetter: true)])

func toySpec(backbones: String = "[net-a, net-b]", label: String = "finding", extra: String = "") -> String {
    """
    experiment: toy
    backbones:
      net-a: {kind: toy-net, weights: model-a, width: 16}
      net-b: {kind: toy-net, weights: model-b}
    datasets:
      set: {kind: toy-set, root: data}
    tasks:
      - name: scores
        kind: toy-score
        label: \(label)
        metric: hits
        matrix:
          backbone: \(backbones)
          dataset: [set]
          repeat: [0, 1, 2]
    \(extra)
    """
}

let toyFiles = ["model-a/weights.bin": "a", "model-b/weights.bin": "b", "data/x.png": "x"]

@Suite struct CatalogTests {
    func compile(_ yaml: String, in folder: URL) throws -> CompiledSpec {
        let spec = try SpecLoader(catalog: toyCatalog, environment: [:]).load(text: yaml, directory: folder)
        return try GraphBuilder.compile(spec, catalog: toyCatalog, digester: FileDigester(memoURL: nil))
    }

    @Test func kindsFromTheCatalogCompileWithSharedStages() throws {
        let folder = try makeFolder(files: toyFiles)
        let compiled = try compile(toySpec(), in: folder)
        let counts = compiled.graph.countsByKind
        #expect(counts[.manifest] == 1)
        #expect(counts[.embed] == 2)
        #expect(counts[StageKind("toy-score")] == 6)
    }

    @Test func unknownOptionsAndKindsAreReportedWithTheirPosition() throws {
        let folder = try makeFolder(files: toyFiles)
        let yaml = toySpec().replacingOccurrences(of: "width: 16", with: "widt: 16")
            .replacingOccurrences(of: "kind: toy-set", with: "kind: toy-sett")
        do {
            _ = try compile(yaml, in: folder)
            Issue.record("a misspelt option loaded")
        } catch let error as SpecError {
            let unknown = try #require(error.diagnostics.first { $0.kind == .unknownKey })
            #expect(unknown.keyPath == "backbones.net-a.widt" && unknown.suggestion == "width")
            #expect(unknown.location.line == 3)
            let kind = try #require(error.diagnostics.first { $0.keyPath == "datasets.set.kind" })
            #expect(kind.suggestion == "toy-set")
        }
    }

    @Test func checksOfKindsAndTasksRunBeforeAnyWork() throws {
        let folder = try makeFolder(files: toyFiles)
        // A task check at load time.
        #expect(throws: SpecError.self) { try compile(toySpec(extra: "    cut_off: 2"), in: folder) }
        // A component check and a dataset-field check at compile time, with positions.
        let yaml = toySpec(label: "findng").replacingOccurrences(of: "width: 16", with: "width: 12")
        do {
            _ = try compile(yaml, in: folder)
            Issue.record("a bad width compiled")
        } catch let error as SpecError {
            #expect(error.diagnostics.map(\.keyPath).sorted() == ["backbones.net-a.width", "tasks[0].label"])
            #expect(error.diagnostics.allSatisfy { $0.location.line > 1 })
        }
    }

    @Test func metricsAreValidatedAgainstTheCatalog() throws {
        let folder = try makeFolder(files: toyFiles)
        do {
            _ = try compile(toySpec().replacingOccurrences(of: "metric: hits", with: "metric: hit"), in: folder)
            Issue.record("an unknown metric loaded")
        } catch let error as SpecError {
            #expect(error.diagnostics.first?.suggestion == "hits")
        }
    }

    @Test func folderOptionsEnterKeysByContentAndDataRootsDoNot() throws {
        let folder = try makeFolder(files: toyFiles)
        let before = try compile(toySpec(), in: folder).graph.stages
        // Editing a model folder's file changes that backbone's embedding (and what reads it) only.
        try "a2".write(to: folder.appendingPathComponent("model-a/weights.bin"), atomically: true, encoding: .utf8)
        let edited = try compile(toySpec(), in: folder).graph.stages
        let changed = Set(edited.map(\.key)).subtracting(before.map(\.key))
        #expect(changed.count == 4)   // embed net-a and its three toy-score stages
        // Adding an image under the data root changes no key: images enter through the manifest.
        try "y".write(to: folder.appendingPathComponent("data/y.png"), atomically: true, encoding: .utf8)
        #expect(try compile(toySpec(), in: folder).graph.stages.map(\.key) == edited.map(\.key))
    }
}
