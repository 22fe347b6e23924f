import Foundation

/// One task of a spec: its name, its kind, the matrix it is expanded over and its kind's own
/// fields (an options map the kind's `TaskDefinition` decodes).
public struct TaskSpec: Sendable, Hashable {
    /// Unique name within the experiment (a results coordinate).
    public var name: String
    /// The task kind's name (`classification`, `retrieval`, ...).
    public var kind: String
    /// Free text.
    public var description: String?
    /// The name tables and figures show (default: `name`).
    public var display: String?
    /// The axes.
    public var matrix: TaskMatrix
    /// The kind's own fields, keyed by their Swift names (`snake_case` written in YAML becomes
    /// `camelCase`), values as validated.
    public var options: [String: ParameterValue]
    /// Position in the spec's `tasks:` list (for key paths in messages: `tasks[2].labels`).
    public var index: Int

    /// Creates a task.
    public init(name: String, kind: String, description: String? = nil, display: String? = nil,
                matrix: TaskMatrix, options: [String: ParameterValue] = [:], index: Int = 0) {
        self.name = name
        self.kind = kind
        self.description = description
        self.display = display
        self.matrix = matrix
        self.options = options
        self.index = index
    }

    /// The key path of this task in its spec, e.g. `tasks[2]`; with `field`, `tasks[2].field`.
    public func keyPath(_ field: String? = nil) -> String {
        field.map { "tasks[\(index)].\($0)" } ?? "tasks[\(index)]"
    }

    /// The options decoded as the kind's own type (fields by their Swift names).
    /// - Throws: `DecodingError` when the options do not have that shape (a kind whose schema
    ///   and type disagree: a programming error, reported rather than trusted).
    public func options<Options: Decodable>(as type: Options.Type) throws -> Options {
        try ParameterValue.object(options).decode(type)
    }

    /// Reads a task from the validated value of one `tasks:` entry: `name`, `kind`,
    /// `description`, `display`, and the kind's fields under `options` with `matrix` among them.
    init(validated value: ParameterValue, index: Int) throws {
        guard let fields = value.objectValue, let name = fields["name"]?.stringValue,
              let kind = fields["kind"]?.stringValue else {
            preconditionFailure("a validated task has a name and a kind")
        }
        var options = fields["options"]?.objectValue ?? [:]
        let matrix = options.removeValue(forKey: "matrix")?.objectValue ?? [:]
        self.init(name: name, kind: kind, description: fields["description"]?.stringValue, display: fields["display"]?.stringValue,
                  matrix: TaskMatrix(axes: matrix.compactMapValues(\.listValue)), options: options, index: index)
    }
}

/// The axes a task is expanded over: `backbone` and `dataset` for every kind, plus the kind's own
/// (`fraction`, `seed`, `head`, ...). Values are kept in spec order.
public struct TaskMatrix: Sendable, Hashable {
    /// Values per axis name.
    public var axes: [String: [ParameterValue]]

    /// Creates a matrix.
    public init(axes: [String: [ParameterValue]]) {
        self.axes = axes
    }

    /// Backbone names.
    public var backbone: [String] { strings("backbone") ?? [] }
    /// Dataset names.
    public var dataset: [String] { strings("dataset") ?? [] }

    /// The values of a text axis (names, choices), or nil when the task does not set it.
    public func strings(_ axis: String) -> [String]? {
        axes[axis]?.compactMap(\.stringValue)
    }

    /// The values of a numeric axis, or nil when the task does not set it.
    public func numbers(_ axis: String) -> [Double]? {
        axes[axis]?.compactMap(\.doubleValue)
    }

    /// The values of a whole-number axis, or nil when the task does not set it.
    public func integers(_ axis: String) -> [Int]? {
        axes[axis]?.compactMap(\.integerValue)
    }
}
