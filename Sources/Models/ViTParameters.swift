import Tensor

// The parameters of a DINOv2 ViT as explicit structs (no reflection): every tensor has a named
// field, a canonical (facebookresearch/dinov2) name and a shape derived from the configuration.
// Weights keep PyTorch's `[out, in]` order.

/// A linear layer: `y = x W^T + b`, weight `[out, in]`.
struct LinearParameters: Sendable {
    /// `[out, in]`.
    var weight: Tensor
    /// `[out]`, or nil for a layer without bias.
    var bias: Tensor?
}

/// LayerNorm affine parameters, each `[D]`.
struct LayerNormParameters: Sendable {
    var weight: Tensor
    var bias: Tensor
}

/// One pre-norm transformer block.
struct BlockParameters: Sendable {
    /// `norm1`.
    var attentionNorm: LayerNormParameters
    /// `attn.qkv`: `[3D, D]`, rows `[q; k; v]`.
    var queryKeyValue: LinearParameters
    /// `attn.proj`: `[D, D]`.
    var attentionOutput: LinearParameters
    /// `ls1.gamma`: `[D]`.
    var attentionLayerScale: Tensor
    /// `norm2`.
    var feedForwardNorm: LayerNormParameters
    /// `mlp.fc1` `[F, D]`, or for SwiGLU `mlp.w12` `[2F, D]` (rows `[gate; up]`).
    var feedForwardIn: LinearParameters
    /// `mlp.fc2` or `mlp.w3`: `[D, F]`.
    var feedForwardOut: LinearParameters
    /// `ls2.gamma`: `[D]`.
    var feedForwardLayerScale: Tensor
}

/// All parameters of the backbone.
struct ViTParameters: Sendable {
    /// `patch_embed.proj`: the stride-`p` convolution, weight `[D, C, p, p]`, bias `[D]`.
    var patchEmbedding: LinearParameters
    /// `cls_token`: `[1, 1, D]`.
    var classToken: Tensor
    /// `pos_embed`: `[1, 1 + g*g, D]` for the native `g x g` grid.
    var positionEmbeddings: Tensor
    /// `register_tokens`: `[1, R, D]`, nil without registers.
    var registerTokens: Tensor?
    /// `mask_token`: `[1, D]`; only used in masked pre-training, kept so that checkpoints that
    /// carry it load strictly.
    var maskToken: Tensor?
    /// `blocks.N`.
    var blocks: [BlockParameters]
    /// `norm`: the final LayerNorm.
    var finalNorm: LayerNormParameters
}

/// The name and shape of every parameter a configuration needs, in the canonical layout.
struct ParameterSpecification {
    var name: String
    var shape: [Int]
    /// False for the mask token, which checkpoints may or may not carry.
    var isRequired = true
}

extension ViTConfiguration {
    /// Canonical names and shapes of all parameters, in file order (embeddings, blocks, norm).
    var parameterSpecifications: [ParameterSpecification] {
        let d = hiddenSize
        let f = feedForwardWidth
        let grid = nativeGridSide
        var specifications = [
            ParameterSpecification(name: "cls_token", shape: [1, 1, d]),
            ParameterSpecification(name: "pos_embed", shape: [1, 1 + grid * grid, d]),
            ParameterSpecification(name: "mask_token", shape: [1, d], isRequired: false),
            ParameterSpecification(name: "patch_embed.proj.weight", shape: [d, channelCount, patchSize, patchSize]),
            ParameterSpecification(name: "patch_embed.proj.bias", shape: [d]),
        ]
        if registerCount > 0 {
            specifications.append(ParameterSpecification(name: "register_tokens", shape: [1, registerCount, d]))
        }
        let (inName, outName, inRows) = usesSwiGLU ? ("w12", "w3", 2 * f) : ("fc1", "fc2", f)
        for layer in 0..<layerCount {
            let prefix = "blocks.\(layer)."
            var block: [(String, [Int])] = [
                ("norm1.weight", [d]), ("norm1.bias", [d]),
                ("attn.qkv.weight", [3 * d, d]),
            ]
            if hasQKVBias { block.append(("attn.qkv.bias", [3 * d])) }
            block += [
                ("attn.proj.weight", [d, d]), ("attn.proj.bias", [d]),
                ("ls1.gamma", [d]),
                ("norm2.weight", [d]), ("norm2.bias", [d]),
                ("mlp.\(inName).weight", [inRows, d]), ("mlp.\(inName).bias", [inRows]),
                ("mlp.\(outName).weight", [d, f]), ("mlp.\(outName).bias", [d]),
                ("ls2.gamma", [d]),
            ]
            specifications += block.map { ParameterSpecification(name: prefix + $0.0, shape: $0.1) }
        }
        specifications.append(ParameterSpecification(name: "norm.weight", shape: [d]))
        specifications.append(ParameterSpecification(name: "norm.bias", shape: [d]))
        return specifications
    }
}

extension ViTParameters {
    /// Builds the structs from tensors under canonical names (already verified).
    init(canonical tensors: [String: Tensor], configuration: ViTConfiguration) {
        func take(_ name: String) -> Tensor {
            guard let tensor = tensors[name] else { preconditionFailure("parameter \(name) was verified present") }
            return tensor
        }
        func norm(_ prefix: String) -> LayerNormParameters {
            LayerNormParameters(weight: take(prefix + ".weight"), bias: take(prefix + ".bias"))
        }
        func linear(_ prefix: String) -> LinearParameters {
            LinearParameters(weight: take(prefix + ".weight"), bias: tensors[prefix + ".bias"])
        }
        let (inName, outName) = configuration.usesSwiGLU ? ("w12", "w3") : ("fc1", "fc2")
        self.init(
            patchEmbedding: linear("patch_embed.proj"),
            classToken: take("cls_token"),
            positionEmbeddings: take("pos_embed"),
            registerTokens: configuration.registerCount > 0 ? take("register_tokens") : nil,
            maskToken: tensors["mask_token"],
            blocks: (0..<configuration.layerCount).map { layer in
                let prefix = "blocks.\(layer)."
                return BlockParameters(
                    attentionNorm: norm(prefix + "norm1"),
                    queryKeyValue: linear(prefix + "attn.qkv"),
                    attentionOutput: linear(prefix + "attn.proj"),
                    attentionLayerScale: take(prefix + "ls1.gamma"),
                    feedForwardNorm: norm(prefix + "norm2"),
                    feedForwardIn: linear(prefix + "mlp.\(inName)"),
                    feedForwardOut: linear(prefix + "mlp.\(outName)"),
                    feedForwardLayerScale: take(prefix + "ls2.gamma"))
            },
            finalNorm: norm("norm"))
    }

    /// Every parameter under its canonical name (the facebookresearch/dinov2 layout).
    func namedTensors(usesSwiGLU: Bool) -> [(name: String, tensor: Tensor)] {
        var named: [(String, Tensor)] = [
            ("cls_token", classToken), ("pos_embed", positionEmbeddings),
            ("patch_embed.proj.weight", patchEmbedding.weight),
        ]
        if let bias = patchEmbedding.bias { named.append(("patch_embed.proj.bias", bias)) }
        if let maskToken { named.append(("mask_token", maskToken)) }
        if let registerTokens { named.append(("register_tokens", registerTokens)) }
        let (inName, outName) = usesSwiGLU ? ("w12", "w3") : ("fc1", "fc2")
        for (layer, block) in blocks.enumerated() {
            let prefix = "blocks.\(layer)."
            named += [
                (prefix + "norm1.weight", block.attentionNorm.weight), (prefix + "norm1.bias", block.attentionNorm.bias),
                (prefix + "attn.qkv.weight", block.queryKeyValue.weight),
                (prefix + "attn.proj.weight", block.attentionOutput.weight),
                (prefix + "ls1.gamma", block.attentionLayerScale),
                (prefix + "norm2.weight", block.feedForwardNorm.weight), (prefix + "norm2.bias", block.feedForwardNorm.bias),
                (prefix + "mlp.\(inName).weight", block.feedForwardIn.weight),
                (prefix + "mlp.\(outName).weight", block.feedForwardOut.weight),
                (prefix + "ls2.gamma", block.feedForwardLayerScale),
            ]
            if let bias = block.queryKeyValue.bias { named.append((prefix + "attn.qkv.bias", bias)) }
            if let bias = block.attentionOutput.bias { named.append((prefix + "attn.proj.bias", bias)) }
            if let bias = block.feedForwardIn.bias { named.append((prefix + "mlp.\(inName).bias", bias)) }
            if let bias = block.feedForwardOut.bias { named.append((prefix + "mlp.\(outName).bias", bias)) }
        }
        named += [("norm.weight", finalNorm.weight), ("norm.bias", finalNorm.bias)]
        return named
    }
}

/// Checks canonical weights against the configuration: every required parameter present with
/// its exact shape, nothing left over.
///
/// - Throws: `ModelLoadingError.missingTensor`, `.shapeMismatch` or `.unusedTensors`, naming
///   the tensor as the file names it.
func verify(_ weights: CanonicalWeights, against configuration: ViTConfiguration) throws {
    var unused = Set(weights.tensors.keys)
    for specification in configuration.parameterSpecifications {
        guard let tensor = weights.tensors[specification.name] else {
            if specification.isRequired {
                if let parts = weights.unfusableParts(of: specification.name) {
                    let partShape = [specification.shape[0] / parts.count] + specification.shape.dropFirst()
                    if let odd = parts.first(where: { $0.shape != partShape }) {
                        throw ModelLoadingError.shapeMismatch(file: weights.file, name: odd.name,
                                                              expected: partShape, actual: odd.shape)
                    }
                }
                let source = weights.missingSource(of: specification.name, shape: specification.shape)
                throw ModelLoadingError.missingTensor(file: weights.file, name: source.name, expectedShape: source.shape)
            }
            continue
        }
        unused.remove(specification.name)
        guard tensor.shape == specification.shape else {
            throw ModelLoadingError.shapeMismatch(file: weights.file, name: weights.sourceName(of: specification.name),
                                                  expected: specification.shape, actual: tensor.shape)
        }
    }
    if !unused.isEmpty {
        throw ModelLoadingError.unusedTensors(file: weights.file, names: unused.map { weights.sourceName(of: $0) }.sorted())
    }
}
