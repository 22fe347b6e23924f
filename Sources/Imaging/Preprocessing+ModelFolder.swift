import Foundation

/// Why a model folder's `preprocessor_config.json` could not supply mean/std.
public enum PreprocessorConfigError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// The file is missing or unreadable.
    case unreadable(path: String, reason: String)
    /// The file is not a JSON object.
    case invalidJSON(path: String, reason: String)
    /// A required key is absent.
    case missingKey(path: String, key: String)
    /// A key holds something other than one or three positive finite numbers.
    case invalidValue(path: String, key: String, reason: String)

    /// Names the file, the key and the remedy.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read the preprocessor config (\(reason)). Add the model's preprocessor_config.json "
                + "or drop the request to take mean/std from the model folder."
        case .invalidJSON(let path, let reason):
            return "\(path): not a JSON object (\(reason)). Restore the file from the model's original distribution."
        case .missingKey(let path, let key):
            return "\(path): no \"\(key)\" key. Add it (a list of 3 numbers) or set mean/std in the spec instead."
        case .invalidValue(let path, let key, let reason):
            return "\(path): \"\(key)\" \(reason). It must be one number or a list of 3 numbers."
        }
    }

    /// Same as `description`.
    public var errorDescription: String? { description }
}

extension Preprocessing {
    /// The name of the Hugging Face image-processor file inside a model folder.
    public static let preprocessorConfigFileName = "preprocessor_config.json"

    /// This preprocessing with mean/std taken from a model folder's `preprocessor_config.json`
    /// (`image_mean`, `image_std`; `"do_normalize": false` turns normalisation off).
    /// Only mean/std are taken: resizing stays as configured here, because the benchmark
    /// applies one resize policy to every backbone.
    ///
    /// - Parameter folder: a Hugging Face model folder.
    /// - Throws: `PreprocessorConfigError` naming the file and key.
    public func loadingMeanStd(fromModelFolder folder: URL) throws -> Preprocessing {
        let url = folder.appendingPathComponent(Self.preprocessorConfigFileName)
        let path = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw PreprocessorConfigError.unreadable(path: path, reason: error.localizedDescription)
        }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw PreprocessorConfigError.invalidJSON(path: path, reason: "top level is not an object")
            }
            object = parsed
        } catch let error as PreprocessorConfigError {
            throw error
        } catch {
            throw PreprocessorConfigError.invalidJSON(path: path, reason: error.localizedDescription)
        }

        var result = self
        if let normalise = object["do_normalize"] as? Bool, !normalise {
            result.mean = nil
            result.std = nil
            return result
        }
        result.mean = try channelValues(object, key: "image_mean", path: path, mustBePositive: false)
        result.std = try channelValues(object, key: "image_std", path: path, mustBePositive: true)
        return result
    }
}

private func channelValues(_ object: [String: Any], key: String, path: String, mustBePositive: Bool) throws -> [Float] {
    guard let raw = object[key] else { throw PreprocessorConfigError.missingKey(path: path, key: key) }
    let numbers: [Any] = (raw as? [Any]) ?? [raw]
    var values: [Float] = []
    for number in numbers {
        guard let value = (number as? NSNumber)?.doubleValue, value.isFinite else {
            throw PreprocessorConfigError.invalidValue(path: path, key: key, reason: "holds \(number), not a number")
        }
        if mustBePositive && value <= 0 {
            throw PreprocessorConfigError.invalidValue(path: path, key: key, reason: "holds \(value), not a positive number")
        }
        values.append(Float(value))
    }
    guard values.count == 1 || values.count == 3 else {
        throw PreprocessorConfigError.invalidValue(path: path, key: key, reason: "has \(values.count) values")
    }
    return values
}
