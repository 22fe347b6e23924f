/// The parameters of the stage kinds every spec shares (`manifest`, `embed`), and the value
/// types task kinds use in theirs. Each task kind defines its own stages' parameters beside its
/// definition in the engine; a runner decodes them with `try context.parameters(T.self)`.
///
/// Everything in these structs enters the stage key. Files appear as `FileReference`s (path plus
/// content digest): the digest makes the key change when the content changes, the path tells
/// the runner where to read.

/// A file or folder the spec points at, with the digest that stands for its content.
public struct FileReference: Sendable, Hashable, Codable {
    /// Absolute path.
    public var path: String

    /// Creates a reference.
    public init(path: String, digest: String) {
        self.path = path
        self.digest = digest
    }
    /// SHA-256 of the content (for a folder: of its files' names and digests); for data roots
    /// whose content enters through the manifest instead, the string `"path-only"`.
    public var digest: String
}

/// `manifest`: reads a dataset into a sample list. No inputs.
public struct ManifestParameters: Sendable, Hashable, Codable {
    /// Dataset adapter kind (`phantom`, `chexpert`, ...).
    public var adapter: String
    /// Adapter options as written (paths made absolute).
    public var options: [String: ParameterValue]
    /// Digests of every file option (by option name), so editing a label CSV re-runs the manifest.
    public var files: [String: FileReference]
    /// `skip`: unreadable images are left out (and recorded); `fail` (nil): they fail the embedding.
    public var onError: String?

    /// Creates the parameters.
    public init(adapter: String, options: [String: ParameterValue], files: [String: FileReference], onError: String? = nil) {
        self.adapter = adapter
        self.options = options
        self.files = files
        self.onError = onError
    }
}

/// What an embedding stage stores besides the CLS and mean-pooled tokens it always stores: what
/// the tasks reading it need (patch tokens for dense heads, intermediate blocks for UPerNet).
public struct EmbeddingOutputs: Sendable, Hashable, Codable {
    /// The final-layer patch tokens `[h, w, D]` (float16).
    public var patchTokens: Bool
    /// Outputs of these blocks (1-based), `[h, w, D]` each (float16), sorted.
    public var layers: [Int]

    /// CLS and mean-pooled tokens only.
    public static let pooled = EmbeddingOutputs(patchTokens: false, layers: [])

    /// Creates a request.
    public init(patchTokens: Bool, layers: [Int]) {
        self.patchTokens = patchTokens
        self.layers = Array(Set(layers)).sorted()
    }

    /// What both need.
    public func union(_ other: EmbeddingOutputs) -> EmbeddingOutputs {
        EmbeddingOutputs(patchTokens: patchTokens || other.patchTokens, layers: layers + other.layers)
    }

    /// Whether everything `other` asks for is here.
    public func covers(_ other: EmbeddingOutputs) -> Bool {
        (patchTokens || !other.patchTokens) && Set(other.layers).isSubset(of: Set(layers))
    }
}

/// `embed`: runs a backbone over every sample of a manifest. Input `manifest`.
///
/// It always produces both CLS and mean-pooled patch tokens (one forward pass gives both), so
/// tasks that need different features share one embedding stage.
public struct EmbedParameters: Sendable, Hashable, Codable {
    /// Backbone family (`dinov2`, `pixels`, ...).
    public var backbone: String
    /// Backbone options as written (paths made absolute).
    public var options: [String: ParameterValue]
    /// Digests of the weight/embedding files (a model folder: one digest over its files).
    public var files: [String: FileReference]
    /// What is stored besides CLS and mean-pooled tokens; nil for nothing more.
    public var outputs: EmbeddingOutputs?

    /// Creates the parameters.
    public init(backbone: String, options: [String: ParameterValue], files: [String: FileReference],
                outputs: EmbeddingOutputs? = nil) {
        self.backbone = backbone
        self.options = options
        self.files = files
        self.outputs = outputs == .pooled ? nil : outputs
    }
}

/// A subgroup filter: its name (for messages and coordinates) and its conditions; both enter the key.
public struct SubgroupFilter: Sendable, Hashable, Codable {
    /// Subgroup name, e.g. `female`.
    public var name: String
    /// Attribute conditions; empty = every sample.
    public var conditions: [String: ParameterValue]

    /// Creates a filter.
    public init(name: String, conditions: [String: ParameterValue]) {
        self.name = name
        self.conditions = conditions
    }
}

/// The facets of a manifest's content that stages read: what keys them once the manifest ran.
public enum ManifestFacet {
    /// Everything but the dataset's location: samples, labels, attributes, splits, image digests.
    public static let content = "content"
    /// The sample ids and their images' content digests, in order: what embeddings depend on.
    public static let images = "images"
}

extension EmbeddingOutputs {
    /// Adds what `other` needs.
    public mutating func formUnion(_ other: EmbeddingOutputs) {
        self = union(other)
    }
}
