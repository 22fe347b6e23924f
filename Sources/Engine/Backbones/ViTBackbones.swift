import Datasets
import Foundation
import Imaging
import Models
import Pipeline
import Tensor

/// `dinov2`: a DINOv2-family ViT from a Hugging Face model folder (`config.json` +
/// `model.safetensors`, optionally `preprocessor_config.json`), e.g. `facebook/dinov2-base` or
/// `microsoft/rad-dino`, in either key layout.
///
/// Normalisation, the same default as `xrbench embed`: `mean`/`std` when given; else
/// `normalization: model` (the default) takes the folder's `preprocessor_config.json` when it
/// has one and ImageNet's otherwise; `normalization: imagenet` always takes ImageNet's.
public struct DINOv2Family: BackboneFamily {
    public var name: String { "dinov2" }
    public var summary: String { "DINOv2-family ViT (S/B/L/g, registers) from a Hugging Face model folder" }
    public var options: [SchemaField] {
        [
            SchemaField("path", .path(.directory), required: true),
            SchemaField("resolution", .integer(.atLeastOne)),
            SchemaField("normalization", .string(choices: ["model", "imagenet"])),
            SchemaField("mean", .list(.number(), minimumCount: 1)),
            SchemaField("std", .list(.number(.positive), minimumCount: 1)),
        ]
    }

    /// Input side when the spec gives none: the paper's 518.
    public static let defaultResolution = 518

    /// Creates the family.
    public init() {}

    /// The resolution against the folder's patch size, and mean/std given together with 1 or 3 values.
    public func check(_ options: [String: ParameterValue]) -> [SpecProblem] {
        var problems: [SpecProblem] = []
        if let path = options["path"]?.stringValue {
            let configURL = URL(fileURLWithPath: path).appendingPathComponent("config.json")
            do {
                let configuration = try ViTConfiguration(contentsOf: configURL)
                let resolution = options["resolution"]?.integerValue ?? Self.defaultResolution
                if let problem = ViTResolution.problem(resolution, patch: configuration.patchSize) { problems.append(problem) }
            } catch {
                problems.append(SpecProblem(at: "path", "\(error)"))
            }
        }
        problems += MeanStd.problems(options)
        return problems
    }

    public func embeddingShape(_ options: [String: ParameterValue]) -> EmbeddingShape? {
        guard let path = options["path"]?.stringValue,
              let configuration = try? ViTConfiguration(contentsOf: URL(fileURLWithPath: path).appendingPathComponent("config.json")) else {
            return nil
        }
        let resolution = options["resolution"]?.integerValue ?? Self.defaultResolution
        let side = resolution / configuration.patchSize
        return EmbeddingShape(dimension: configuration.hiddenSize, grid: [side, side], depth: configuration.layerCount, resolution: resolution)
    }

    public func makeBackbone(_ options: ComponentOptions) throws -> any Backbone {
        let folder = try options.requiredPath("path")
        let model = try VisionTransformer(contentsOf: folder)
        let resolution = try options.integer("resolution") ?? Self.defaultResolution
        if let problem = ViTResolution.problem(resolution, patch: model.configuration.patchSize) {
            throw RunnerError.badOption(stage: options.stage, option: "resolution", value: String(resolution), reason: problem.message)
        }
        let normalization = try options.string("normalization") ?? "model"
        let preprocessing = try MeanStd.preprocessing(resolution: resolution, options: options,
                                                      modelFolder: normalization == "model" ? folder : nil)
        let description = "\(folder.lastPathComponent) (\(model.configuration.hiddenSize) wide, \(model.configuration.layerCount) blocks) at \(resolution)x\(resolution)"
        return ViTBackbone(model: model, preprocessing: preprocessing, description: description)
    }
}

/// `vit-tiny-random`: the DINOv2 code path with seeded random weights in the ViT-Ti/14 shape
/// (width 192, 12 blocks, 3 heads, 5.5M parameters): an architecture check, not a model.
public struct TinyRandomViTFamily: BackboneFamily {
    public var name: String { "vit-tiny-random" }
    public var summary: String { "ViT-Ti/14 with seeded random weights: an untrained architecture check, not a model" }
    public var options: [SchemaField] {
        [SchemaField("seed", .integer(.nonNegative)), SchemaField("resolution", .integer(.atLeastOne))]
    }

    /// Input side when the spec gives none.
    public static let defaultResolution = 112

    /// Creates the family.
    public init() {}

    /// The random architecture check's shape.
    public static func configuration(resolution: Int) -> ViTConfiguration {
        ViTConfiguration(hiddenSize: 192, layerCount: 12, headCount: 3, patchSize: 14, imageSize: resolution)
    }

    public func check(_ options: [String: ParameterValue]) -> [SpecProblem] {
        ViTResolution.problem(options["resolution"]?.integerValue ?? Self.defaultResolution, patch: 14).map { [$0] } ?? []
    }

    public func embeddingShape(_ options: [String: ParameterValue]) -> EmbeddingShape? {
        let resolution = options["resolution"]?.integerValue ?? Self.defaultResolution
        return EmbeddingShape(dimension: 192, grid: [resolution / 14, resolution / 14], depth: Self.configuration(resolution: 14).layerCount,
                              resolution: resolution)
    }

    public func makeBackbone(_ options: ComponentOptions) throws -> any Backbone {
        let resolution = try options.integer("resolution") ?? Self.defaultResolution
        if let problem = ViTResolution.problem(resolution, patch: 14) {
            throw RunnerError.badOption(stage: options.stage, option: "resolution", value: String(resolution), reason: problem.message)
        }
        let seed = try options.integer("seed") ?? 0
        return ViTBackbone(model: VisionTransformer(randomlyInitialized: Self.configuration(resolution: resolution), seed: UInt64(seed)),
                           preprocessing: Preprocessing(size: resolution),
                           description: "ViT-Ti/14 with random weights (seed \(seed)) at \(resolution)x\(resolution): an untrained architecture check")
    }
}

/// A ViT and its preprocessing: one forward pass per batch gives the CLS token, the mean of the
/// patch tokens (registers excluded) and, when asked, the patch tokens and intermediate blocks.
/// Public so a family defined outside the Engine (a test's, the bench's) can wrap its own network.
public struct ViTBackbone: TransformerBackbone {
    public let model: VisionTransformer
    public let preprocessing: Preprocessing
    public let description: String

    /// Wraps `model`, fed by `preprocessing`; `description` is what `xrbench` prints and records.
    public init(model: VisionTransformer, preprocessing: Preprocessing, description: String) {
        self.model = model
        self.preprocessing = preprocessing
        self.description = description
    }

    public var dimension: Int { model.configuration.hiddenSize }
    var side: Int { preprocessing.size ?? model.configuration.imageSize }
    public var patchGrid: (height: Int, width: Int)? { (side / model.configuration.patchSize, side / model.configuration.patchSize) }

    public func embed(images: [URL], outputs: EmbeddingOutputs, context: StageContext) throws -> EmbeddingBatch {
        let width = dimension, side = side
        let (gridHeight, gridWidth) = patchGrid!
        let patches = gridHeight * gridWidth
        if let block = outputs.layers.first(where: { !(1...model.configuration.layerCount).contains($0) }) {
            throw RunnerError.badOption(stage: context.stage.label, option: "layers", value: String(block),
                                        reason: "the model has blocks 1...\(model.configuration.layerCount)")
        }
        // About 4,096 tokens per forward pass: large enough GEMMs, bounded activations.
        let batch = max(1, min(64, 4096 / (patches + 1)))
        let batches = stride(from: 0, to: images.count, by: batch).map { Array(images[$0..<min($0 + batch, images.count)]) }
        var result = EmbeddingBatch(rows: [], cls: [], mean: [], patchTokens: outputs.patchTokens ? [] : nil)
        let began = Date()
        // One thread decodes the next batch while the forward pass runs on the others.
        try withPrefetchedImages(batches, preprocessing: preprocessing, loaderThreads: max(1, context.threads / 2)) { index, loaded in
            try context.checkCancellation()
            let start = index * batch
            var pixels: [Float] = []
            var rows: [Int] = []
            for (offset, image) in loaded.enumerated() {
                switch image {
                case .success(let image):
                    pixels.append(contentsOf: image.values)
                    rows.append(start + offset)
                case .failure(let error):
                    result.failures[start + offset] = "\(error)"
                }
            }
            guard !rows.isEmpty else { return }
            let output = try model.forward(Tensor(shape: [rows.count, 3, side, side], scalars: pixels),
                                           intermediateBlocks: outputs.layers)
            result.rows += rows
            result.cls += output.classTokens.scalars
            result.mean += output.meanPatchTokens.scalars
            if outputs.patchTokens { result.patchTokens! += output.patchTokens.scalars }
            let first = 1 + output.registerCount
            for layer in outputs.layers {
                let tokens = output.intermediates[layer]!   // [B, T, D]
                result.layers[layer, default: []] += tokens.sliced(axis: 1, range: first..<tokens.shape[1]).scalars
            }
            if index == 0 || index % 20 == 0 {
                let done = start + loaded.count
                context.logger.debug("\(context.stage.label): \(done)/\(images.count) images, \(String(format: "%.1f", Double(done) / Date().timeIntervalSince(began))) img/s")
            }
        }
        _ = width
        return result
    }
}

/// The input sizes a ViT accepts.
enum ViTResolution {
    /// Why `resolution` does not suit a ViT with patches of `patch` pixels, or nil when it does.
    static func problem(_ resolution: Int, patch: Int) -> SpecProblem? {
        guard resolution < patch || resolution % patch != 0 || resolution > 2048 else { return nil }
        return SpecProblem(at: "resolution", "\(resolution) is not a multiple of the patch size \(patch) up to 2048; "
                           + "try \(patch * max(1, resolution / patch)) (e.g. \(patch * 16), \(patch * 37))")
    }
}

/// The `mean`/`std` options of image backbones.
enum MeanStd {
    /// Both or neither, with 3 values each (or 1 for every channel).
    static func problems(_ options: [String: ParameterValue]) -> [SpecProblem] {
        let mean = options["mean"]?.listValue, std = options["std"]?.listValue
        guard mean != nil || std != nil else { return [] }
        guard let mean, let std else {
            return [SpecProblem(at: mean == nil ? "std" : "mean", "give `mean` and `std` together")]
        }
        guard mean.count == std.count, mean.count == 3 || mean.count == 1 else {
            return [SpecProblem(at: "mean", "`mean` and `std` need 3 values each (or 1 for every channel); found \(mean.count) and \(std.count)")]
        }
        return []
    }

    /// The preprocessing at `resolution` with the options' mean/std, else the model folder's
    /// `preprocessor_config.json` (when a folder is given and has one), else ImageNet's.
    static func preprocessing(resolution: Int, options: ComponentOptions, modelFolder: URL?) throws -> Preprocessing {
        var preprocessing = Preprocessing(size: resolution)
        let mean = try options.numbers("mean"), std = try options.numbers("std")
        if let problem = problems(options.values).first {
            throw RunnerError.badOption(stage: options.stage, option: problem.path ?? "mean", value: "\(mean ?? []) / \(std ?? [])",
                                        reason: problem.message)
        }
        if let mean, let std {
            preprocessing.mean = mean.count == 3 ? mean : Array(repeating: mean[0], count: 3)
            preprocessing.std = std.count == 3 ? std : Array(repeating: std[0], count: 3)
        } else if let modelFolder,
                  FileManager.default.fileExists(atPath: modelFolder.appendingPathComponent(Preprocessing.preprocessorConfigFileName).path) {
            preprocessing = try preprocessing.loadingMeanStd(fromModelFolder: modelFolder)
        }
        return preprocessing
    }
}
