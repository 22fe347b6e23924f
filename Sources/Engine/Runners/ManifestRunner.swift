import Crypto
import Datasets
import Foundation
import Imaging
import Pipeline
import Results

/// `manifest`: reads a dataset into a sample list (`manifest.json`) with its adapter from the
/// registry, with the SHA-256 of every image.
///
/// Image digests are memoised by (path, size, modification time) in the cache
/// (`image-digests.json`), so an unchanged dataset is not read again. A generated dataset
/// (`phantom`) writes its images into the artifact itself (`data/`), so the cache holds the
/// dataset (its images, in a new temporary folder each time, are not memoised); other adapters read the data where it lives. For those the stage is volatile: it
/// runs on every plan and run, and `facets.json` gives the digests that key the stages
/// downstream (`content`: everything but the dataset's location, with the digest of every mask
/// file; `images`: sample ids and image digests), so moving a dataset or editing a column no
/// stage reads recomputes nothing, and a changed mask file re-keys what reads the content but
/// never an embedding. Every mask file must be readable (missing ones are listed at once).
///
/// With `on_error: skip` every image is decoded once (the verdict memoised by its digest in
/// `image-checks.json`); unreadable ones are left out of the manifest, so every backbone and
/// every split sees the same samples, and recorded as sample issues.
public struct ManifestRunner: StageRunner {
    /// `manifest`.
    public var kind: StageKind { .manifest }
    /// Version 3: phantom generator version 2 (larger, brighter nodules in half the chest
    /// studies); a generated dataset's key holds only its options, so a generator that draws
    /// other images must re-key its manifests here. (Version 2: image digests, facets and
    /// `on_error: skip`.)
    public var codeVersion: Int { 3 }
    /// Phantom generation draws images on every core; hashing reads on every core.
    public var threadNeed: ThreadNeed { .all }

    /// Creates the runner.
    public init() {}

    /// Runs the adapter, digests the images and mask files and writes `manifest.json` and `facets.json`.
    /// - Throws: `DatasetError` (the adapter's, naming file and line), `RunnerError` for bad
    ///   options, `UnreadableMasksError` listing every mask file that cannot be read (unless
    ///   `on_error: skip`).
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(ManifestParameters.self)
        guard let adapter = context.registry.datasets[parameters.adapter] else {
            throw RunnerError.unknownKind(what: "dataset adapter", kind: parameters.adapter, known: context.registry.datasets.keys.sorted())
        }
        let data = context.outputDirectory.appendingPathComponent(ManifestArtifact.phantomFolder, isDirectory: true)
        var manifest = try adapter.manifest(ComponentOptions(stage: context.stage.label, values: parameters.options),
                                            context: DatasetContext(dataFolder: data, threads: context.threads))
        let rootInArtifact = manifest.root.standardizedFileURL.path == data.standardizedFileURL.path
        try context.checkCancellation()
        let skipping = parameters.onError == "skip"
        // A missing image is not an error here: embeddings computed elsewhere need none. A backbone
        // that reads images lists every one it cannot read.
        // Let go once the images and masks are digested: its memo (a path and digest per image) is
        // not needed to write the artifact.
        var digester: ImageDigests! = ImageDigests(cacheDirectory: context.cacheDirectory, memoisingPaths: !rootInArtifact)
        // Images inside the dataset's root, symbolic links included, unless its options allow
        // otherwise. Each image's path is made as it is hashed: URLs of every image took 8 MB
        // for 20,000 images.
        try manifest.checkReadableImages(manifest.samples)
        let results = try digester.digestsOrProblems(count: manifest.samples.count, threads: context.threads,
                                                     cancellation: context.cancellation) { [manifest] in
            manifest.imageURL(of: manifest.samples[$0]).path
        }
        var digests = results.map { try? $0.get() }
        // Mask files are content the segmentation stages key on: every one must be there (with
        // `on_error: skip`, a sample whose masks cannot be read is left out like an unreadable image).
        let masks = try MaskDigests.compute(manifest, digester: digester, checkReadable: skipping, threads: context.threads,
                                            cancellation: context.cancellation)
        if !skipping, !masks.problems.isEmpty {
            throw UnreadableMasksError(masks: manifest.maskFilePaths.compactMap { path in
                masks.problems[path].map { (manifest.maskURL(path).path, $0) }
            })
        }
        var issues: [SampleIssueRow] = []
        if skipping {
            let urls = manifest.samples.map(manifest.imageURL(of:))
            let present = digests.compactMap { $0 }
            let verdicts = try digester.readability(of: zip(urls, digests).compactMap { $1 == nil ? nil : $0 }, digests: present,
                                                    threads: context.threads, cancellation: context.cancellation)
            var verdictOf: [String: String?] = [:]
            for (digest, verdict) in zip(present, verdicts) { verdictOf[digest] = verdict }
            let dataset = context.stage.hints["dataset"]?.stringValue ?? manifest.dataset
            var keep = Set<String>()
            for (index, sample) in manifest.samples.enumerated() {
                var file = urls[index].path
                var problem: String? = switch results[index] {
                case .failure(let error): error.problem
                case .success(let digest): verdictOf[digest] ?? nil
                }
                if problem == nil, let bad = MaskDigests.firstProblem(of: sample, in: manifest, problems: masks.problems) {
                    (file, problem) = (bad.file, "mask: " + bad.problem)
                }
                if let problem {
                    issues.append(SampleIssueRow(dataset: dataset, sampleID: sample.id, patientID: sample.patientID,
                                                 file: file, severity: .skipped, message: problem))
                } else {
                    keep.insert(sample.id)
                }
            }
            if !issues.isEmpty {
                digests = manifest.samples.indices.filter { keep.contains(manifest.samples[$0].id) }.map { digests[$0] }
                manifest = manifest.filtered { keep.contains($0.id) }
                context.logger.warning("\(context.stage.label): \(issues.count) unreadable images or masks left out (on_error: skip)")
            }
        }
        digester = nil
        let maskDigests = manifest.segmentation == nil ? nil : Dictionary(uniqueKeysWithValues: manifest.maskFilePaths.map { ($0, masks.digests[$0]!) })
        let artifact = ManifestArtifact(manifest: manifest, rootInArtifact: rootInArtifact, imageDigests: digests, maskDigests: maskDigests)
        try artifact.write(to: context.outputDirectory)
        context.logger.debug("\(context.stage.label): \(manifest.samples.count) samples, \(Set(manifest.samples.map(\.patientID)).count) patients")
        // Contradicting dataset facts that do not stop the dataset (ManifestConsistency) are recorded too.
        let dataset = context.stage.hints["dataset"]?.stringValue ?? manifest.dataset
        return StageOutputs(sampleIssues: manifest.issues.map { SampleIssueRow($0, dataset: dataset) } + issues)
    }
}

/// The manifest artifact: `manifest.json` (the manifest and its image digests), `facets.json`,
/// and for generated datasets the images in `data/`.
struct ManifestArtifact {
    static let fileName = "manifest.json"
    static let facetsFileName = "facets.json"
    static let phantomFolder = "data"

    private struct Stored: Codable {
        /// The manifest; its root is meaningless when `rootInArtifact` (the artifact moves on
        /// commit), and otherwise the root it had when the artifact was written.
        var manifest: Manifest
        /// Whether the images live in the artifact's `data/` folder.
        var rootInArtifact: Bool
        /// SHA-256 of each sample's image, in sample order; nil for an image that was missing.
        var imageDigests: [String?]?
        /// SHA-256 of every mask file, by its path in the manifest; absent without masks (so
        /// manifests without masks keep their bytes and their facets).
        var maskDigests: [String: String]?
    }

    var manifest: Manifest
    var rootInArtifact: Bool
    /// SHA-256 of each sample's image, in sample order; nil where it could not be read.
    var imageDigests: [String?]
    /// SHA-256 of each mask file by its path in the manifest; nil for a manifest without masks.
    var maskDigests: [String: String]? = nil

    /// The digests of the facets stages read (`ManifestFacet`).
    var facets: [String: String] {
        // The location is not content: the same dataset elsewhere has the same facets.
        // Made again without origins, so that issues name no file paths (which move with the data).
        let located = try? manifest.relocatedWithoutOrigins(to: URL(fileURLWithPath: "/"))
        // Hashed as it is encoded, one sample at a time: the bytes of the whole encoding.
        var content = SHA256()
        do {
            try Self.encode(Stored(manifest: located ?? manifest, rootInArtifact: rootInArtifact, imageDigests: imageDigests, maskDigests: maskDigests)) {
                content.update(data: $0)
            }
        } catch {
            content = SHA256()   // as the digest of no bytes, which it was when the encoding failed
        }
        var images = SHA256()
        for (sample, digest) in zip(manifest.samples, imageDigests) {
            images.update(data: Data("\(sample.id)\u{0}\(digest ?? "missing:" + sample.imagePath)\n".utf8))
        }
        return [ManifestFacet.content: content.finalize().map { String(format: "%02x", $0) }.joined(), ManifestFacet.images: images.finalize().map { String(format: "%02x", $0) }.joined()]
    }

    func write(to directory: URL) throws {
        let url = directory.appendingPathComponent(Self.fileName)
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let file = FileHandle(forWritingAtPath: url.path) else {
            throw RunnerError.artifact(path: url.path, problem: "cannot be created")
        }
        defer { try? file.close() }
        var buffer = Data()
        try Self.encode(Stored(manifest: manifest, rootInArtifact: rootInArtifact, imageDigests: imageDigests, maskDigests: maskDigests)) { piece in
            buffer.append(piece)
            if buffer.count >= 1 << 20 {
                try file.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try file.write(contentsOf: buffer)
        try ArtifactJSON.write(facets, to: directory, name: Self.facetsFileName)
    }

    /// The JSON of `stored` in pieces, one sample at a time: the bytes `ArtifactJSON.write` gives.
    private static func encode(_ stored: Stored, to write: (Data) throws -> Void) throws {
        try ManifestJSON.encode(stored, manifest: \.manifest, at: ["manifest"], encoder: ArtifactJSON.encoder(), to: write)
    }

    /// The facet digests of a committed manifest artifact.
    static func facets(in directory: URL) throws -> [String: String] {
        try ArtifactJSON.read([String: String].self, from: directory, name: facetsFileName)
    }

    /// The manifest of a committed `manifest` artifact, its root pointing at the images: the
    /// artifact's `data/` for a generated dataset, else `root` when given (where the dataset is
    /// now, from the stage's `manifest.root` hint), else the root it was written with.
    static func read(from directory: URL, root: String? = nil) throws -> ManifestArtifact {
        // Decoded one sample at a time: a whole 20,000-sample manifest's tree took 28 MB.
        let stored = try ArtifactJSON.readMapped(Stored.self, from: directory, name: fileName) { data, release in
            try ManifestJSON.decode(Stored.self, from: data, manifest: \.manifest, at: ["manifest"], release: release)
        }
        let digests = stored.imageDigests ?? Array(repeating: nil, count: stored.manifest.samples.count)
        guard stored.rootInArtifact || root != nil else {
            return ManifestArtifact(manifest: stored.manifest, rootInArtifact: false, imageDigests: digests, maskDigests: stored.maskDigests)
        }
        let location = stored.rootInArtifact ? directory.appendingPathComponent(phantomFolder, isDirectory: true)
                                             : URL(fileURLWithPath: root!, isDirectory: true)
        // Checked when the stage made it; moved without checking again (masks, issues and image policy kept).
        return ManifestArtifact(manifest: stored.manifest.relocated(to: location), rootInArtifact: stored.rootInArtifact, imageDigests: digests,
                                maskDigests: stored.maskDigests)
    }
}

extension StageContext {
    /// The `manifest` input, with the images where they are now (the stage's `manifest.root` hint).
    func manifestInput() throws -> ManifestArtifact {
        try ManifestArtifact.read(from: input("manifest").directory, root: stage.hints[ManifestArtifact.rootHint]?.stringValue)
    }
}

extension ManifestArtifact {
    /// The hint that tells a stage reading a volatile manifest where its dataset's images are now.
    static let rootHint = "manifest.root"
}
