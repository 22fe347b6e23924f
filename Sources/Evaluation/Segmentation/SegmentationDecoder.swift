import Random
import Foundation
import Tensor

/// The decoder trained on frozen patch tokens, with its options.
public enum SegmentationDecoderKind: Sendable, Equatable {
    /// DINOv2's linear head: BatchNorm over the last layer's patch tokens, a per-patch linear map
    /// (1×1 convolution) to class logits, bilinear upsampling to the mask size.
    case linear
    /// mmsegmentation's ViT + UPerNet: a neck rescaling four layers to strides 4/8/16/32 of a
    /// 16-px patch grid (3.5/7/14/28 for 14-px patches), pyramid pooling and an FPN.
    case upernet(UPerNetConfiguration)

    /// How many token layers the decoder reads (the last layer only, or four).
    public var layerCount: Int {
        switch self {
        case .linear: 1
        case let .upernet(configuration): configuration.blocks.count
        }
    }
}

/// UPerNet's options (mmsegmentation's `upernet_vit-b16_ln_mln` defaults).
public struct UPerNetConfiguration: Sendable, Equatable, Codable {
    /// The backbone blocks whose output tokens feed the four levels (1-based; 12 is the last of a ViT-B).
    public var blocks: [Int]
    /// Channels of the neck's outputs (mmsegmentation: the embedding width, 768 for ViT-B); nil
    /// for the embedding width.
    public var neckChannels: Int?
    /// Channels of the head (pyramid pooling, FPN).
    public var channels: Int
    /// Pyramid pooling scales.
    public var poolScales: [Int]
    /// Dropout2d before the classifier in training.
    public var dropout: Double

    public init(blocks: [Int] = [4, 6, 8, 12], neckChannels: Int? = nil, channels: Int = 512,
                poolScales: [Int] = [1, 2, 3, 6], dropout: Double = 0.1) {
        self.blocks = blocks
        self.neckChannels = neckChannels
        self.channels = channels
        self.poolScales = poolScales
        self.dropout = dropout
    }

    /// The paper-size decoder (mmsegmentation's widths).
    public static let paper = UPerNetConfiguration()
    /// A narrow decoder for CPU demos: 64 neck channels, 32 head channels.
    public static let small = UPerNetConfiguration(neckChannels: 64, channels: 32)

    /// The neck's rescaling factors, one per level.
    static let neckScales: [Double] = [4, 2, 1, 0.5]

    func validate() throws {
        guard blocks.count == 4, blocks.allSatisfy({ $0 > 0 }) else {
            throw SegmentationError.invalidParameter(name: "upernet blocks", value: "\(blocks)",
                                                     reason: "needs four positive block numbers, e.g. [4, 6, 8, 12]")
        }
        guard channels > 0, (neckChannels ?? 1) > 0 else {
            throw SegmentationError.invalidParameter(name: "upernet channels", value: "\(channels), neck \(neckChannels.map(String.init) ?? "auto")",
                                                     reason: "must be positive")
        }
        guard !poolScales.isEmpty, poolScales.allSatisfy({ $0 > 0 }) else {
            throw SegmentationError.invalidParameter(name: "pool scales", value: "\(poolScales)", reason: "must be positive")
        }
        guard dropout >= 0, dropout < 1 else {
            throw SegmentationError.invalidParameter(name: "upernet dropout", value: "\(dropout)", reason: "must lie in [0, 1)")
        }
    }
}

/// The patch-token grid a decoder reads: `height × width` tokens of `channels` features.
public struct TokenGrid: Sendable, Equatable {
    public let height: Int, width: Int, channels: Int

    public init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }
}

/// What the trainer needs from a decoder: a forward pass to low-resolution class logits and its
/// backward, over parameters in one flat buffer.
///
/// Logits come out as planes `[batch, classes, logitHeight, logitWidth]` (the layout of masks);
/// the loss upsamples them to the mask size.
protocol SegmentationDecoder: AnyObject {
    var classes: Int { get }
    var grid: TokenGrid { get }
    var logitHeight: Int { get }
    var logitWidth: Int { get }
    var parameters: DecoderParameters { get }
    /// The most images one pass takes.
    var capacity: Int { get }

    /// Forward on `batch` images; `layers[k]` is `[batch, h, w, D]`. Returns the logit planes,
    /// valid until the next call. In training, uses batch statistics (updating the running ones)
    /// and dropout masks hashed from `dropoutKey`.
    func forward(layers: [UnsafePointer<Float>], batch: Int, training: Bool, dropoutKey: UInt64) -> UnsafePointer<Float>

    /// Backward of the last training forward from `∂L/∂logits` (planes); adds to the parameter gradients.
    func backward(logitGradient: UnsafePointer<Float>, layers: [UnsafePointer<Float>], batch: Int)

    /// Refreshes whatever the passes derive from the parameters (packed weights) after an update.
    func parametersChanged()
}

/// Copies NHWC logits `[B, H, W, C]` (any border) into planes `[B, C, H, W]`.
func copyPixelsToPlanes(_ source: UnsafePointer<Float>, _ layout: FeatureMapLayout, into planes: UnsafeMutablePointer<Float>) {
    let classes = layout.channels, size = layout.height * layout.width
    layout.forEachRow { image, y, row in
        for x in 0..<layout.width {
            let pixel = source + row + x * layout.pixelStride
            for c in 0..<classes { planes[(image * classes + c) * size + y * layout.width + x] = pixel[c] }
        }
    }
}

/// Copies planes `[B, C, H, W]` into NHWC `[B, H, W, C]` (any border; the border is left as it was).
func copyPlanesToPixels(_ planes: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, _ layout: FeatureMapLayout) {
    let classes = layout.channels, size = layout.height * layout.width
    layout.forEachRow { image, y, row in
        for x in 0..<layout.width {
            let pixel = target + row + x * layout.pixelStride
            for c in 0..<classes { pixel[c] = planes[(image * classes + c) * size + y * layout.width + x] }
        }
    }
}

/// Seeded initialisations matching PyTorch's and mmcv's distributions (not their bits).
struct DecoderInitializer {
    var generator: SeededGenerator

    /// A standard normal draw (Box–Muller on two uniforms).
    mutating func normal() -> Float {
        let u = max(generator.nextUnitDouble(), 1e-300), v = generator.nextUnitDouble()
        return Float((-2 * Foundation.log(u)).squareRoot() * cos(2 * Double.pi * v))
    }

    /// `nn.init.normal_(std)`.
    mutating func normal(_ target: UnsafeMutablePointer<Float>, count: Int, standardDeviation: Float) {
        for index in 0..<count { target[index] = normal() * standardDeviation }
    }

    /// `nn.init.xavier_uniform_` for a conv weight `[Cout, Cin, k, k]`.
    mutating func xavierUniform(_ target: UnsafeMutablePointer<Float>, shape: [Int]) {
        let receptive = shape[2] * shape[3]
        let bound = (6 / Double((shape[0] + shape[1]) * receptive)).squareRoot()
        for index in 0..<shape.reduce(1, *) { target[index] = Float((2 * generator.nextUnitDouble() - 1) * bound) }
    }

    /// mmcv's `kaiming_init(mode="fan_out", nonlinearity="relu", distribution="normal")`.
    mutating func kaimingNormalFanOut(_ target: UnsafeMutablePointer<Float>, shape: [Int]) {
        let standardDeviation = Float((2 / Double(shape[0] * shape[2] * shape[3])).squareRoot())
        normal(target, count: shape.reduce(1, *), standardDeviation: standardDeviation)
    }
}
