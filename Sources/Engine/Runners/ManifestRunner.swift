import Datasets
import Foundation
import Pipeline
import Results

/// `manifest`: reads a dataset into a sample list (`manifest.json`) with its adapter from the
/// registry.
///
/// A generated dataset (`phantom`) writes its images into the artifact itself (`data/`), so the
/// cache holds the dataset and a second run needs nothing else; other adapters read the data
/// where it lives and the manifest keeps the absolute root.
public struct ManifestRunner: StageRunner {
    /// `manifest`.
    public var kind: StageKind { .manifest }
    /// Version 1.
    public var codeVersion: Int { 1 }
    /// Phantom generation draws images on every core.
    public var threadNeed: ThreadNeed { .all }

    /// Creates the runner.
    public init() {}

    /// Runs the adapter and writes `manifest.json`.
    /// - Throws: `DatasetError` (the adapter's, naming file and line), `RunnerError` for bad options.
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(ManifestParameters.self)
        guard let adapter = context.registry.datasets[parameters.adapter] else {
            throw RunnerError.unknownKind(what: "dataset adapter", kind: parameters.adapter, known: context.registry.datasets.keys.sorted())
        }
        let data = context.outputDirectory.appendingPathComponent(ManifestArtifact.phantomFolder, isDirectory: true)
        let manifest = try adapter.manifest(ComponentOptions(stage: context.stage.label, values: parameters.options),
                                            context: DatasetContext(dataFolder: data, threads: context.threads))
        let rootInArtifact = manifest.root.standardizedFileURL.path == data.standardizedFileURL.path
        try ManifestArtifact.write(manifest, rootInArtifact: rootInArtifact, to: context.outputDirectory)
        context.logger.debug("\(context.stage.label): \(manifest.samples.count) samples, \(Set(manifest.samples.map(\.patientID)).count) patients")
        // Contradicting dataset facts that do not stop the dataset (ManifestConsistency) are recorded.
        return StageOutputs(sampleIssues: manifest.issues.map { SampleIssueRow($0, dataset: parameters.adapter) })
    }
}

/// The manifest artifact: `manifest.json`, and for generated datasets the data beside it.
enum ManifestArtifact {
    static let fileName = "manifest.json"
    static let phantomFolder = "data"

    private struct Stored: Codable {
        /// The manifest; its root is meaningless when `rootInArtifact` (the artifact moves on commit).
        var manifest: Manifest
        /// Whether the images live in the artifact's `data/` folder.
        var rootInArtifact: Bool
    }

    static func write(_ manifest: Manifest, rootInArtifact: Bool, to directory: URL) throws {
        try ArtifactJSON.write(Stored(manifest: manifest, rootInArtifact: rootInArtifact), to: directory, name: fileName)
    }

    /// The manifest of a committed `manifest` artifact, its root pointing at the images.
    static func read(from directory: URL) throws -> Manifest {
        let stored = try ArtifactJSON.read(Stored.self, from: directory, name: fileName)
        guard stored.rootInArtifact else { return stored.manifest }
        let root = directory.appendingPathComponent(phantomFolder, isDirectory: true)
        return try Manifest(dataset: stored.manifest.dataset, root: root, schema: stored.manifest.schema,
                            samples: stored.manifest.samples, source: directory.appendingPathComponent(fileName).path)
    }
}
