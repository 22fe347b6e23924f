import Evaluation
import Pipeline

extension StageKind {
    /// Trains a segmentation decoder on stored tokens and scores every test image.
    public static let segmentationTrain: StageKind = "segmentation-train"
    /// Dice, IoU and DicePos of a trained decoder's test images (records per-image scores).
    public static let segmentationMetric: StageKind = "segmentation-metric"
    /// Bootstrap replicates of the mean Dice over test images, resampling patients.
    public static let segmentationBootstrap: StageKind = "segmentation-bootstrap"
}

/// `segmentation-train`: everything that shapes the trained decoder and its test scores.
public struct SegmentationTrainParameters: Sendable, Equatable, Codable {
    /// `linear` or `upernet`.
    public var decoder: SegmentationDecoderName
    /// UPerNet's settings with every default filled in; nil for the linear decoder.
    public var upernet: UPerNetConfiguration?
    /// Classes to segment, in this order; nil for every class of the manifest.
    public var classes: [String]?
    /// `sigmoid` (classes may overlap) or `softmax` (exclusive classes).
    public var activation: String
    /// Dice or Dice + cross-entropy.
    public var loss: SegmentationLossKind
    /// Images per iteration.
    public var batch: Int
    /// Adam's initial learning rate.
    public var learningRate: Double
    /// At most this many iterations.
    public var iterations: Int
    /// Iterations between validations.
    public var validationInterval: Int
    /// Validations without improvement before training stops.
    public var patience: Int
    /// Validations without improvement before the rate halves.
    public var learningRatePatience: Int
    /// Side of the square masks the loss and the scores are computed at.
    public var maskSize: Int
    /// Whether training images are augmented (and the backbone run per iteration).
    public var augment: SegmentationAugmentKind
    /// Test images whose image, truth and prediction are kept for the qualitative figure.
    public var examples: Int
    /// Seed of the decoder's initialisation, batch order and augmentation.
    public var seed: Int
    /// The backbone, for `augment: paper` only (which runs it); nil otherwise, so the key of a
    /// cached-token stage does not depend on how the backbone was spelt.
    public var backbone: EmbedParameters?
}

/// `segmentation-metric`: which classes' scores to record (every trained class).
public struct SegmentationMetricParameters: Sendable, Hashable, Codable {
    /// Record one row per test image and class in `segmentation_score`.
    public var recordScores: Bool
}

/// `segmentation-bootstrap`: replicates of the mean Dice over test images.
public struct SegmentationBootstrapParameters: Sendable, Hashable, Codable {
    /// Number of replicates.
    public var replicates: Int
    /// Resampling seed.
    public var seed: Int
}

/// Expands a `segmentation` task into stages, after the checks that need the datasets' mask
/// classes and the backbones' depth.
struct SegmentationTaskCompiler {
    let task: TaskSpec

    func compile(into graph: inout GraphBuilder) {
        let options: SegmentationTaskOptions
        do {
            options = try task.options(as: SegmentationTaskOptions.self)
        } catch {
            preconditionFailure("validated segmentation fields decode: \(error)")
        }
        let decoders = SegmentationTask.decoders(task)
        let seeds = task.matrix.integers("seed") ?? [0]
        var usable = true
        for (index, dataset) in task.matrix.dataset.enumerated() {
            usable = checkDataset(dataset, index: index, options: options, graph: &graph) && usable
        }
        for (index, backbone) in task.matrix.backbone.enumerated() {
            usable = checkBackbone(backbone, index: index, options: options, decoders: decoders, graph: &graph) && usable
        }
        guard usable else { return }
        for backbone in task.matrix.backbone {
            for dataset in task.matrix.dataset {
                guard let (embed, manifest) = graph.embedding(backbone: backbone, dataset: dataset) else { continue }
                for decoder in decoders {
                    for seed in seeds {
                        addCell(options, backbone: backbone, dataset: dataset, decoder: decoder, seed: seed,
                                embed: embed, manifest: manifest, graph: &graph)
                    }
                }
            }
        }
    }

    /// The dataset must have masks, and every class the task names.
    private func checkDataset(_ name: String, index: Int, options: SegmentationTaskOptions, graph: inout GraphBuilder) -> Bool {
        guard let fields = graph.fields(ofDataset: name) else { return true }
        guard !fields.masks.isEmpty else {
            let kind = graph.spec.datasets[name]?.kind ?? "?"
            let hint = kind == "phantom" ? "; give it `masks: true`"
                : kind == "csv" ? "; name its masks with `mask_columns` or `label_map_column`" : ""
            graph.report(at: task.keyPath("matrix.dataset[\(index)]"),
                         "the \(kind) dataset \"\(name)\" has no segmentation masks, so a segmentation task cannot train on it\(hint)")
            return false
        }
        var ok = true
        for (position, wanted) in (options.classes ?? []).enumerated() where !fields.masks.contains(wanted) {
            graph.report(at: task.keyPath("classes[\(position)]"),
                         "dataset \"\(name)\" has no mask class \"\(wanted)\" (it has \(GraphBuilder.listing(fields.masks)))",
                         suggestion: closestMatch(to: wanted, among: fields.masks))
            ok = false
        }
        return ok
    }

    /// The backbone must store patch tokens and have the blocks UPerNet reads (when it can tell).
    private func checkBackbone(_ name: String, index: Int, options: SegmentationTaskOptions, decoders: [SegmentationDecoderName],
                               graph: inout GraphBuilder) -> Bool {
        guard let entry = graph.spec.backbones[name], let family = graph.catalog.backbones[entry.kind] as? any BackboneFamily,
              let shape = family.embeddingShape(entry.options) else { return true }
        guard shape.grid != nil else {
            graph.report(at: task.keyPath("matrix.backbone[\(index)]"),
                         "the \(entry.kind) backbone \"\(name)\" has no patch tokens, so no decoder can be trained on it; use a ViT backbone")
            return false
        }
        guard decoders.contains(.upernet), let depth = shape.depth else { return true }
        if options.upernet?.layers == nil, depth != 12 {
            // [4, 6, 8, 12] are mmsegmentation's blocks of a 12-block ViT-B; for another depth the
            // matching blocks are a choice the spec should state.
            let suggestion = [depth / 3, depth / 2, 2 * depth / 3, depth].map(String.init).joined(separator: ", ")
            graph.report(at: task.keyPath("matrix.backbone[\(index)]"),
                         "backbone \"\(name)\" has \(depth) blocks, and UPerNet's default blocks [4, 6, 8, 12] are those of a 12-block ViT; "
                         + "give `upernet: {layers: [\(suggestion)]}` (or other blocks in 1...\(depth))")
            return false
        }
        var ok = true
        for (position, layer) in options.upernetLayers.enumerated() where layer > depth {
            let keyPath = options.upernet?.layers == nil ? task.keyPath("matrix.decoder") : task.keyPath("upernet.layers[\(position)]")
            graph.report(at: keyPath, "block \(layer) is beyond the depth of backbone \"\(name)\" (\(depth) blocks); "
                         + "give `upernet: {layers: [...]}` four blocks in 1...\(depth)")
            ok = false
        }
        return ok
    }

    /// Masks at the backbone's input resolution (518 for the paper's ViTs), 224 when it cannot tell.
    static func defaultMaskSize(backbone: String, graph: GraphBuilder) -> Int {
        guard let entry = graph.spec.backbones[backbone], let family = graph.catalog.backbones[entry.kind] as? any BackboneFamily else {
            return 224
        }
        return family.embeddingShape(entry.options)?.resolution ?? 224
    }

    private func addCell(_ options: SegmentationTaskOptions, backbone: String, dataset: String, decoder: SegmentationDecoderName,
                         seed: Int, embed: Stage, manifest: Stage, graph: inout GraphBuilder) {
        let split = graph.add(.split, parameters: SplitParameters(
            fraction: 1, seed: seed, trainFilter: graph.subgroupFilter("all"),
            validationRatio: options.split?.validation ?? 0.1, testRatio: options.split?.test ?? 0.2, stratifyLabels: []),
            inputs: ["manifest": manifest.key], label: "split \(dataset) f=1 s=\(seed) train=all")
        var upernet: UPerNetConfiguration?
        if decoder == .upernet {
            let defaults = UPerNetConfiguration.paper
            upernet = UPerNetConfiguration(blocks: options.upernetLayers, neckChannels: options.upernet?.neckChannels,
                                           channels: options.upernet?.channels ?? defaults.channels,
                                           poolScales: options.upernet?.poolScales ?? defaults.poolScales,
                                           dropout: options.upernet?.dropout ?? defaults.dropout)
        }
        let augment = options.augment ?? .none
        let parameters = SegmentationTrainParameters(
            decoder: decoder, upernet: upernet, classes: options.classes, activation: options.activation ?? "sigmoid",
            loss: options.loss ?? .dice, batch: options.batch ?? 8, learningRate: options.lr ?? 1e-4,
            iterations: options.iterations ?? 5_000, validationInterval: options.validationInterval ?? 100,
            patience: options.patience ?? 10, learningRatePatience: options.lrPatience ?? 2,
            maskSize: options.maskSize ?? Self.defaultMaskSize(backbone: backbone, graph: graph),
            augment: augment, examples: options.examples ?? 4, seed: seed,
            backbone: augment == .paper ? embed.parameters.decodeEmbedParameters() : nil)
        let cell = StageCoordinates(experiment: graph.spec.experiment, task: task.name, backbone: backbone, dataset: dataset,
                                    head: decoder.rawValue, seed: seed)
        let name = "\(task.name) \(backbone) × \(dataset) \(decoder.rawValue) s=\(seed)"
        let train = graph.add(.segmentationTrain, parameters: parameters,
                              inputs: ["embed": embed.key, "split": split.key, "manifest": manifest.key],
                              label: "segmentation-train \(name)")
        graph.add(.segmentationMetric, parameters: SegmentationMetricParameters(recordScores: true),
                  inputs: ["train": train.key, "manifest": manifest.key], coordinates: cell, label: "segmentation-metric \(name)")
        graph.add(.segmentationBootstrap, parameters: SegmentationBootstrapParameters(
            replicates: options.bootstrap?.replicates ?? 200, seed: options.bootstrap?.seed ?? 0),
                  inputs: ["train": train.key, "manifest": manifest.key], coordinates: cell, label: "segmentation-bootstrap \(name)")
    }
}

extension ParameterValue {
    /// An `embed` stage's backbone (family, options, file digests), without what it stores.
    func decodeEmbedParameters() -> EmbedParameters? {
        guard var parameters = try? decode(EmbedParameters.self) else { return nil }
        parameters.outputs = nil
        return parameters
    }
}
