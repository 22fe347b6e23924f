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
    /// The segmentation classes, when the samples carry masks (nil otherwise, and then absent
    /// from the JSON, so manifests without masks encode as they always have).
    public let segmentation: SegmentationSchema?

    /// Creates a manifest, sorting samples by id and checking them against the schema.
    ///
    /// - Parameter segmentation: the mask classes; every sample then has exactly one
    ///   `MaskSource` per class. Without it, no sample may carry masks.
    /// - Throws: `DatasetError.duplicateSampleID` when two samples share an id,
    ///   `DatasetError.invalidLabelValue` when a sample carries a label the schema does not
    ///   define or a value the label does not allow, `.invalidMasks` when a sample's masks do
    ///   not match the classes. `source` names the file in those errors.
    /// - Complexity: O(n log n) in the number of samples.
    public init(dataset: String, root: URL, schema: LabelSchema, samples: [Sample], segmentation: SegmentationSchema? = nil,
                source: String? = nil) throws(DatasetError) {
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
        for sample in sorted {
            let classes = sample.masks.map { Set($0.keys) } ?? []
            guard let segmentation else {
                guard classes.isEmpty else {
                    throw .invalidMasks(file: source ?? dataset, sampleID: sample.id, reason: "it has masks but the manifest has no segmentation classes")
                }
                continue
            }
            guard classes == Set(segmentation.classes) else {
                let missing = segmentation.classes.filter { !classes.contains($0) }
                let extra = classes.subtracting(segmentation.classes).sorted()
                throw .invalidMasks(file: source ?? dataset, sampleID: sample.id,
                                    reason: (missing.isEmpty ? "" : "no mask for \(missing.joined(separator: ", "))")
                                        + (missing.isEmpty || extra.isEmpty ? "" : "; ")
                                        + (extra.isEmpty ? "" : "masks of unknown classes \(extra.joined(separator: ", ")) (classes: \(segmentation.classes.joined(separator: ", ")))"))
            }
        }
        self.dataset = dataset
        self.root = root
        self.schema = schema
        self.samples = sorted
        self.segmentation = segmentation
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
        Manifest(unchecked: dataset, root: root, schema: schema, samples: samples.filter(isIncluded), segmentation: segmentation)
    }

    /// The same manifest with its images (and mask files) under another root.
    public func relocated(to root: URL) -> Manifest {
        Manifest(unchecked: dataset, root: root, schema: schema, samples: samples, segmentation: segmentation)
    }

    private init(unchecked dataset: String, root: URL, schema: LabelSchema, samples: [Sample], segmentation: SegmentationSchema?) {
        self.dataset = dataset
        self.root = root
        self.schema = schema
        self.samples = samples
        self.segmentation = segmentation
    }

    /// The absolute location of a sample's image.
    public func imageURL(of sample: Sample) -> URL {
        root.appendingPathComponent(sample.imagePath, isDirectory: false)
    }

    /// The absolute location of a mask file (paths in a `MaskSource` are relative to the root,
    /// or absolute).
    public func maskURL(_ path: String) -> URL {
        resolve(path, against: root)
    }

    /// Every mask file the samples name, each once, in first-appearance order: the files whose
    /// content digests key the segmentation stages.
    public var maskFilePaths: [String] {
        guard let segmentation else { return [] }
        var seen = Set<String>()
        var paths: [String] = []
        for sample in samples {
            for name in segmentation.classes {
                if let path = sample.masks?[name]?.filePath, seen.insert(path).inserted { paths.append(path) }
            }
        }
        return paths
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
