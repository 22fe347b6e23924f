import Foundation
import Logging
import Pipeline
import Results

/// Computes one kind of stage. Runners are plugged into a `StageRunnerRegistry` by kind.
///
/// A runner reads its parameters (`context.parameters(ProbeParameters.self)`) and its inputs'
/// artifact folders (`context.input("embed").directory`), writes its own files into
/// `context.outputDirectory`, and returns the rows to record. The engine then saves those rows
/// as `outputs.json` beside the files, commits the folder to the cache, and records the rows in
/// the results store; a runner never touches the cache or the store itself.
///
/// Runners must be deterministic: same parameters and inputs, same files and rows.
public protocol StageRunner: Sendable {
    /// The stage kind this runner computes.
    var kind: StageKind { get }
    /// The version of this runner's code: bump it when results change, so old artifacts are
    /// not reused (it enters every stage key of the kind).
    var codeVersion: Int { get }
    /// Threads a stage of this kind uses (default 1; embedding extraction: `.all`).
    var threadNeed: ThreadNeed { get }
    /// Whether a stage holds a lock while it runs, so that a second process needing it waits
    /// and then finds it done (default); a runner that shares its work out in locked parts
    /// itself (the embedding shards) says no, and several processes run it at once.
    var locksWholeStage: Bool { get }
    /// Computes the stage.
    /// - Throws: any error, which fails this stage only (everything not depending on it still
    ///   runs); `CancellationError` (through `context.checkCancellation()`) when interrupted.
    func run(_ context: StageContext) throws -> StageOutputs
}

extension StageRunner {
    /// Version 1.
    public var codeVersion: Int { 1 }
    /// One thread.
    public var threadNeed: ThreadNeed { .count(1) }
    /// Locked while it runs.
    public var locksWholeStage: Bool { true }
}

/// A committed input artifact.
public struct StageInput: Sendable {
    /// The input stage's key.
    public var key: StageKey
    /// Its kind.
    public var kind: StageKind
    /// Its artifact folder (read-only).
    public var directory: URL

    /// The rows the input stage recorded (its `outputs.json`).
    /// - Throws: `EngineError.unreadableOutputs` when the file is missing or malformed.
    public func outputs() throws -> StageOutputs {
        try StageOutputsFile.read(from: directory)
    }
}

/// Everything a runner needs to compute one stage.
public struct StageContext: Sendable {
    /// The stage.
    public var stage: Stage
    /// The (temporary) folder to write the artifact's files into.
    public var outputDirectory: URL
    /// Committed inputs by role (`"manifest"`, `"embed"`, `"split"`, `"bootstrap.male.female"`, ...).
    public var inputs: [String: StageInput]
    /// Threads the stage may use.
    public var threads: Int
    /// Set when the run is interrupted.
    public var cancellation: CancellationFlag
    /// Where to log.
    public var logger: Logger
    /// Everything this build can run: runners look up backbone families, dataset adapters,
    /// heads and metrics here by the names their parameters carry.
    public var registry: Registry
    /// The cache folder (shared stores live in it: image digests, the embedding store).
    public var cacheDirectory: URL

    /// The stage's parameters decoded as `type` (e.g. `EmbedParameters.self`).
    /// - Throws: `EngineError.badParameters` when they do not have that shape.
    public func parameters<Parameters: Decodable>(_ type: Parameters.Type) throws -> Parameters {
        do {
            return try stage.parameters.decode(type)
        } catch {
            throw EngineError.badParameters(stage: stage.label, type: "\(type)", reason: "\(error)")
        }
    }

    /// The input with `role`.
    /// - Throws: `EngineError.missingInput` when the stage has no such input.
    public func input(_ role: String) throws -> StageInput {
        guard let input = inputs[role] else {
            throw EngineError.missingInput(stage: stage.label, role: role, available: inputs.keys.sorted())
        }
        return input
    }

    /// Throws `CancellationError` when the run was interrupted; call it in long loops.
    public func checkCancellation() throws {
        try cancellation.check()
    }
}

/// The runners the engine knows, by stage kind.
public struct StageRunnerRegistry: Sendable {
    private var runners: [StageKind: any StageRunner] = [:]

    /// Creates a registry holding `runners` (a later runner of the same kind replaces an earlier one).
    public init(_ runners: [any StageRunner] = []) {
        for runner in runners { register(runner) }
    }

    /// Adds or replaces the runner for `runner.kind`.
    public mutating func register(_ runner: any StageRunner) {
        runners[runner.kind] = runner
    }

    /// Removes the runner of `kind`, if one is registered.
    public mutating func remove(_ kind: StageKind) {
        runners[kind] = nil
    }

    /// The runner for `kind`, if one is registered.
    public func runner(for kind: StageKind) -> (any StageRunner)? {
        runners[kind]
    }

    /// Registered kinds, sorted.
    public var kinds: [StageKind] { runners.keys.sorted() }

    /// Code versions and thread needs per kind, for the compiler.
    public var compileOptions: CompileOptions {
        CompileOptions(codeVersions: runners.mapValues(\.codeVersion), threadNeeds: runners.mapValues(\.threadNeed))
    }
}

/// Reads and writes the `outputs.json` file saved in every artifact.
enum StageOutputsFile {
    static let name = "outputs.json"

    static func write(_ outputs: StageOutputs, to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(outputs).write(to: directory.appendingPathComponent(name))
    }

    static func read(from directory: URL) throws -> StageOutputs {
        let url = directory.appendingPathComponent(name)
        do {
            return try JSONDecoder().decode(StageOutputs.self, from: Data(contentsOf: url))
        } catch {
            throw EngineError.unreadableOutputs(path: url.path, reason: "\(error)")
        }
    }
}

extension StageContext {
    /// The results coordinates of this stage for one label ("" for a whole-task value such as a
    /// macro mean); stages without coordinates get empty ones.
    public func resultCoordinates(label: String) -> ResultCoordinates {
        let coordinates = stage.coordinates ?? StageCoordinates()
        return ResultCoordinates(
            experiment: coordinates.experiment, task: coordinates.task, backbone: coordinates.backbone,
            dataset: coordinates.dataset, head: coordinates.head, features: coordinates.features,
            fraction: coordinates.fraction, seed: coordinates.seed, shots: coordinates.shots, trainSubgroup: coordinates.trainSubgroup,
            testSubgroup: coordinates.testSubgroup, label: label)
    }
}
