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
    /// Training samples per class, for a few-shot probe.
    public var shots: Int?
    /// Training subgroup name ("all" when unfiltered, "" when not applicable).
    public var trainSubgroup: String = ""
    /// Test subgroup name ("all" when unfiltered, "" when not applicable).
    public var testSubgroup: String = ""

    /// Creates coordinates; unset fields are empty.
    public init(experiment: String = "", task: String = "", backbone: String = "", dataset: String = "",
                head: String = "", features: String = "", fraction: Double? = nil, seed: Int? = nil,
                shots: Int? = nil, trainSubgroup: String = "", testSubgroup: String = "") {
        self.shots = shots
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
        // Absent unless set, so the keys of stages without shots are those of earlier versions.
        if let shots { fields["shots"] = .integer(shots) }
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
/// (files enter as content digests) and its inputs, each by its key or, where the stage reads
/// only one facet of an input's content (`inputFacets`) and that facet's digest is known
/// (`inputFacetDigests`), by that digest. Names (backbone "dinov2-base") enter only stages that
/// record results, through `coordinates`, so renaming a backbone re-records cheap leaf stages
/// but never recomputes embeddings.
///
/// A *volatile* stage reads data outside the cache (a dataset's label files and images), so only
/// running it tells what it produces: it runs on every plan and run, its artifact is addressed
/// by the digest of what it produced, and the stages that read it are keyed by that digest
/// (Shake's early cutoff): moving a dataset or editing a column no stage reads changes no key.
public struct Stage: Sendable, Hashable, Codable {
    /// Content address.
    public var key: StageKey
    /// Kind.
    public var kind: StageKind
    /// Version of the code that runs this kind; bump it to invalidate old artifacts.
    public var codeVersion: Int
    /// Canonical parameters (each kind's shape is beside the kind's definition).
    public var parameters: ParameterValue
    /// Input stages by role (`"embed"`, `"split"`, `"bootstrap.male.female"`, ...).
    public var inputs: [String: StageKey]
    /// Threads it uses.
    public var threads: ThreadNeed
    /// Results coordinates of the rows it records (`nil` for stages that record none).
    public var coordinates: StageCoordinates?
    /// A short human description, e.g. `embed dinov2-base × chexpert`.
    public var label: String
    /// Whether it reads data outside the cache (see the type's documentation).
    public var isVolatile: Bool
    /// Inputs read through one facet of their content, by role (`"manifest": "images"`).
    public var inputFacets: [String: String]
    /// The digests of those facets, once the volatile inputs have run (they replace the input's
    /// key in the key material).
    public var inputFacetDigests: [String: String]
    /// Facts of the moment that do not enter the key: where a dataset's images are now
    /// (`manifest.root`), which a moved dataset changes without changing any content.
    public var hints: [String: ParameterValue]

    /// Creates a stage and computes its key.
    public init(kind: StageKind, codeVersion: Int, parameters: ParameterValue, inputs: [String: StageKey] = [:],
                threads: ThreadNeed = .count(1), coordinates: StageCoordinates? = nil, label: String,
                isVolatile: Bool = false, inputFacets: [String: String] = [:]) {
        self.kind = kind
        self.codeVersion = codeVersion
        self.parameters = parameters
        self.inputs = inputs
        self.threads = threads
        self.coordinates = coordinates
        self.label = label
        self.isVolatile = isVolatile
        self.inputFacets = inputFacets
        self.inputFacetDigests = [:]
        self.hints = [:]
        self.key = StageKey("")
        self.key = computedKey
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
        self.isVolatile = false
        self.inputFacets = [:]
        self.inputFacetDigests = [:]
        self.hints = [:]
    }

    private enum CodingKeys: String, CodingKey {
        case key, kind, codeVersion, parameters, inputs, threads, coordinates, label
        case isVolatile, inputFacets, inputFacetDigests, hints
    }

    /// Decodes a descriptor; the fields added with volatile stages default for older ones.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = try container.decode(StageKey.self, forKey: .key)
        kind = try container.decode(StageKind.self, forKey: .kind)
        codeVersion = try container.decode(Int.self, forKey: .codeVersion)
        parameters = try container.decode(ParameterValue.self, forKey: .parameters)
        inputs = try container.decode([String: StageKey].self, forKey: .inputs)
        threads = try container.decode(ThreadNeed.self, forKey: .threads)
        coordinates = try container.decodeIfPresent(StageCoordinates.self, forKey: .coordinates)
        label = try container.decode(String.self, forKey: .label)
        isVolatile = try container.decodeIfPresent(Bool.self, forKey: .isVolatile) ?? false
        inputFacets = try container.decodeIfPresent([String: String].self, forKey: .inputFacets) ?? [:]
        inputFacetDigests = try container.decodeIfPresent([String: String].self, forKey: .inputFacetDigests) ?? [:]
        hints = try container.decodeIfPresent([String: ParameterValue].self, forKey: .hints) ?? [:]
    }

    /// The key its content hashes to: SHA-256 of the canonical JSON of kind, code version,
    /// parameters, inputs (a facet digest in place of an input key where known) and coordinates.
    /// Stages without facets hash exactly as before facets existed.
    public var computedKey: StageKey {
        var inputMaterial: [String: ParameterValue] = [:]
        for (role, key) in inputs {
            if let digest = inputFacetDigests[role], let facet = inputFacets[role] {
                inputMaterial[role] = .string("\(facet):\(digest)")
            } else {
                inputMaterial[role] = .string(key.rawValue)
            }
        }
        var material: [String: ParameterValue] = [
            "kind": .string(kind.rawValue),
            "version": .integer(codeVersion),
            "parameters": parameters,
            "inputs": .object(inputMaterial),
        ]
        if let coordinates { material["coordinates"] = coordinates.parameterValue }
        return StageKey(sha256Hex(Data(ParameterValue.object(material).canonicalJSON.utf8)))
    }

    /// Whether `key` matches the key its content hashes to (false for tampered descriptors).
    /// A volatile stage's key is the digest of what it produced, so it is not checked here.
    public var hasConsistentKey: Bool {
        isVolatile || key == computedKey
    }
}
