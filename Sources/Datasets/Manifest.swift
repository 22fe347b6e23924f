import Foundation

/// A dataset as the evaluation sees it: a label schema and a deterministically ordered list of
/// samples whose image paths are relative to `root`.
///
/// Every adapter (phantom, CheXpert, MURA, generic CSV) produces one. Samples are sorted by
/// `id` (String order: byte order for ASCII ids), so the same data gives the same manifest
/// whatever order the source files list it in. The engine keys its cache on a digest of `canonicalSerialization()`;
/// `root` is deliberately not part of it, so moving a dataset does not invalidate the cache.
public struct Manifest: Sendable, Hashable, Codable {
    /// The adapter that made the manifest: `phantom`, `chexpert`, `mura`, `csv`.
    public let dataset: String
    /// The directory image paths are relative to.
    public let root: URL
    /// The labels samples carry.
    public let schema: LabelSchema
    /// Samples sorted by `id`; ids are unique.
    public let samples: [Sample]

    /// Creates a manifest, sorting samples by id and checking them against the schema.
    ///
    /// - Throws: `DatasetError.duplicateSampleID` when two samples share an id,
    ///   `DatasetError.invalidLabelValue` when a sample carries a label the schema does not
    ///   define or a value the label does not allow. `source` names the file in those errors.
    /// - Complexity: O(n log n) in the number of samples.
    public init(dataset: String, root: URL, schema: LabelSchema, samples: [Sample], source: String? = nil) throws(DatasetError) {
        // Sorting indices with String's `<` (byte order for ASCII, canonical order otherwise) keeps
        // this fast even in debug builds, where generic comparisons of UTF-8 views are slow.
        let ids = samples.map(\.id)
        let order = ids.indices.sorted { ids[$0] < ids[$1] }
        let sorted = order.map { samples[$0] }
        for index in sorted.indices.dropFirst() where sorted[index].id == sorted[index - 1].id {
            throw .duplicateSampleID(file: source ?? dataset, id: sorted[index].id)
        }
        var definitions: [String: LabelDefinition] = [:]
        for definition in schema.labels { definitions[definition.name] = definition }
        for sample in sorted {
            for (name, value) in sample.labels {
                guard let definition = definitions[name], definition.accepts(value) else {
                    throw .invalidLabelValue(file: source ?? dataset, sampleID: sample.id, label: name,
                                             value: value.canonicalText,
                                             allowed: definitions[name].map(Self.allowedValues) ?? "no such label in the schema (\(schema.names.joined(separator: ", ")))")
                }
            }
        }
        self.dataset = dataset
        self.root = root
        self.schema = schema
        self.samples = sorted
    }

    private static func allowedValues(_ definition: LabelDefinition) -> String {
        switch definition.kind {
        case .binary: "1, 0, -1 or missing"
        case .multiClass: definition.classes.joined(separator: ", ") + " or missing"
        }
    }

    /// The samples for which `isIncluded` holds, as a manifest with the same schema and root.
    public func filtered(_ isIncluded: (Sample) -> Bool) -> Manifest {
        // Already sorted, unique and valid, so no re-validation is needed.
        Manifest(unchecked: dataset, root: root, schema: schema, samples: samples.filter(isIncluded))
    }

    private init(unchecked dataset: String, root: URL, schema: LabelSchema, samples: [Sample]) {
        self.dataset = dataset
        self.root = root
        self.schema = schema
        self.samples = samples
    }

    /// The absolute location of a sample's image.
    public func imageURL(of sample: Sample) -> URL {
        root.appendingPathComponent(sample.imagePath, isDirectory: false)
    }

    /// Distinct patient ids in first-appearance (id) order.
    public var patientIDs: [String] {
        var seen = Set<String>()
        return samples.compactMap { seen.insert($0.patientID).inserted ? $0.patientID : nil }
    }

    /// How many samples have each value of label `name` (missing included).
    public func valueCounts(of name: String) -> [LabelValue: Int] {
        var counts: [LabelValue: Int] = [:]
        for sample in samples { counts[sample.label(name), default: 0] += 1 }
        return counts
    }
}
