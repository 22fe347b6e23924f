import Foundation
import Tensor

/// Errors of the built-in stage runners, each naming the stage, option or file involved and
/// what to do about it.
public enum RunnerError: Error, Sendable, CustomStringConvertible, LocalizedError, Equatable {
    /// A dataset adapter or backbone kind this build does not know.
    case unknownKind(what: String, kind: String, known: [String])
    /// An option has a value the runner cannot use.
    case badOption(stage: String, option: String, value: String, reason: String)
    /// A precomputed embedding file does not fit the manifest.
    case precomputed(file: String, problem: String)
    /// A task names a label the dataset's manifest does not have, or uses it the wrong way.
    case label(stage: String, label: String, problem: String)
    /// An input artifact is missing a file or does not match another input.
    case artifact(path: String, problem: String)

    /// What went wrong and what to do.
    public var description: String {
        switch self {
        case .unknownKind(let what, let kind, let known):
            return "unknown \(what) \"\(kind)\"; this build knows \(known.joined(separator: ", "))"
        case .badOption(let stage, let option, let value, let reason):
            return "\(stage): option \(option) = \(value): \(reason)"
        case .precomputed(let file, let problem):
            return "\(file): \(problem)"
        case .label(let stage, let label, let problem):
            return "\(stage): label \"\(label)\": \(problem)"
        case .artifact(let path, let problem):
            return "\(path): \(problem); remove the cache entry (or run `xrbench cache gc`) and run again"
        }
    }

    /// Same as `description`.
    public var errorDescription: String? { description }
}

/// Reads and writes the JSON files inside artifacts (sorted keys, so equal content gives equal bytes).
enum ArtifactJSON {
    /// The encoder of artifact JSON: sorted keys, no NaN or infinities.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .throw
        return encoder
    }

    static func write<Value: Encodable>(_ value: Value, to directory: URL, name: String) throws {
        try encoder().encode(value).write(to: directory.appendingPathComponent(name))
    }

    /// Reads `name` in `directory` as `type` through `decode`, which gets the file's bytes
    /// memory-mapped and a function that gives the pages of a byte range back to the kernel
    /// (`MappedFile.release`), so a file read once from front to back need not stay resident.
    static func readMapped<Value: Decodable>(_ type: Value.Type, from directory: URL, name: String,
                                             decode: (Data, (Range<Int>) -> Void) throws -> Value) throws -> Value {
        let url = directory.appendingPathComponent(name)
        // A file that cannot be mapped gets the error (or the value) of the plain read.
        guard let file = try? MappedFile(url: url) else { return try read(type, from: directory, name: name) }
        do {
            return try file.withData { try decode($0, file.release) }
        } catch {
            throw RunnerError.artifact(path: url.path, problem: "is not a valid \(type) file (\(error))")
        }
    }

    /// Reads `name` in `directory` as `type`; `decode` (by default `JSONDecoder`'s) turns the
    /// file's bytes, memory-mapped, into the value.
    static func read<Value: Decodable>(_ type: Value.Type, from directory: URL, name: String,
                                       decode: (Data) throws -> Value = { try JSONDecoder().decode(Value.self, from: $0) }) throws -> Value {
        let url = directory.appendingPathComponent(name)
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw RunnerError.artifact(path: url.path, problem: "cannot be read (\(error.localizedDescription))")
        }
        do {
            return try decode(data)
        } catch {
            throw RunnerError.artifact(path: url.path, problem: "is not a valid \(type) file (\(error))")
        }
    }
}
