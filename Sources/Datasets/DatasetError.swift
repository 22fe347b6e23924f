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
    /// Two rows list the same sample (the same image in a CheXpert-style file), with where each is.
    case listedTwice(id: String, first: SourceLine, second: SourceLine)
    /// One image file is listed under two sample ids of different patients: a patient-disjoint
    /// split could put it in training and test at once.
    case imageOfTwoPatients(imagePath: String, first: String, second: String)
    /// An image path in a label file leads outside the dataset's root (`../`, an absolute path)
    /// and the dataset does not allow it.
    case imageOutsideRoot(path: String, root: String, location: String, reason: String)
    /// An image inside the root is a symbolic link (or under one) to a file outside it, and the
    /// dataset does not allow following it.
    case symlinkOutsideRoot(path: String, target: String, root: String)
    /// A text file holds bytes that are not UTF-8 (and no other encoding was declared).
    case notUTF8(file: String, line: Int, column: Int, byteOffset: Int, bytes: [UInt8])
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
        case .listedTwice(let id, let first, let second):
            "\(second): \"\(id)\" is listed again (first at \(first.file == second.file ? "line \(first.line)" : first.description)). "
                + "Each image may appear once: a repeated row counts the image twice in training and scoring; remove one of the rows."
        case .imageOfTwoPatients(let imagePath, let first, let second):
            "image \"\(imagePath)\" is listed for two patients: \(first) and \(second). A patient-disjoint split could put "
                + "the same image in training and test; correct the patient of one row, or remove it."
        case .imageOutsideRoot(let path, let root, let location, let reason):
            "\(location): image path \"\(path)\" \(reason), outside the dataset root \(root). Label files may only name images "
                + "inside the root, so that a shared spec or CSV cannot make xrbench read other files. Correct the path, or, if the "
                + "images really live elsewhere, set `allow_outside_root: true` in the dataset's options."
        case .symlinkOutsideRoot(let path, let target, let root):
            "\(path): the image is a symbolic link (or under one) to \(target), outside the dataset root \(root). "
                + "Copy the images into the root, or, if linking them in is intended, set `follow_symlinks: true` in the dataset's options."
        case .notUTF8(let file, let line, let column, let byteOffset, let bytes):
            "\(file), line \(line), column \(column) (byte \(byteOffset) of the file): the bytes "
                + bytes.map { String(format: "%02X", $0) }.joined(separator: " ")
                + " are not UTF-8 text, so ids and values would not be what the file says. Convert the file to UTF-8 "
                + "(e.g. iconv -f latin1 -t utf-8), or, for a csv dataset, declare its encoding with `encoding: latin-1` or `encoding: windows-1252`."
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
