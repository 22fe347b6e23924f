import Foundation

/// A file named in dataset options: an absolute path as is, anything else relative to `root`.
func resolve(_ path: String, against root: URL) -> URL {
    path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path)
}

/// Where a sample was read from: a label file and the line its row starts on (1-based, the
/// header counting as line 1).
public struct SourceLine: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file's path.
    public var file: String
    /// The line, from 1.
    public var line: Int

    /// Creates a location.
    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    /// `file, line N`, as every dataset error writes it.
    public var description: String { "\(file), line \(line)" }
}

/// Something about a dataset's samples that is recorded but does not stop the dataset from being
/// used: the rows of one patient disagreeing on sex, ages in one patient's rows further apart
/// than the tolerance, one image listed under two ids of the same patient (see
/// `ManifestConsistency`). The manifest stage records them in the results database
/// (`sample_issue`); `xrbench dataset` prints them.
public struct DatasetIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The sample the issue is about (the row that disagrees), if one.
    public var sampleID: String?
    /// The patient it is about, if one.
    public var patientID: String?
    /// The file of the row at fault (the dataset's source when unknown).
    public var file: String
    /// The line of that row, when known.
    public var line: Int?
    /// What is wrong, naming the other rows involved.
    public var message: String

    /// Creates an issue.
    public init(sampleID: String? = nil, patientID: String? = nil, file: String, line: Int? = nil, message: String) {
        self.sampleID = sampleID
        self.patientID = patientID
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file, line N: message`.
    public var description: String {
        (line.map { "\(file), line \($0)" } ?? file) + ": " + message
    }
}
