import Foundation

extension ViTConfiguration {
    /// Reads a transformers `config.json` (`Dinov2Config` or `Dinov2WithRegistersConfig`).
    ///
    /// Required keys: `model_type` (`"dinov2"` or `"dinov2_with_registers"`), `hidden_size`,
    /// `num_hidden_layers`, `num_attention_heads`, `patch_size`, `image_size` (an integer or an
    /// equal pair). Optional keys take transformers' defaults: `mlp_ratio` 4, `layer_norm_eps`
    /// 1e-6, `num_channels` 3, `qkv_bias` true, `use_swiglu_ffn` false, `hidden_act` "gelu" (the
    /// only activation supported), `layerscale_value` 1, `num_register_tokens` 4 for the
    /// registers model. Other keys (dropout, out_features, ...) do not affect inference and are
    /// ignored.
    ///
    /// A folder with facebookresearch/dinov2 weights describes its architecture the same way:
    /// `model_type` "dinov2" (position embeddings resized without antialiasing) or
    /// "dinov2_with_registers" (with antialiasing, as the `*_reg` hub models do), plus the sizes.
    /// Two optional keys, named after the original `DinoVisionTransformer` arguments, reproduce
    /// that code's resizing instead of transformers': `interpolate_offset` (0.1 for the original
    /// non-register models, default 0) and `interpolate_antialias` (default: true for
    /// "dinov2_with_registers", false for "dinov2").
    /// - Throws: `ModelLoadingError` naming the file and key.
    public init(contentsOf file: URL) throws {
        let path = file.path
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelLoadingError.fileNotFound(file: path, role: "the model architecture (transformers config.json)")
        }
        let object: [String: JSONValue]
        do {
            let data = try Data(contentsOf: file)
            guard case .object(let fields) = try JSONDecoder().decode(JSONValue.self, from: data) else {
                throw ModelLoadingError.configUnreadable(file: path, reason: "the top level is not an object")
            }
            object = fields
        } catch let error as ModelLoadingError {
            throw error
        } catch {
            throw ModelLoadingError.configUnreadable(file: path, reason: "\(error)")
        }
        let reader = ConfigReader(file: path, fields: object)

        let modelType = try reader.string("model_type", default: nil)
        let hasRegisters: Bool
        switch modelType {
        case "dinov2": hasRegisters = false
        case "dinov2_with_registers": hasRegisters = true
        default:
            throw reader.invalid("model_type", "is \"\(modelType)\", which is not a DINOv2 model",
                                 "use a Dinov2Model or Dinov2WithRegistersModel folder (model_type \"dinov2\" or \"dinov2_with_registers\")")
        }
        let activation = try reader.string("hidden_act", default: "gelu")
        guard activation == "gelu" else {
            throw reader.invalid("hidden_act", "is \"\(activation)\"; only the exact (erf) \"gelu\" of DINOv2 is supported",
                                 "set it to \"gelu\" if the weights come from a DINOv2 checkpoint")
        }
        let hiddenSize = try reader.positiveInteger("hidden_size")
        let headCount = try reader.positiveInteger("num_attention_heads")
        guard hiddenSize % headCount == 0 else {
            throw reader.invalid("num_attention_heads", "(\(headCount)) does not divide hidden_size (\(hiddenSize))",
                                 "check both values against the checkpoint's model card")
        }
        let patchSize = try reader.squareSide("patch_size")
        let imageSize = try reader.squareSide("image_size")
        guard imageSize >= patchSize else {
            throw reader.invalid("image_size", "(\(imageSize)) is smaller than patch_size (\(patchSize))",
                                 "use the training resolution of the checkpoint (518 for DINOv2)")
        }
        let registers = hasRegisters ? try reader.nonNegativeInteger("num_register_tokens", default: 4) : 0
        if !hasRegisters, let value = object["num_register_tokens"], value != .number(0), value != .null {
            throw reader.invalid("num_register_tokens", "is set but model_type is \"dinov2\"",
                                 "use model_type \"dinov2_with_registers\" for a model with registers")
        }
        let mlpRatio = try reader.positiveNumber("mlp_ratio", default: 4)
        let offset = try reader.number("interpolate_offset", default: 0)
        guard offset >= 0, offset < 1 else {
            throw reader.invalid("interpolate_offset", "is \(offset); it must be at least 0 and below 1",
                                 "use 0.1 (facebookresearch/dinov2's default) or 0")
        }
        let epsilon = try reader.positiveNumber("layer_norm_eps", default: 1e-6)
        self.init(
            hiddenSize: hiddenSize,
            layerCount: try reader.positiveInteger("num_hidden_layers"),
            headCount: headCount,
            mlpRatio: mlpRatio,
            patchSize: patchSize,
            imageSize: imageSize,
            channelCount: try reader.positiveInteger("num_channels", default: 3),
            layerNormEpsilon: Float(epsilon),
            registerCount: registers,
            usesSwiGLU: try reader.bool("use_swiglu_ffn", default: false),
            hasQKVBias: try reader.bool("qkv_bias", default: true),
            antialiasedPositionInterpolation: try reader.bool("interpolate_antialias", default: hasRegisters),
            layerScaleValue: Float(try reader.number("layerscale_value", default: 1)),
            positionInterpolationOffset: offset
        )
    }
}

/// A JSON value, decoded without losing the difference between booleans and numbers.
enum JSONValue: Decodable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// A short rendering for error messages.
    var summary: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return "\(value)"
        case .number(let value): return value == value.rounded() && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
        case .string(let value): return "\"\(value)\""
        case .array(let values): return "[" + values.map(\.summary).joined(separator: ", ") + "]"
        case .object: return "an object"
        }
    }
}

/// Typed access to config.json fields with errors that name the file and key.
private struct ConfigReader {
    let file: String
    let fields: [String: JSONValue]

    func invalid(_ key: String, _ problem: String, _ fix: String) -> ModelLoadingError {
        .invalidConfigField(file: file, key: key, problem: problem, fix: fix)
    }

    private func value(_ key: String, required: Bool) throws -> JSONValue? {
        guard let value = fields[key], value != .null else {
            if required {
                throw invalid(key, "is missing", "add it from the checkpoint's original config.json")
            }
            return nil
        }
        return value
    }

    func string(_ key: String, default fallback: String?) throws -> String {
        guard let value = try value(key, required: fallback == nil) else { return fallback! }
        guard case .string(let text) = value else {
            throw invalid(key, "must be a string, found \(value.summary)", "write it as a JSON string")
        }
        return text
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = try value(key, required: false) else { return fallback }
        guard case .bool(let flag) = value else {
            throw invalid(key, "must be true or false, found \(value.summary)", "write it as a JSON boolean")
        }
        return flag
    }

    func number(_ key: String, default fallback: Double?) throws -> Double {
        guard let value = try value(key, required: fallback == nil) else { return fallback! }
        guard case .number(let number) = value, number.isFinite else {
            throw invalid(key, "must be a number, found \(value.summary)", "write it as a JSON number")
        }
        return number
    }

    func positiveNumber(_ key: String, default fallback: Double?) throws -> Double {
        let number = try number(key, default: fallback)
        guard number > 0 else { throw invalid(key, "must be positive, found \(number)", "use the checkpoint's value") }
        return number
    }

    func positiveInteger(_ key: String, default fallback: Int? = nil) throws -> Int {
        let integer = try nonNegativeInteger(key, default: fallback)
        guard integer > 0 else { throw invalid(key, "must be positive, found 0", "use the checkpoint's value") }
        return integer
    }

    func nonNegativeInteger(_ key: String, default fallback: Int?) throws -> Int {
        guard let value = try value(key, required: fallback == nil) else { return fallback! }
        guard case .number(let number) = value, number == number.rounded(), number >= 0, number < 1e9 else {
            throw invalid(key, "must be a non-negative integer, found \(value.summary)", "write it as a JSON integer")
        }
        return Int(number)
    }

    /// An integer, or a pair of equal integers (transformers allows `[h, w]`; DINOv2 is square).
    func squareSide(_ key: String) throws -> Int {
        guard let value = try value(key, required: true) else { preconditionFailure("required") }
        if case .array(let pair) = value {
            guard pair.count == 2, case .number(let first) = pair[0], pair[0] == pair[1],
                  first == first.rounded(), first >= 1, first < 1e6 else {
                throw invalid(key, "is \(value.summary); only square sizes are supported",
                              "use a single positive integer")
            }
            return Int(first)
        }
        return try positiveInteger(key)
    }
}
