import Foundation

/// Why a dataset could not be read, generated or turned into a manifest.
///
/// Every case names the file and, where there is one, the line (1-based, counting the header
/// as line 1) and the column, says what is wrong and what to do about it.
public enum DatasetError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// A file the adapter needs does not exist.
    case fileNotFound(path: String, hint: String)
    /// A file exists but could not be read.
    case unreadable(path: String, reason: String)
    /// A file could not be written.
    case writeFailed(path: String, reason: String)
    /// The CSV structure is broken (unterminated quote, wrong number of fields, no header).
    case malformedCSV(file: String, line: Int, reason: String)
    /// A column the adapter needs is not in the header.
    case missingColumn(file: String, column: String, available: [String])
    /// A cell holds a value the adapter cannot interpret.
    case badValue(file: String, line: Int, column: String, value: String, expected: String)
    /// Two samples have the same id.
    case duplicateSampleID(file: String, id: String)
    /// A sample carries a label value its schema does not allow.
    case invalidLabelValue(file: String, sampleID: String, label: String, value: String, allowed: String)
    /// The source yields no samples at all (after filters).
    case empty(file: String, reason: String)
    /// An adapter or generator option is out of range.
    case invalidOption(name: String, value: String, reason: String)
    /// Images the label file lists are not under the image root (reported all at once, only
    /// when an adapter is asked to check its images).
    case missingImages(root: String, labelFile: String, missing: [String], total: Int)
    /// A JSON annotation file does not have the structure the adapter reads; `key` is the
    /// path to the offending value (`R3["17"][2].x`).
    case malformedJSON(file: String, key: String, reason: String)
    /// A sample's segmentation masks do not fit the manifest's classes.
    case invalidMasks(file: String, sampleID: String, reason: String)

    /// A message naming the file, the place in it, the problem and the remedy.
    public var description: String {
        switch self {
        case .fileNotFound(let path, let hint):
            "\(path): file not found. \(hint)"
        case .unreadable(let path, let reason):
            "\(path): cannot read the file: \(reason). Check that it exists and is readable."
        case .writeFailed(let path, let reason):
            "\(path): cannot write the file: \(reason). Check the directory exists and has free space."
        case .malformedCSV(let file, let line, let reason):
            "\(file), line \(line): malformed CSV: \(reason). Fix the file (RFC 4180: comma-separated, fields with commas, quotes or line breaks in double quotes, quotes doubled)."
        case .missingColumn(let file, let column, let available):
            "\(file): no column \"\(column)\" in the header"
                + (closestName(to: column, in: available).map { " (did you mean \"\($0)\"?)" } ?? "")
                + ". The header's columns: \(available.map { "\"\($0)\"" }.joined(separator: ", ")). Use a file with that column, or name the right column in the dataset options."
        case .badValue(let file, let line, let column, let value, let expected):
            "\(file), line \(line), column \"\(column)\": cannot use \"\(value)\": expected \(expected). Correct the cell or exclude the row."
        case .duplicateSampleID(let file, let id):
            "\(file): sample id \"\(id)\" appears more than once. Sample ids (usually image paths) must be unique; remove the duplicate row."
        case .invalidLabelValue(let file, let sampleID, let label, let value, let allowed):
            "\(file), sample \"\(sampleID)\": label \"\(label)\" has value \"\(value)\"; allowed: \(allowed). Correct the value or the label schema."
        case .empty(let file, let reason):
            "\(file): no samples: \(reason). Check the file and the dataset filters."
        case .invalidOption(let name, let value, let reason):
            "option \(name) = \(value): \(reason)."
        case .missingImages(let root, let labelFile, let missing, let total):
            "\(root): \(missing.count) of the \(total) images listed in \(labelFile) are not under the image root "
                + "(looked in it and in the folders up to two levels below it): "
                + missing.prefix(20).joined(separator: ", ") + (missing.count > 20 ? ", … (\(missing.count - 20) more)" : "")
                + ". Point root at the folder holding the images (or their images_NNN/ folders), or unpack the missing archives."
        case .malformedJSON(let file, let key, let reason):
            "\(file), at \(key.isEmpty ? "the top level" : key): \(reason). Use the annotation file as its publishers distribute it."
        case .invalidMasks(let file, let sampleID, let reason):
            "\(file), sample \"\(sampleID)\": \(reason). Give every sample one mask per segmentation class (an empty mask where the class is absent)."
        }
    }

    /// Same as `description`, for `LocalizedError` consumers.
    public var errorDescription: String? { description }
}
