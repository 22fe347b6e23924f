import Foundation

/// Errors of the engine glue, each naming the stage or file involved and what to do.
public enum EngineError: Error, Sendable, CustomStringConvertible, LocalizedError, Equatable {
    /// No runner is registered for a stage kind.
    case noRunner(kind: String, stage: String)
    /// A runner asked for an input role the stage does not have.
    case missingInput(stage: String, role: String, available: [String])
    /// An input artifact is not in the cache (when running one stage on its own).
    case inputNotCached(stage: String, role: String, key: String)
    /// A stage's parameters do not decode as the runner expects.
    case badParameters(stage: String, type: String, reason: String)
    /// An artifact's `outputs.json` is missing or malformed.
    case unreadableOutputs(path: String, reason: String)
    /// `--executor` names no registered executor.
    case unknownExecutor(name: String, known: [String])
    /// `--detach` with an executor that computes stages in this process.
    case cannotDetach(executor: String)
    /// The `--profile` file cannot be read.
    case unreadableProfile(path: String, reason: String)
    /// The embeddings to compute would not fit on the cache's file system.
    case notEnoughSpace(folder: String, needed: Int64, free: Int64, stages: [String])

    /// What went wrong and what to do.
    public var description: String {
        switch self {
        case .noRunner(let kind, let stage):
            return "no runner is registered for stage kind \"\(kind)\" (stage \(stage)); this build of xrbench cannot compute it"
        case .missingInput(let stage, let role, let available):
            return "stage \(stage) has no input \"\(role)\" (it has: \(available.joined(separator: ", ")))"
        case .inputNotCached(let stage, let role, let key):
            return "stage \(stage): input \"\(role)\" (\(key.prefix(12))) is not in the cache; run it first (`xrbench stage run \(key.prefix(12))`)"
        case .badParameters(let stage, let type, let reason):
            return "stage \(stage): parameters do not decode as \(type): \(reason)"
        case .unreadableOutputs(let path, let reason):
            return "\(path): cannot read the stage outputs: \(reason)"
        case .unknownExecutor(let name, let known):
            return "unknown executor \"\(name)\"; this build has \(known.joined(separator: ", "))"
        case .cannotDetach(let executor):
            return "--detach needs an executor that runs stages elsewhere (`--executor slurm`); \(executor) computes them in this process"
        case .unreadableProfile(let path, let reason):
            return "cannot read the executor profile \(path): \(reason)"
        case .notEnoughSpace(let folder, let needed, let free, let stages):
            let size = { ByteCountFormatter.string(fromByteCount: $0, countStyle: .file) }
            return "the embeddings to compute need \(size(needed)) in \(folder), which has \(size(free)) free:\n  "
                + stages.joined(separator: "\n  ") + "\nfree space there, or point --cache at a larger file system"
        }
    }

    /// Same as `description`.
    public var errorDescription: String? { description }
}
