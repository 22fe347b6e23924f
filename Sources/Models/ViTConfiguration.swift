import Foundation

/// The architecture of a DINOv2 vision transformer, as transformers' `Dinov2Config` /
/// `Dinov2WithRegistersConfig` describe it.
///
/// A model folder carries it as `config.json` with the transformers field names, whatever the
/// key layout of its `model.safetensors` (a folder holding facebookresearch/dinov2 weights needs
/// a config.json written the same way; see `init(contentsOf:)`).
public struct ViTConfiguration: Sendable, Equatable {
    /// Width of every token, `D`.
    public var hiddenSize: Int
    /// Number of transformer blocks.
    public var layerCount: Int
    /// Number of attention heads; `hiddenSize` must be a multiple of it.
    public var headCount: Int
    /// Feed-forward width over `hiddenSize` (transformers' `mlp_ratio`).
    public var mlpRatio: Double
    /// Side of the square patches, in pixels.
    public var patchSize: Int
    /// Side of the square training image; the position embeddings cover
    /// `(imageSize / patchSize)^2` patches.
    public var imageSize: Int
    /// Input channels (3).
    public var channelCount: Int
    /// LayerNorm epsilon (transformers' `layer_norm_eps`).
    public var layerNormEpsilon: Float
    /// Register tokens inserted after CLS (0 for plain DINOv2).
    public var registerCount: Int
    /// SwiGLU feed-forward (ViT-g) instead of fc1-GELU-fc2.
    public var usesSwiGLU: Bool
    /// Whether the query, key and value projections have biases.
    public var hasQKVBias: Bool
    /// Whether position embeddings are resized with antialiasing: off for `Dinov2Model`, on for
    /// `Dinov2WithRegistersModel`, as transformers does.
    public var antialiasedPositionInterpolation: Bool
    /// Layer-scale value a randomly initialised model starts from (transformers' `layerscale_value`).
    public var layerScaleValue: Float
    /// facebookresearch/dinov2's `interpolate_offset`: 0 (transformers, and the original
    /// registers models) resizes position embeddings to the target size; a positive value (0.1
    /// in the original non-register models) resizes by the scale factor `(g' + offset) / g`
    /// instead, which moves every sample point (see `PositionEmbeddingResampling.swift`).
    public var positionInterpolationOffset: Double

    /// Creates a configuration; see the properties for the meaning of each value.
    public init(
        hiddenSize: Int, layerCount: Int, headCount: Int, mlpRatio: Double = 4, patchSize: Int = 14,
        imageSize: Int = 518, channelCount: Int = 3, layerNormEpsilon: Float = 1e-6, registerCount: Int = 0,
        usesSwiGLU: Bool = false, hasQKVBias: Bool = true, antialiasedPositionInterpolation: Bool? = nil,
        layerScaleValue: Float = 1, positionInterpolationOffset: Double = 0
    ) {
        precondition(hiddenSize > 0 && layerCount > 0 && headCount > 0 && hiddenSize % headCount == 0,
                     "hidden size \(hiddenSize) must be a positive multiple of the head count \(headCount)")
        precondition(patchSize > 0 && imageSize >= patchSize && channelCount > 0 && registerCount >= 0 && mlpRatio > 0)
        precondition(positionInterpolationOffset >= 0 && positionInterpolationOffset < 1,
                     "interpolation offset \(positionInterpolationOffset) must be in [0, 1)")
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.mlpRatio = mlpRatio
        self.patchSize = patchSize
        self.imageSize = imageSize
        self.channelCount = channelCount
        self.layerNormEpsilon = layerNormEpsilon
        self.registerCount = registerCount
        self.usesSwiGLU = usesSwiGLU
        self.hasQKVBias = hasQKVBias
        self.antialiasedPositionInterpolation = antialiasedPositionInterpolation ?? (registerCount > 0)
        self.layerScaleValue = layerScaleValue
        self.positionInterpolationOffset = positionInterpolationOffset
    }

    /// Patches per side of the grid the position embeddings were trained on.
    public var nativeGridSide: Int { imageSize / patchSize }

    /// Width of one attention head.
    public var headWidth: Int { hiddenSize / headCount }

    /// Hidden width of the feed-forward block: `int(D * mlp_ratio)`, and for SwiGLU two thirds
    /// of that rounded up to a multiple of 8 (the gate and up halves each have this width).
    public var feedForwardWidth: Int {
        let plain = Int(Double(hiddenSize) * mlpRatio)
        return usesSwiGLU ? (Int(Double(plain) * 2 / 3) + 7) / 8 * 8 : plain
    }

    /// Number of parameters (weights and biases, without the unused mask token).
    public var parameterCount: Int {
        let d = hiddenSize
        let f = feedForwardWidth
        let embedding = d * channelCount * patchSize * patchSize + d + d
            + (nativeGridSide * nativeGridSide + 1) * d + registerCount * d
        let attention = 3 * d * d + (hasQKVBias ? 3 * d : 0) + d * d + d
        let feedForward = usesSwiGLU ? (2 * f * d + 2 * f + d * f + d) : (f * d + f + d * f + d)
        return embedding + layerCount * (attention + feedForward + 6 * d) + 2 * d
    }

    /// ViT-S/14 (21M parameters), 518x518 position grid as the DINOv2 checkpoints.
    public static func small(registers: Int = 0) -> ViTConfiguration {
        ViTConfiguration(hiddenSize: 384, layerCount: 12, headCount: 6, registerCount: registers)
    }

    /// ViT-B/14 (86M parameters).
    public static func base(registers: Int = 0) -> ViTConfiguration {
        ViTConfiguration(hiddenSize: 768, layerCount: 12, headCount: 12, registerCount: registers)
    }

    /// ViT-L/14 (300M parameters).
    public static func large(registers: Int = 0) -> ViTConfiguration {
        ViTConfiguration(hiddenSize: 1024, layerCount: 24, headCount: 16, registerCount: registers)
    }

    /// ViT-g/14 (1.1B parameters) with the SwiGLU feed-forward.
    public static func giant(registers: Int = 0) -> ViTConfiguration {
        ViTConfiguration(hiddenSize: 1536, layerCount: 40, headCount: 24, registerCount: registers, usesSwiGLU: true)
    }
}
