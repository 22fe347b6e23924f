import Foundation
import Tensor

extension ViTConfiguration {
    /// The transformers `config.json` fields that describe this architecture (the keys
    /// `init(contentsOf:)` reads), e.g. to write a model folder.
    public var transformersConfigFields: [String: Any] {
        [
            "model_type": registerCount > 0 ? "dinov2_with_registers" : "dinov2",
            "architectures": [registerCount > 0 ? "Dinov2WithRegistersModel" : "Dinov2Model"],
            "hidden_size": hiddenSize,
            "num_hidden_layers": layerCount,
            "num_attention_heads": headCount,
            "mlp_ratio": mlpRatio,
            "patch_size": patchSize,
            "image_size": imageSize,
            "num_channels": channelCount,
            "layer_norm_eps": Double(layerNormEpsilon),
            "num_register_tokens": registerCount,
            "use_swiglu_ffn": usesSwiGLU,
            "qkv_bias": hasQKVBias,
            "hidden_act": "gelu",
            "layerscale_value": Double(layerScaleValue),
            "interpolate_offset": positionInterpolationOffset,
            "interpolate_antialias": antialiasedPositionInterpolation,
        ]
    }
}

extension VisionTransformer {
    /// Writes a model folder this type loads again: `config.json` (transformers fields) and
    /// `model.safetensors` in the facebookresearch/dinov2 key layout.
    ///
    /// Meant for randomly initialised models (e.g. a built-in test backbone that must exist as
    /// files with a content digest).
    /// - Throws: file-system errors from creating the folder or writing the files.
    public func save(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = try JSONSerialization.data(withJSONObject: configuration.transformersConfigFields,
                                                options: [.prettyPrinted, .sortedKeys])
        try config.write(to: folder.appendingPathComponent("config.json"), options: .atomic)
        let tensors = Dictionary(uniqueKeysWithValues: namedParameters().map { ($0.name, $0.tensor) })
        try saveSafetensors(tensors, to: folder.appendingPathComponent("model.safetensors"), metadata: ["format": "pt"])
    }
}
