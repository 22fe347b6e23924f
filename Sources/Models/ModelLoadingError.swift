import Foundation

/// Why a model folder could not be loaded; every case names the file and the key or tensor at
/// fault and says what to do.
public enum ModelLoadingError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The model folder does not exist or is not a directory.
    case folderNotFound(folder: String)
    /// A file the folder must contain is absent.
    case fileNotFound(file: String, role: String)
    /// `config.json` is not a JSON object.
    case configUnreadable(file: String, reason: String)
    /// A field of `config.json` is missing, has the wrong type or an unsupported value.
    case invalidConfigField(file: String, key: String, problem: String, fix: String)
    /// The weights file could not be read as safetensors.
    case weightsUnreadable(file: String, reason: String)
    /// The tensor names match neither the transformers nor the facebookresearch/dinov2 layout.
    case unknownWeightLayout(file: String, sampleKeys: [String])
    /// A parameter the configuration needs has no tensor in the file.
    case missingTensor(file: String, name: String, expectedShape: [Int])
    /// Tensors in the file that the configured model does not use.
    case unusedTensors(file: String, names: [String])
    /// A tensor whose shape disagrees with the configuration.
    case shapeMismatch(file: String, name: String, expected: [Int], actual: [Int])

    /// A one-paragraph explanation naming the file, the key or tensor, and the fix.
    public var description: String {
        switch self {
        case .folderNotFound(let folder):
            return "model folder \(folder) does not exist or is not a directory; point the backbone at a folder "
                + "holding config.json and model.safetensors (e.g. a Hugging Face snapshot of facebook/dinov2-base)"
        case .fileNotFound(let file, let role):
            return "\(file) is missing: it should hold \(role); copy it into the model folder"
        case .configUnreadable(let file, let reason):
            return "\(file) is not a readable JSON object (\(reason)); restore the config.json that came with the weights"
        case .invalidConfigField(let file, let key, let problem, let fix):
            return "\(file): key \"\(key)\" \(problem); \(fix)"
        case .weightsUnreadable(let file, let reason):
            return "\(file) could not be read as safetensors (\(reason)); re-download or re-export the weights "
                + "with save_pretrained(safe_serialization=True)"
        case .unknownWeightLayout(let file, let sampleKeys):
            return "\(file): tensor names \(sampleKeys.prefix(4).joined(separator: ", ")) match neither the "
                + "transformers layout (embeddings.*, encoder.layer.N.*) nor the facebookresearch/dinov2 "
                + "layout (cls_token, pos_embed, blocks.N.*); export a DINOv2 backbone state dict"
        case .missingTensor(let file, let name, let shape):
            return "\(file): tensor \"\(name)\" (shape \(shape)) is missing; the config.json beside it asks for "
                + "it, so the weights and the config do not belong together"
        case .unusedTensors(let file, let names):
            let shown = names.prefix(5).map { "\"\($0)\"" }.joined(separator: ", ")
            let more = names.count > 5 ? " and \(names.count - 5) more" : ""
            return "\(file): tensor \(shown)\(more) is not used by the model config.json describes; check "
                + "num_hidden_layers, use_swiglu_ffn and num_register_tokens, or remove the extra tensors"
        case .shapeMismatch(let file, let name, let expected, let actual):
            return "\(file): tensor \"\(name)\" has shape \(actual) but config.json implies \(expected); check "
                + "hidden_size, patch_size, image_size and mlp_ratio against the weights"
        }
    }

    /// Same as `description`, for `localizedDescription`.
    public var errorDescription: String? { description }
}

/// Why a forward pass rejected its input.
public enum ModelInputError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The pixel tensor is not `[B, channels, H, W]` with `H` and `W` positive multiples of the patch size.
    case invalidPixelShape(shape: [Int], channels: Int, patchSize: Int)

    /// Names the offending shape and the shape the model needs.
    public var description: String {
        switch self {
        case .invalidPixelShape(let shape, let channels, let patchSize):
            return "pixel tensor has shape \(shape), expected [batch, \(channels), height, width] with height and "
                + "width positive multiples of the patch size \(patchSize); resize the images (e.g. to 518x518 or 224x224)"
        }
    }

    /// Same as `description`.
    public var errorDescription: String? { description }
}
