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

    /// Creates the parameters.
    public init(adapter: String, options: [String: ParameterValue], files: [String: FileReference]) {
        self.adapter = adapter
        self.options = options
        self.files = files
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

    /// Creates the parameters.
    public init(backbone: String, options: [String: ParameterValue], files: [String: FileReference]) {
        self.backbone = backbone
        self.options = options
        self.files = files
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
