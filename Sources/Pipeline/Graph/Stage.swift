import Crypto
import Foundation

/// A stage's content address: SHA-256 (hex) of its canonical key material.
public struct StageKey: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// 64 lowercase hex digits.
    public var rawValue: String

    /// Wraps an existing key (read from a descriptor, a command line, the store).
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// Decodes from a single JSON value.
    public init(from decoder: Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes as a single JSON value.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The first 12 hex digits, enough to tell stages apart in logs.
    public var short: String { String(rawValue.prefix(12)) }

    /// The full key.
    public var description: String { rawValue }

    /// Orders keys by their hex text.
    public static func < (left: StageKey, right: StageKey) -> Bool { left.rawValue < right.rawValue }
}

/// A stage kind (`embed`, `probe`, ...): an open set, so new runners can add kinds.
public struct StageKind: Sendable, Hashable, Codable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The kind's name; also the cache folder name.
    public var rawValue: String

    /// Creates a kind.
    public init(_ rawValue: String) {
        self.rawValue = rawValue
    }

    /// Creates a kind from a literal.
    public init(stringLiteral value: String) {
        self.rawValue = value
    }

    /// Decodes from a single JSON value.
    public init(from decoder: Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes as a single JSON value.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The kind's name.
    public var description: String { rawValue }

    /// Orders kinds by name.
    public static func < (left: StageKind, right: StageKind) -> Bool { left.rawValue < right.rawValue }

    /// Reads a dataset into a sample list (ids, patients, image paths, labels, attributes).
    public static let manifest: StageKind = "manifest"
    /// Runs a backbone over a dataset: CLS and mean-pooled patch tokens per sample.
    public static let embed: StageKind = "embed"
}

/// How many threads a stage uses while it runs.
public enum ThreadNeed: Sendable, Hashable, Codable {
    /// Every thread the scheduler's budget has (embedding extraction).
    case all
    /// A fixed number (at least 1; clamped to the budget).
    case count(Int)

    /// The threads granted under a budget of `budget`.
    public func granted(budget: Int) -> Int {
        switch self {
        case .all: return budget
        case .count(let count): return max(1, min(count, budget))
        }
    }
}

/// Where a stage's results go in the results table (what the rows it records are about).
public struct StageCoordinates: Sendable, Hashable, Codable {
    /// Experiment name.
    public var experiment: String = ""
    /// Task name.
    public var task: String = ""
    /// Backbone name.
    public var backbone: String = ""
    /// Dataset name.
    public var dataset: String = ""
    /// Head name ("" when no head is involved).
    public var head: String = ""
    /// Features (`cls`, `mean`, `cls+mean`).
    public var features: String = ""
    /// Training fraction, when a probe is involved.
    public var fraction: Double?
    /// Seed, when a probe is involved.
    public var seed: Int?
    /// Training subgroup name ("all" when unfiltered, "" when not applicable).
    public var trainSubgroup: String = ""
    /// Test subgroup name ("all" when unfiltered, "" when not applicable).
    public var testSubgroup: String = ""

    /// Creates coordinates; unset fields are empty.
    public init(experiment: String = "", task: String = "", backbone: String = "", dataset: String = "",
                head: String = "", features: String = "", fraction: Double? = nil, seed: Int? = nil,
                trainSubgroup: String = "", testSubgroup: String = "") {
        self.experiment = experiment
        self.task = task
        self.backbone = backbone
        self.dataset = dataset
        self.head = head
        self.features = features
        self.fraction = fraction
        self.seed = seed
        self.trainSubgroup = trainSubgroup
        self.testSubgroup = testSubgroup
    }
}

extension StageCoordinates {
    /// The coordinates as a value tree (what enters the key of a recording stage).
    var parameterValue: ParameterValue {
        var fields: [String: ParameterValue] = [
            "experiment": .string(experiment), "task": .string(task), "backbone": .string(backbone),
            "dataset": .string(dataset), "head": .string(head), "features": .string(features),
            "trainSubgroup": .string(trainSubgroup), "testSubgroup": .string(testSubgroup),
        ]
        if let fraction { fields["fraction"] = .number(fraction) }
        if let seed { fields["seed"] = .integer(seed) }
        return .object(fields)
    }
}

/// Lowercase hex SHA-256 of `data`.
public func sha256Hex(_ data: Data) -> String {
    hexString(SHA256.hash(data: data))
}

/// Lowercase hex of a byte sequence.
func hexString(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var output: [UInt8] = []
    output.reserveCapacity(64)
    for byte in bytes {
        output.append(digits[Int(byte >> 4)])
        output.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: output, as: UTF8.self)
}

/// One unit of work: a plain value. The scheduler takes the function that runs it.
///
/// The key hashes everything the stage's output depends on: kind, code version, parameters
/// (files enter as content digests) and the keys of its inputs. Names (backbone "dinov2-base")
/// enter only stages that record results, through `coordinates`, so renaming a backbone
/// re-records cheap leaf stages but never recomputes embeddings.
public struct Stage: Sendable, Hashable, Codable {
    /// Content address.
    public var key: StageKey
    /// Kind.
    public var kind: StageKind
    /// Version of the code that runs this kind; bump it to invalidate old artifacts.
    public var codeVersion: Int
    /// Canonical parameters (see `StageParameters.swift` for each kind's shape).
    public var parameters: ParameterValue
    /// Input stages by role (`"embed"`, `"split"`, `"bootstrap.male.female"`, ...).
    public var inputs: [String: StageKey]
    /// Threads it uses.
    public var threads: ThreadNeed
    /// Results coordinates of the rows it records (`nil` for stages that record none).
    public var coordinates: StageCoordinates?
    /// A short human description, e.g. `embed dinov2-base × chexpert`.
    public var label: String

    /// Creates a stage and computes its key.
    public init(kind: StageKind, codeVersion: Int, parameters: ParameterValue, inputs: [String: StageKey] = [:],
                threads: ThreadNeed = .count(1), coordinates: StageCoordinates? = nil, label: String) {
        self.kind = kind
        self.codeVersion = codeVersion
        self.parameters = parameters
        self.inputs = inputs
        self.threads = threads
        self.coordinates = coordinates
        self.label = label
        self.key = Stage.computeKey(kind: kind, codeVersion: codeVersion, parameters: parameters, inputs: inputs, coordinates: coordinates)
    }

    /// Creates a stage with a given key: for stages read back from descriptors and for tests
    /// that need hand-made graphs. Use `init(kind:codeVersion:parameters:...)` otherwise.
    public init(key: StageKey, kind: StageKind, codeVersion: Int = 1, parameters: ParameterValue = .object([:]),
                inputs: [String: StageKey] = [:], threads: ThreadNeed = .count(1), coordinates: StageCoordinates? = nil, label: String) {
        self.key = key
        self.kind = kind
        self.codeVersion = codeVersion
        self.parameters = parameters
        self.inputs = inputs
        self.threads = threads
        self.coordinates = coordinates
        self.label = label
    }

    /// SHA-256 of the canonical JSON of kind, code version, parameters, inputs and coordinates.
    public static func computeKey(kind: StageKind, codeVersion: Int, parameters: ParameterValue,
                                  inputs: [String: StageKey], coordinates: StageCoordinates?) -> StageKey {
        var material: [String: ParameterValue] = [
            "kind": .string(kind.rawValue),
            "version": .integer(codeVersion),
            "parameters": parameters,
            "inputs": .object(inputs.mapValues { .string($0.rawValue) }),
        ]
        if let coordinates { material["coordinates"] = coordinates.parameterValue }
        return StageKey(sha256Hex(Data(ParameterValue.object(material).canonicalJSON.utf8)))
    }

    /// Whether `key` matches the key its content hashes to (false for tampered descriptors).
    public var hasConsistentKey: Bool {
        key == Stage.computeKey(kind: kind, codeVersion: codeVersion, parameters: parameters, inputs: inputs, coordinates: coordinates)
    }
}
