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
    /// What the consistency checks found that does not stop the dataset from being used (see
    /// `ManifestConsistency`): the manifest stage records these in the results database.
    public let issues: [DatasetIssue]
    /// Where images may be (inside the root unless the dataset's options say otherwise).
    public let imagePolicy: ImagePathPolicy

    /// Creates a manifest, sorting samples by id and checking them: against the schema, for
    /// image paths that lead out of the root, and for facts that contradict each other.
    ///
    /// - Parameters:
    ///   - segmentation: the mask classes; every sample then has exactly one `MaskSource` per
    ///     class. Without it, no sample may carry masks.
    ///   - source: names the file in errors when `origins` does not.
    ///   - origins: where each sample was read (parallel to `samples`), so errors and issues
    ///     name the file and line of the rows involved.
    ///   - imagePolicy: where images may be.
    /// - Throws: `DatasetError.listedTwice` (or `.duplicateSampleID` without origins) when two
    ///   samples share an id, `.invalidLabelValue` when a sample carries a label the schema does
    ///   not define or a value the label does not allow, `.imageOutsideRoot` for an absolute or
    ///   `..` image path the policy does not allow, `.imageOfTwoPatients` (see
    ///   `ManifestConsistency`), `.invalidMasks` when a sample's masks do not match the classes.
    ///   Warnings go to `issues`.
    /// - Complexity: O(n log n) in the number of samples.
    public init(dataset: String, root: URL, schema: LabelSchema, samples: [Sample], segmentation: SegmentationSchema? = nil,
                source: String? = nil, origins: [SourceLine]? = nil, imagePolicy: ImagePathPolicy = .insideRoot) throws(DatasetError) {
        precondition(origins == nil || origins!.count == samples.count, "one origin per sample")
        let source = source ?? dataset
        for (index, sample) in samples.enumerated() {
            guard let problem = imagePolicy.problem(with: sample.imagePath) else { continue }
            throw .imageOutsideRoot(path: sample.imagePath, root: root.path,
                                    location: origins?[index].description ?? "\(source), sample \"\(sample.id)\"", reason: problem)
        }
        // Sorting indices with String's `<` (byte order for ASCII, canonical order otherwise) keeps
        // this fast even in debug builds, where generic comparisons of UTF-8 views are slow.
        let ids = samples.map(\.id)
        let order = ids.indices.sorted { ids[$0] < ids[$1] }
        var interner = SampleInterner()
        let sorted = order.map { interner.intern(samples[$0]) }
        let sortedOrigins = origins.map { origins in order.map { origins[$0] } }
        for index in sorted.indices.dropFirst() where sorted[index].id == sorted[index - 1].id {
            guard let origins else { throw .duplicateSampleID(file: source, id: sorted[index].id) }
            let (first, second) = (min(order[index - 1], order[index]), max(order[index - 1], order[index]))
            throw .listedTwice(id: sorted[index].id, first: origins[first], second: origins[second])
        }
        var definitions: [String: LabelDefinition] = [:]
        for definition in schema.labels { definitions[definition.name] = definition }
        for sample in sorted {
            for (name, value) in sample.labels {
                guard let definition = definitions[name], definition.accepts(value) else {
                    throw .invalidLabelValue(file: source, sampleID: sample.id, label: name,
                                             value: value.canonicalText,
                                             allowed: definitions[name].map(Self.allowedValues) ?? "no such label in the schema (\(schema.names.joined(separator: ", ")))")
                }
            }
        }
        for sample in sorted {
            let classes = sample.masks.map { Set($0.keys) } ?? []
            guard let segmentation else {
                guard classes.isEmpty else {
                    throw .invalidMasks(file: source, sampleID: sample.id, reason: "it has masks but the manifest has no segmentation classes")
                }
                continue
            }
            guard classes == Set(segmentation.classes) else {
                let missing = segmentation.classes.filter { !classes.contains($0) }
                let extra = classes.subtracting(segmentation.classes).sorted()
                throw .invalidMasks(file: source, sampleID: sample.id,
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
        self.issues = try ManifestConsistency.issues(of: sorted, origins: sortedOrigins, source: source)
        self.imagePolicy = imagePolicy
    }

    private static func allowedValues(_ definition: LabelDefinition) -> String {
        switch definition.kind {
        case .binary: "1, 0, -1 or missing"
        case .multiClass: definition.classes.joined(separator: ", ") + " or missing"
        }
    }

    /// The samples for which `isIncluded` holds, as a manifest with the same schema, root,
    /// image policy and issues.
    public func filtered(_ isIncluded: (Sample) -> Bool) -> Manifest {
        // Already sorted, unique and valid, so no re-validation is needed.
        Manifest(unchecked: self, samples: samples.filter(isIncluded))
    }

    /// The same manifest with its images under `root` (a dataset that moved, a generated one in
    /// its artifact): samples, masks, issues and image policy as they are, without checking them again.
    public func relocated(to root: URL) -> Manifest {
        Manifest(unchecked: self, samples: samples, root: root)
    }

    /// The same manifest with other samples, taken as they are (decoded ones, or none for the
    /// skeleton `ManifestJSON` encodes around the samples).
    func replacingSamples(_ samples: [Sample]) -> Manifest {
        Manifest(unchecked: self, samples: samples)
    }

    /// The same manifest under `root` with its issues found again without origins, so that they
    /// name no file: what the checked initializer makes of these samples without `source` or
    /// `origins` (they are already sorted, unique and valid), without copying them.
    /// - Throws: `DatasetError` as `ManifestConsistency` does (as the checked initializer would).
    public func relocatedWithoutOrigins(to root: URL) throws(DatasetError) -> Manifest {
        Manifest(unchecked: self, samples: samples, root: root,
                 issues: try ManifestConsistency.issues(of: samples, origins: nil, source: dataset))
    }

    private init(unchecked manifest: Manifest, samples: [Sample], root: URL? = nil, issues: [DatasetIssue]? = nil) {
        self.dataset = manifest.dataset
        self.root = root ?? manifest.root
        self.schema = manifest.schema
        self.samples = samples
        self.segmentation = manifest.segmentation
        self.issues = issues ?? manifest.issues
        self.imagePolicy = manifest.imagePolicy
    }

    private enum CodingKeys: String, CodingKey {
        case dataset, root, schema, samples, segmentation, issues, imagePolicy
    }

    /// Encodes a manifest; `segmentation` only when there are masks, `issues` and `imagePolicy`
    /// only when they are not the defaults (none, inside the root), so a manifest without them encodes as it did before they existed.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dataset, forKey: .dataset)
        try container.encode(root, forKey: .root)
        try container.encode(schema, forKey: .schema)
        try container.encode(samples, forKey: .samples)
        try container.encodeIfPresent(segmentation, forKey: .segmentation)
        if !issues.isEmpty { try container.encode(issues, forKey: .issues) }
        if imagePolicy != .insideRoot { try container.encode(imagePolicy, forKey: .imagePolicy) }
    }

    /// Decodes a manifest; `issues` and `imagePolicy` are absent from manifests written before
    /// they existed, or when they are the defaults (no issues, images inside the root).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        dataset = try container.decode(String.self, forKey: .dataset)
        root = try container.decode(URL.self, forKey: .root)
        schema = try container.decode(LabelSchema.self, forKey: .schema)
        var interner = SampleInterner()
        samples = try container.decode([Sample].self, forKey: .samples).map { interner.intern($0) }
        segmentation = try container.decodeIfPresent(SegmentationSchema.self, forKey: .segmentation)
        issues = try container.decodeIfPresent([DatasetIssue].self, forKey: .issues) ?? []
        imagePolicy = try container.decodeIfPresent(ImagePathPolicy.self, forKey: .imagePolicy) ?? .insideRoot
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
