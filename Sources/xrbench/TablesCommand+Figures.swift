import Datasets
import Foundation
import Imaging
import Pipeline
import Results

/// Renders an experiment's figures into `figures/` from the results database.
struct FigureRenderer {
    /// The database.
    var reader: ResultReader
    /// Where SVG files go.
    var folder: URL
    /// Where gallery thumbnails come from.
    var thumbnails: ThumbnailSource
    /// Queries per gallery.
    var galleryQueries: Int
    /// Neighbours per gallery query.
    var galleryNeighbours: Int
    /// Display names of the experiment being rendered.
    var vocabulary: ReportVocabulary?

    /// Renders one declared (or automatic) figure: one SVG per backbone and label for fairness
    /// box plots, one per backbone and features for galleries.
    /// - Returns: the written figures, and notes on what could not be drawn.
    /// - Parameter smallSample: box-plot groups with fewer test samples are marked.
    func render(_ figure: ExperimentReportPlan.Figure, experiment: String, smallSample: Int = Spec.defaultSmallSample) throws
        -> (figures: [ReportIndex.FigureEntry], notes: [String]) {
        switch figure.kind {
        case .fairnessBoxplot: return try fairness(figure, experiment: experiment, smallSample: smallSample)
        case .retrievalGallery: return try gallery(figure, experiment: experiment)
        case .reliabilityDiagram: return try reliability(figure, experiment: experiment)
        case .trainingCurves: return try curves(figure, experiment: experiment)
        case .segmentationExamples: return try segmentationExamples(figure, experiment: experiment)
        }
    }

    /// One SVG per segmentation cell (backbone, dataset, decoder, seed) of the task: its example
    /// test images, ground truth and prediction, read from the metric stage's artifact in the cache.
    private func segmentationExamples(_ figure: ExperimentReportPlan.Figure, experiment: String) throws
        -> (figures: [ReportIndex.FigureEntry], notes: [String]) {
        struct ExampleList: Decodable {
            struct Entry: Decodable {
                var file: String
                var sampleID: String
            }
            var classes: [String]
            var examples: [Entry]
        }
        let cells = try reader.recordedSegmentations(experiment: experiment, task: figure.task)
        guard !cells.isEmpty else {
            return ([], ["figure \(figure.name) (\(experiment)): no segmentation scores of task \(figure.task) are recorded; run it first"])
        }
        var entries: [ReportIndex.FigureEntry] = []
        var notes: [String] = []
        for cell in cells {
            let artifact = thumbnails.cacheFolder.appendingPathComponent("segmentation-metric").appendingPathComponent(cell.stageKey)
            guard let data = try? Data(contentsOf: artifact.appendingPathComponent("examples.json")),
                  let list = try? JSONDecoder().decode(ExampleList.self, from: data), !list.examples.isEmpty else {
                notes.append("figure \(figure.name) (\(experiment)): no example panels for \(cell.backbone) \(cell.decoder) in "
                    + "\(artifact.path) (a cache elsewhere: pass it with --cache; or the task ran with examples: 0)")
                continue
            }
            let examples = list.examples.compactMap { entry in
                (try? Data(contentsOf: artifact.appendingPathComponent(entry.file))).map {
                    SegmentationExampleFigure.Example(sampleID: entry.sampleID, png: $0)
                }
            }
            let seed = cell.seed.map { " s=\($0)" } ?? ""
            let title = (figure.caption ?? "Segmentation: \(figure.task)") + " — \(cell.backbone), \(cell.decoder)\(seed)"
            let plot = SegmentationExampleFigure(title: title, classes: list.classes, examples: examples)
            let suffix = cells.count > 1 ? "-\(cell.backbone)-\(cell.dataset)-\(cell.decoder)" + (cell.seed.map { "-s\($0)" } ?? "") : ""
            let file = fileStem(figure.name + suffix) + ".svg"
            try writeText(plot.svg(), to: folder.appendingPathComponent(file))
            let names = ["red", "green", "blue", "orange", "purple", "cyan", "magenta", "lime"]
            let colours = list.classes.enumerated().map { "\($0.element) \(names[$0.offset % names.count])" }.joined(separator: ", ")
            entries.append(ReportIndex.FigureEntry(
                experiment: experiment, file: file,
                caption: "\(title): test images, ground truth and prediction overlaid (\(colours)); cf. the paper's Figure 3"))
        }
        return (entries, notes)
    }

    private func fairness(_ figure: ExperimentReportPlan.Figure, experiment: String, smallSample: Int) throws
        -> (figures: [ReportIndex.FigureEntry], notes: [String]) {
        var selections: [ReplicateSelection] = []
        for (task, metric) in try reader.tasksWithReplicates(experiment: experiment) where task == figure.task {
            selections += try reader.fairnessSelections(experiment: experiment, task: task, metric: metric)
        }
        guard !selections.isEmpty else {
            return ([], ["figure \(figure.name) (\(experiment)): no bootstrap replicates of task \(figure.task) are "
                + "recorded; run the fairness task first"])
        }
        let varies = { (value: (ReplicateSelection) -> String?) in Set(selections.map(value)).count > 1 }
        var entries: [ReportIndex.FigureEntry] = []
        for selection in selections {
            var parts = [figure.name]
            var details: [String] = [selection.backbone]
            if selections.count > 1 {
                parts += [selection.backbone, selection.label]
                if varies(\.metric) { parts.append(selection.metric) }
                for (varying, value) in [(varies(\.dataset), selection.dataset), (varies(\.head), selection.head),
                                         (varies(\.features), selection.features)] where varying {
                    parts.append(value ?? "")
                    details.append(value ?? "")
                }
            }
            let label = selection.label.isEmpty || selection.label == "mean" ? "mean over labels" : selection.label
            let title = (figure.caption ?? "Fairness: \(figure.task)") + " — " + details.joined(separator: ", ") + ", \(label)"
            var plot = try reader.subgroupBoxPlot(selection, title: title, smallSampleThreshold: smallSample)
            plot.groups = ordered(plot.groups, by: figure.testOrder.map { "test: \($0)" }, name: \.name).map { group in
                var group = group
                group.series = ordered(group.series, by: figure.trainOrder, name: \.name)
                return group
            }
            let file = fileStem(parts.joined(separator: "-")) + ".svg"
            try writeText(plot.svg(), to: folder.appendingPathComponent(file))
            entries.append(ReportIndex.FigureEntry(
                experiment: experiment, file: file,
                caption: "\(title): \(selection.metric.uppercased()) of bootstrap replicates per training subgroup, grouped by "
                    + "test subgroup; brackets mark Mann–Whitney tests (* p < 0.05, ** p < 0.01, *** p < 0.001, ns)"))
        }
        return (entries, [])
    }

    private func gallery(_ figure: ExperimentReportPlan.Figure, experiment: String) throws
        -> (figures: [ReportIndex.FigureEntry], notes: [String]) {
        let retrievals = try reader.recordedRetrievals(experiment: experiment, task: figure.task)
        guard !retrievals.isEmpty else {
            return ([], ["figure \(figure.name) (\(experiment)): skipped: the retrieval stages of task \(figure.task) "
                + "recorded no per-query neighbours (prediction rows: query id, neighbour id, similarity, relevance)"])
        }
        var entries: [ReportIndex.FigureEntry] = []
        var notes: [String] = []
        for retrieval in retrievals {
            let rows = try reader.galleryRows(stageKey: retrieval.stageKey, queryCount: galleryQueries,
                                              neighbourCount: galleryNeighbours)
            let title = (figure.caption ?? "Retrieval: \(figure.task)") + " — \(retrieval.backbone) [\(retrieval.features)]"
            var gallery = RetrievalGallery(title: title, rows: rows)
            let found = thumbnails.thumbnails(for: gallery.sampleIDs, retrievalStage: retrieval.stageKey)
            gallery.thumbnails = found
            if found.count < gallery.sampleIDs.count {
                notes.append("figure \(figure.name) (\(experiment)): \(gallery.sampleIDs.count - found.count) of "
                    + "\(gallery.sampleIDs.count) images not found, drawn as grey tiles; pass the dataset folder with --images")
            }
            let suffix = retrievals.count > 1 ? "-\(retrieval.backbone)-\(retrieval.features)" : ""
            let file = fileStem(figure.name + suffix) + ".svg"
            try writeText(gallery.svg(), to: folder.appendingPathComponent(file))
            entries.append(ReportIndex.FigureEntry(
                experiment: experiment, file: file,
                caption: "\(title): queries and their \(galleryNeighbours) nearest neighbours by cosine similarity "
                    + "(green frame: relevant)"))
        }
        return (entries, notes)
    }
}

/// Finds images for sample ids and makes small PNG thumbnails of them.
///
/// Looks in dataset folders with a phantom `manifest.csv` (given with `--images`), then in the
/// artifact cache's `manifest` stages (their `manifest.json`, whose images are in the
/// artifact's `data/` folder for generated phantoms and under the dataset root otherwise), and
/// finally takes a sample id that is itself an image path (as CheXpert ids are). Manifests are
/// read only when a gallery needs them, and only until every id is found.
final class ThumbnailSource {
    /// Image files by sample id, from the manifests read so far.
    private var images: [String: URL] = [:]
    /// Manifest locations not read yet.
    private var pending: [URL]
    /// Longest side of a thumbnail in pixels.
    let size = 96
    /// The artifact cache folder.
    let cacheFolder: URL

    /// Checks the given dataset folders; the cache is searched later, when needed.
    /// - Throws: `CommandError` when a folder given with `--images` has no readable manifest.
    init(datasetFolders: [String], cacheFolder: String) throws {
        self.cacheFolder = URL(fileURLWithPath: cacheFolder)
        for folder in datasetFolders {
            do {
                _ = try loadPhantomManifest(root: URL(fileURLWithPath: folder))
            } catch {
                throw CommandError("--images \(folder): \(error)")
            }
        }
        let stages = URL(fileURLWithPath: cacheFolder).appendingPathComponent(StageKind.manifest.rawValue)
        let artifacts = (try? FileManager.default.contentsOfDirectory(at: stages, includingPropertiesForKeys: nil)) ?? []
        pending = datasetFolders.map { URL(fileURLWithPath: $0) } + artifacts.sorted { $0.path < $1.path }
    }

    /// The image of `id`, reading further manifests until it is found.
    private func image(of id: String) -> URL? {
        while images[id] == nil, !pending.isEmpty {
            index(pending.removeFirst())
        }
        if let url = images[id] { return url }
        return FileManager.default.fileExists(atPath: id) ? URL(fileURLWithPath: id) : nil
    }

    /// Adds the samples of the dataset at `folder`: a phantom folder, or a manifest artifact.
    private func index(_ folder: URL) {
        /// What the engine's manifest stage writes (`manifest.json`).
        struct StoredManifest: Decodable {
            var manifest: Manifest
            var rootInArtifact: Bool
        }
        let stored = folder.appendingPathComponent("manifest.json")
        if let data = try? Data(contentsOf: stored), let decoded = try? JSONDecoder().decode(StoredManifest.self, from: data) {
            // Images were read through the embed stage's checks (inside the root, links included)
            // before any retrieval result names them, so the gallery shows no file a run did not read.
            let data = folder.appendingPathComponent("data")
            for sample in decoded.manifest.samples where images[sample.id] == nil {
                images[sample.id] = decoded.rootInArtifact ? data.appendingPathComponent(sample.imagePath) : decoded.manifest.imageURL(of: sample)
            }
            return
        }
        for root in [folder, folder.appendingPathComponent("data")]
        where FileManager.default.fileExists(atPath: root.appendingPathComponent(phantomManifestFileName).path) {
            guard let manifest = try? loadPhantomManifest(root: root) else { continue }
            for sample in manifest.samples where images[sample.id] == nil {
                images[sample.id] = manifest.imageURL(of: sample)
            }
            return
        }
    }

    /// The images of the manifest a retrieval stage actually read: its descriptor in the cache
    /// names its `manifest` input, whose artifact lists the images. Without this, an older
    /// manifest in the cache with the same sample ids (say, a phantom set of another size) could
    /// lend its images to the gallery.
    private func imagesOfManifest(readBy stageKey: String) -> [String: URL] {
        // Only an existing cache is opened: opening creates the folders it lacks.
        guard FileManager.default.fileExists(atPath: cacheFolder.appendingPathComponent("stages").path),
              let stage = try? ArtifactCache(root: cacheFolder).descriptor(StageKey(stageKey)),
              let manifestKey = stage.inputs["manifest"] else { return [:] }
        let saved = images
        images = [:]
        index(cacheFolder.appendingPathComponent(StageKind.manifest.rawValue).appendingPathComponent(manifestKey.rawValue))
        defer { images = saved }
        return images
    }

    /// PNG thumbnails of the ids whose image is found and decodes; the others are left out.
    /// - Parameter retrievalStage: the key of the retrieval stage the ids come from; its own
    ///   manifest is searched first.
    func thumbnails(for ids: [String], retrievalStage: String? = nil) -> [String: Data] {
        var result: [String: Data] = [:]
        let own = retrievalStage.map(imagesOfManifest(readBy:)) ?? [:]
        for id in ids {
            guard let url = own[id] ?? image(of: id), let image = try? decodeImage(at: url),
                  let png = try? thumbnail(of: image).pngData() else { continue }
            result[id] = png
        }
        return result
    }

    /// An 8-bit grey image whose longest side is at most `size`, by box averaging, stretched to
    /// the image's own range so that faint 16-bit images stay visible.
    func thumbnail(of image: DecodedImage) -> DecodedImage {
        let factor = max(1, Int((Double(max(image.width, image.height)) / Double(size)).rounded(.up)))
        let width = max(1, image.width / factor), height = max(1, image.height / factor)
        var means = [Double](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                var sum = 0.0
                for dy in 0..<factor {
                    for dx in 0..<factor {
                        for channel in 0..<image.channels {
                            sum += Double(image[x * factor + dx, y * factor + dy, channel])
                        }
                    }
                }
                means[y * width + x] = sum / Double(factor * factor * image.channels)
            }
        }
        let low = means.min() ?? 0, high = means.max() ?? 1
        let range = high > low ? high - low : 1
        let samples = means.map { UInt16(((($0 - low) / range) * 255).rounded()) }
        return DecodedImage(width: width, height: height, channels: 1, bitDepth: 8, samples: samples)
    }
}

/// `items` with those named in `order` first, in that order; the others keep their order after them.
func ordered<Item>(_ items: [Item], by order: [String], name: (Item) -> String) -> [Item] {
    let rank = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    return items.enumerated().sorted { left, right in
        let (a, b) = (rank[name(left.element)] ?? order.count, rank[name(right.element)] ?? order.count)
        return a == b ? left.offset < right.offset : a < b
    }.map(\.element)
}

/// Writes text atomically.
/// - Throws: `CommandError` naming the file.
func writeText(_ text: String, to url: URL) throws {
    do {
        try Data(text.utf8).write(to: url, options: .atomic)
    } catch {
        throw CommandError("\(url.path): cannot write the file (\(error.localizedDescription)); check the --out folder")
    }
}
