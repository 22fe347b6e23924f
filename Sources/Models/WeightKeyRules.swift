import Tensor

/// The key layouts of DINOv2 weight files this module reads.
public enum WeightLayout: String, Sendable, Equatable {
    /// transformers' `Dinov2Model` / `Dinov2WithRegistersModel` (`embeddings.*`,
    /// `encoder.layer.N.attention.attention.query.*`, ...): what `save_pretrained` writes and the
    /// Hugging Face hub serves.
    case transformers
    /// facebookresearch/dinov2's `DinoVisionTransformer` (`cls_token`, `pos_embed`,
    /// `blocks.N.attn.qkv.*`, ...), which is also this module's canonical layout.
    case original

    /// Guesses the layout from the tensor names; nil when neither layout's landmarks appear.
    static func detect(from names: some Collection<String>) -> WeightLayout? {
        if names.contains(where: { $0.hasPrefix("embeddings.") || $0.hasPrefix("encoder.layer.") }) {
            return .transformers
        }
        if names.contains(where: { $0.hasPrefix("blocks.") || $0.hasPrefix("patch_embed.") || $0 == "pos_embed" }) {
            return .original
        }
        return nil
    }

    /// The rules that bring this layout's names to the canonical (original) layout, in order;
    /// the first rule that matches a name applies.
    var rules: [KeyRule] {
        switch self {
        case .transformers: return KeyRule.fromTransformers
        case .original: return KeyRule.fromOriginal
        }
    }
}

/// One declarative renaming step. Patterns are tensor names in which `{name}` stands for a
/// decimal index (a layer number); a pattern ending in "." matches that prefix of a name and
/// the rest of the name (e.g. "weight") carries over.
enum KeyRule: Sendable {
    /// Renames every matching tensor.
    case rename(String, to: String)
    /// Concatenates the tensors matching each part (same captures and suffix) along axis 0,
    /// in the order given, into one tensor.
    case fuse([String], into: String)

    /// transformers hub names (and transformers ≥ 5 module names) to the original layout.
    static let fromTransformers: [KeyRule] = [
        .rename("embeddings.cls_token", to: "cls_token"),
        .rename("embeddings.mask_token", to: "mask_token"),
        .rename("embeddings.register_tokens", to: "register_tokens"),
        .rename("embeddings.position_embeddings", to: "pos_embed"),
        .rename("embeddings.patch_embeddings.projection.", to: "patch_embed.proj."),
        .rename("layernorm.", to: "norm."),
        .rename("encoder.layer.{layer}.norm1.", to: "blocks.{layer}.norm1."),
        .rename("encoder.layer.{layer}.norm2.", to: "blocks.{layer}.norm2."),
        .fuse(["encoder.layer.{layer}.attention.attention.query.",
               "encoder.layer.{layer}.attention.attention.key.",
               "encoder.layer.{layer}.attention.attention.value."], into: "blocks.{layer}.attn.qkv."),
        .fuse(["encoder.layer.{layer}.attention.q_proj.",
               "encoder.layer.{layer}.attention.k_proj.",
               "encoder.layer.{layer}.attention.v_proj."], into: "blocks.{layer}.attn.qkv."),
        .rename("encoder.layer.{layer}.attention.output.dense.", to: "blocks.{layer}.attn.proj."),
        .rename("encoder.layer.{layer}.attention.o_proj.", to: "blocks.{layer}.attn.proj."),
        .rename("encoder.layer.{layer}.layer_scale1.lambda1", to: "blocks.{layer}.ls1.gamma"),
        .rename("encoder.layer.{layer}.layer_scale2.lambda1", to: "blocks.{layer}.ls2.gamma"),
        .rename("encoder.layer.{layer}.mlp.fc1.", to: "blocks.{layer}.mlp.fc1."),
        .rename("encoder.layer.{layer}.mlp.fc2.", to: "blocks.{layer}.mlp.fc2."),
        .rename("encoder.layer.{layer}.mlp.weights_in.", to: "blocks.{layer}.mlp.w12."),
        .rename("encoder.layer.{layer}.mlp.weights_out.", to: "blocks.{layer}.mlp.w3."),
        .fuse(["encoder.layer.{layer}.mlp.gate_proj.",
               "encoder.layer.{layer}.mlp.up_proj."], into: "blocks.{layer}.mlp.w12."),
        .rename("encoder.layer.{layer}.mlp.down_proj.", to: "blocks.{layer}.mlp.w3."),
    ]

    /// The original layout is canonical, except that training checkpoints saved with
    /// `block_chunks > 0` nest blocks as `blocks.<chunk>.<layer>.`.
    static let fromOriginal: [KeyRule] = [
        .rename("blocks.{chunk}.{layer}.", to: "blocks.{layer}."),
    ]
}

/// A compiled `KeyRule` pattern: literal text and `{name}` placeholders for decimal indices.
struct KeyPattern: Sendable {
    private enum Segment: Sendable { case literal(String), index(String) }
    private let segments: [Segment]
    /// Whether the pattern matches a prefix (it ends with ".") or the whole name.
    let isPrefix: Bool

    init(_ pattern: String) {
        var segments: [Segment] = []
        var rest = Substring(pattern)
        while let open = rest.firstIndex(of: "{") {
            let close = rest[open...].firstIndex(of: "}")!
            if open > rest.startIndex { segments.append(.literal(String(rest[..<open]))) }
            segments.append(.index(String(rest[rest.index(after: open)..<close])))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { segments.append(.literal(String(rest))) }
        self.segments = segments
        self.isPrefix = pattern.hasSuffix(".")
    }

    /// The placeholder values and the unmatched rest of `name`, or nil when it does not match.
    func match(_ name: String) -> (captures: [String: String], suffix: String)? {
        var rest = Substring(name)
        var captures: [String: String] = [:]
        for segment in segments {
            switch segment {
            case .literal(let text):
                guard rest.hasPrefix(text) else { return nil }
                rest = rest.dropFirst(text.count)
            case .index(let placeholder):
                let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
                guard !digits.isEmpty else { return nil }
                captures[placeholder] = String(digits)
                rest = rest.dropFirst(digits.count)
            }
        }
        if !isPrefix && !rest.isEmpty { return nil }
        return (captures, String(rest))
    }

    /// The name this pattern produces for the given placeholder values and suffix.
    func render(_ captures: [String: String], suffix: String) -> String {
        segments.map { segment -> String in
            switch segment {
            case .literal(let text): return text
            case .index(let placeholder): return captures[placeholder] ?? "{\(placeholder)}"
            }
        }.joined() + suffix
    }
}
