import Datasets
import Foundation
import Pipeline

extension Engine {
    /// Reads dataset `name` of a spec with its adapter and describes it (rows, patients,
    /// studies, official splits, label and attribute value counts), without running anything
    /// else and without reading images (a generated dataset is generated into a temporary folder).
    /// A segmentation dataset's description adds the `masks` section: per class, the images with
    /// a non-empty mask and the mask pixels (every mask is read).
    /// - Throws: `SpecError` (the spec, or an unknown dataset name with the defined ones); the
    ///   adapter's `DatasetError`; `MaskError` for a mask that cannot be read.
    public static func describeDataset(specURL: URL, name: String, perOfficialSplit: Bool,
                                       configuration: EngineConfiguration) throws -> DatasetDescription {
        let catalog = configuration.registry.catalog
        let spec = try SpecLoader(catalog: catalog, environment: configuration.environment).load(specURL)
        guard let entry = spec.datasets[name], let adapter = configuration.registry.datasets[entry.kind] else {
            let known = spec.datasets.keys.sorted()
            throw SpecError(diagnostics: [SpecDiagnostic(
                kind: .unknownReference, location: spec.location(of: "datasets"), keyPath: "datasets",
                message: "no dataset \"\(name)\" (defined: \(known.isEmpty ? "none" : known.joined(separator: ", ")))",
                suggestion: closestMatch(to: name, among: known))])
        }
        let problems = adapter.check(entry.options)
        if !problems.isEmpty {
            throw SpecError(diagnostics: problems.map {
                let keyPath = "datasets.\(name)" + ($0.path.map { ".\($0)" } ?? "")
                return SpecDiagnostic(kind: .badValue, location: spec.location(of: keyPath), keyPath: keyPath, message: $0.message)
            })
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-dataset-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let manifest = try adapter.manifest(ComponentOptions(stage: "dataset \(name)", values: entry.options),
                                            context: DatasetContext(dataFolder: scratch, threads: configuration.jobs))
        var description = DatasetDescription(manifest, perOfficialSplit: perOfficialSplit)
        if manifest.segmentation != nil {
            description.sections.append(try DatasetDescription.maskSection(of: manifest, threads: configuration.jobs))
        }
        return description
    }
}
