import Pipeline

/// `segmentation`: a decoder (linear or UPerNet) trained on a frozen backbone's stored patch
/// tokens per cell of (backbone, dataset, decoder, seed), scored per test image and class with
/// Dice, IoU and DicePos, with a bootstrap interval over images (patients) — the paper's §2.3.3.
///
/// Per cell it compiles to `split` (shared with every backbone) → `segmentation-train` (inputs
/// `embed`, `split`, `manifest`) → `segmentation-metric` and `segmentation-bootstrap` (input the
/// trained stage and the manifest). The embed stage is asked for the final patch tokens (linear)
/// or the four chosen blocks (UPerNet).
public struct SegmentationTask: TaskKind {
    public var name: String { "segmentation" }
    public var summary: String {
        "linear or UPerNet decoders on frozen patch tokens; Dice, IoU and DicePos per image and class, bootstrap over images"
    }

    /// The UPerNet options (`upernet:` mapping).
    static let upernetFields: [SchemaField] = [
        SchemaField("layers", .list(.integer(.atLeastOne), minimumCount: 4)),
        SchemaField("channels", .integer(.atLeastOne)),
        SchemaField("neck_channels", .integer(.atLeastOne)),
        SchemaField("pool_scales", .list(.integer(.atLeastOne), minimumCount: 1)),
        SchemaField("dropout", .number(.probability)),
    ]

    public var fields: [SchemaField] {
        [
            SchemaField("classes", .list(.string(), minimumCount: 1)),
            SchemaField("upernet", .object(ObjectSchema(Self.upernetFields))),
            SchemaField("loss", .string(choices: SegmentationLossKind.allCases.map(\.rawValue))),
            SchemaField("activation", .string(choices: ["sigmoid", "softmax"])),
            SchemaField("batch", .integer(.atLeastOne)),
            SchemaField("lr", .number(.positive)),
            SchemaField("iterations", .integer(.atLeastOne)),
            SchemaField("validation_interval", .integer(.atLeastOne)),
            SchemaField("patience", .integer(.atLeastOne)),
            SchemaField("lr_patience", .integer(.nonNegative)),
            SchemaField("mask_size", .integer(NumberRange(lower: 4, upper: 2048))),
            SchemaField("augment", .string(choices: SegmentationAugmentKind.allCases.map(\.rawValue))),
            SchemaField("examples", .integer(NumberRange(lower: 0, upper: 32))),
            SchemaField("split", .object(ObjectSchema([
                SchemaField("validation", .number(.openUnit)),
                SchemaField("test", .number(.openUnit)),
            ]))),
            SchemaField("bootstrap", .object(ObjectSchema([
                SchemaField("replicates", .integer(.atLeastOne)),
                SchemaField("seed", .integer(.nonNegative)),
            ]))),
        ]
    }

    public var axes: [SchemaField] {
        [
            SchemaField("decoder", .list(.string(choices: SegmentationDecoderName.allCases.map(\.rawValue)), minimumCount: 1)),
            SchemaField("seed", .list(.integer(.nonNegative), minimumCount: 1)),
        ]
    }

    public var runners: [any StageRunner] {
        [SplitRunner(), SegmentationTrainRunner(), SegmentationMetricRunner(), SegmentationBootstrapRunner()]
    }

    /// Creates the task kind.
    public init() {}

    /// Checks that need no dataset: the UPerNet blocks, classes listed once, softmax with two classes.
    public func check(_ task: TaskSpec, in spec: Spec) -> [SpecProblem] {
        guard let options = try? task.options(as: SegmentationTaskOptions.self) else { return [] }
        var problems: [SpecProblem] = []
        if let layers = options.upernet?.layers, layers.count != 4 {
            problems.append(SpecProblem(at: "upernet.layers", "UPerNet reads exactly four blocks (e.g. [4, 6, 8, 12]); found \(layers.count)"))
        }
        if let classes = options.classes {
            for (index, name) in classes.enumerated() where classes[..<index].contains(name) {
                problems.append(SpecProblem(at: "classes[\(index)]", "class \"\(name)\" is listed twice"))
            }
        }
        if options.upernet != nil, !(task.matrix.strings("decoder") ?? []).contains(SegmentationDecoderName.upernet.rawValue) {
            problems.append(SpecProblem(at: "upernet", "the task trains no UPerNet decoder; add `upernet` to `matrix.decoder` or remove these options"))
        }
        return problems
    }

    /// Final patch tokens for the linear decoder, the chosen blocks for UPerNet.
    public func embeddingOutputs(_ task: TaskSpec, in spec: Spec) -> EmbeddingOutputs {
        guard let options = try? task.options(as: SegmentationTaskOptions.self) else { return .pooled }
        let decoders = Self.decoders(task)
        return EmbeddingOutputs(patchTokens: decoders.contains(.linear),
                                layers: decoders.contains(.upernet) ? options.upernetLayers : [])
    }

    static func decoders(_ task: TaskSpec) -> [SegmentationDecoderName] {
        (task.matrix.strings("decoder") ?? ["linear"]).compactMap(SegmentationDecoderName.init(rawValue:))
    }

    public func compile(_ task: TaskSpec, into graph: inout GraphBuilder) {
        SegmentationTaskCompiler(task: task).compile(into: &graph)
    }
}

/// The decoders a segmentation task trains (`matrix.decoder`).
public enum SegmentationDecoderName: String, Sendable, Hashable, Codable, CaseIterable {
    /// DINOv2's linear head on the final patch tokens.
    case linear
    /// mmsegmentation's ViT + UPerNet on four blocks.
    case upernet
}

/// The training objective.
public enum SegmentationLossKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Soft Dice (the paper).
    case dice
    /// Soft Dice plus cross-entropy with weight 1.
    case diceAndCrossEntropy = "dice+ce"
}

/// Whether training images are augmented.
public enum SegmentationAugmentKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Cached tokens, no augmentation (the default; a deviation from the paper).
    case none
    /// The paper's augmentations on images, the backbone run per iteration.
    case paper
}

/// A segmentation task's fields, decoded (Swift names of the YAML keys).
struct SegmentationTaskOptions: Decodable {
    struct UPerNet: Decodable {
        var layers: [Int]?
        var channels: Int?
        var neckChannels: Int?
        var poolScales: [Int]?
        var dropout: Double?
    }

    struct SplitRatios: Decodable {
        var validation: Double?
        var test: Double?
    }

    struct BootstrapSettings: Decodable {
        var replicates: Int?
        var seed: Int?
    }

    var classes: [String]?
    var upernet: UPerNet?
    var loss: SegmentationLossKind?
    var activation: String?
    var batch: Int?
    var lr: Double?
    var iterations: Int?
    var validationInterval: Int?
    var patience: Int?
    var lrPatience: Int?
    var maskSize: Int?
    var augment: SegmentationAugmentKind?
    var examples: Int?
    var split: SplitRatios?
    var bootstrap: BootstrapSettings?

    /// The default blocks of a 12-block backbone (mmsegmentation's ViT-B setup).
    static let defaultLayers = [4, 6, 8, 12]

    var upernetLayers: [Int] { upernet?.layers ?? Self.defaultLayers }
}
