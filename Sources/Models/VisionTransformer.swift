import Foundation
import Tensor

/// A DINOv2 vision transformer backbone (ViT-S/B/L/g, with or without registers) for inference.
///
/// Load one from a model folder (`config.json` + `model.safetensors`, in transformers' or
/// facebookresearch/dinov2's key layout), or build a randomly initialised one from a
/// configuration and a seed. Run it with `forward(_:)` on `[B, 3, H, W]` pixels.
///
/// ```swift
/// let model = try VisionTransformer(contentsOf: URL(fileURLWithPath: "models/dinov2-base"))
/// let output = try model.forward(pixels)          // pixels: [B, 3, 518, 518]
/// let cls = output.classTokens                     // [B, 768]
/// let mean = output.meanPatchTokens                // [B, 768]
/// ```
public struct VisionTransformer: Sendable {
    /// The architecture.
    public let configuration: ViTConfiguration
    /// The key layout the weights were read in; nil for a randomly initialised model.
    public let weightLayout: WeightLayout?
    /// The weights, PyTorch order.
    let parameters: ViTParameters

    /// Loads a model folder: reads `config.json`, reads `model.safetensors`, renames its
    /// tensors to the canonical layout and applies them with strict verification.
    ///
    /// - Parameter folder: a directory holding `config.json` and `model.safetensors`.
    /// - Throws: `ModelLoadingError` naming the file and key or tensor: missing folder or
    ///   file, unreadable or unsupported config, unknown key layout, and any missing, unused
    ///   or mis-shaped tensor.
    /// - Complexity: reads the file once; F32 weights stay memory-mapped, not copied (except
    ///   transformers' q, k, v, which are fused into one matrix).
    public init(contentsOf folder: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelLoadingError.folderNotFound(folder: folder.path)
        }
        let configuration = try ViTConfiguration(contentsOf: folder.appendingPathComponent("config.json"))
        let file = folder.appendingPathComponent("model.safetensors")
        let tensors = try readWeights(at: file)
        guard let layout = WeightLayout.detect(from: tensors.keys) else {
            throw ModelLoadingError.unknownWeightLayout(file: file.path, sampleKeys: tensors.keys.sorted())
        }
        let canonical = canonicalize(tensors, layout: layout, file: file.path)
        try verify(canonical, against: configuration)
        self.configuration = configuration
        self.weightLayout = layout
        self.parameters = ViTParameters(canonical: canonical.tensors, configuration: configuration)
    }

    /// A model with random weights drawn from a seeded generator, for benchmarks and tests.
    ///
    /// Follows transformers' initialisation: linear and patch weights from a normal
    /// distribution with standard deviation 0.02, zero biases, CLS and
    /// position embeddings with the same distribution, zero registers and mask token, unit
    /// LayerNorm, layer scale `configuration.layerScaleValue`. The same configuration and seed
    /// give the same weights on every run.
    public init(randomlyInitialized configuration: ViTConfiguration, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        var tensors: [String: Tensor] = [:]
        for specification in configuration.parameterSpecifications {
            let name = specification.name
            let shape = specification.shape
            if name.hasSuffix(".bias") || name == "mask_token" || name == "register_tokens" {
                tensors[name] = Tensor(zeros: shape)
            } else if name.hasPrefix("norm") || name.contains(".norm") {
                tensors[name] = Tensor(shape: shape, repeating: 1)
            } else if name.hasSuffix("gamma") {
                tensors[name] = Tensor(shape: shape, repeating: configuration.layerScaleValue)
            } else {
                var tensor = Tensor(zeros: shape)
                tensor.withUnsafeMutableBufferPointer { buffer in
                    generator.fillNormal(buffer, standardDeviation: 0.02)
                }
                tensors[name] = tensor
            }
        }
        self.configuration = configuration
        self.weightLayout = nil
        self.parameters = ViTParameters(canonical: tensors, configuration: configuration)
    }

    /// Every parameter under its facebookresearch/dinov2 name, e.g. to save a random model.
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        parameters.namedTensors(usesSwiGLU: configuration.usesSwiGLU)
    }
}

/// The result of a forward pass: the token sequence after the final LayerNorm.
public struct ViTOutput: Sendable {
    /// `[B, T, D]` with `T = 1 + R + h*w`: CLS, then the `R` registers, then the patch tokens
    /// in row-major grid order.
    public let tokens: Tensor
    /// Register tokens per image.
    public let registerCount: Int
    /// Patch grid (rows, columns) of the input.
    public let patchGrid: (height: Int, width: Int)
    /// Outputs of the requested intermediate blocks (1-based), `[B, T, D]` each, through the
    /// final LayerNorm.
    public let intermediates: [Int: Tensor]

    /// Bundles a forward pass's outputs.
    public init(tokens: Tensor, registerCount: Int, patchGrid: (height: Int, width: Int), intermediates: [Int: Tensor] = [:]) {
        self.tokens = tokens
        self.registerCount = registerCount
        self.patchGrid = patchGrid
        self.intermediates = intermediates
    }

    /// `[B, D]`: token 0.
    public var classTokens: Tensor { tokenRange(0..<1).reshaped([tokens.shape[0], tokens.shape[2]]) }

    /// `[B, R, D]`: the register tokens (empty when the model has none).
    public var registerTokens: Tensor { tokenRange(1..<(1 + registerCount)) }

    /// `[B, h*w, D]`: the patch tokens, after CLS and the registers.
    public var patchTokens: Tensor { tokenRange((1 + registerCount)..<tokens.shape[1]) }

    /// `[B, D]`: the mean of the patch tokens (registers excluded).
    public var meanPatchTokens: Tensor {
        let (batch, tokenCount, width) = (tokens.shape[0], tokens.shape[1], tokens.shape[2])
        let first = 1 + registerCount
        var mean = Tensor(zeros: [batch, width])
        tokens.withUnsafeBufferPointer { source in
            mean.withUnsafeMutableBufferPointer { destination in
                for image in 0..<batch {
                    let out = destination.baseAddress! + image * width
                    // Sum in Double: a 1369-token mean in Float would lose ~3 digits.
                    var sums = [Double](repeating: 0, count: width)
                    for token in first..<tokenCount {
                        let row = source.baseAddress! + (image * tokenCount + token) * width
                        for channel in 0..<width { sums[channel] += Double(row[channel]) }
                    }
                    let count = Double(tokenCount - first)
                    for channel in 0..<width { out[channel] = Float(sums[channel] / count) }
                }
            }
        }
        return mean
    }

    /// `[B, range.count, D]`: a contiguous run of tokens of every image.
    private func tokenRange(_ range: Range<Int>) -> Tensor {
        let (batch, tokenCount, width) = (tokens.shape[0], tokens.shape[1], tokens.shape[2])
        var slice = Tensor(zeros: [batch, range.count, width])
        guard !range.isEmpty else { return slice }
        tokens.withUnsafeBufferPointer { source in
            slice.withUnsafeMutableBufferPointer { destination in
                for image in 0..<batch {
                    (destination.baseAddress! + image * range.count * width).update(
                        from: source.baseAddress! + (image * tokenCount + range.lowerBound) * width,
                        count: range.count * width)
                }
            }
        }
        return slice
    }
}
