import Foundation

/// Errors from the results database, each naming the file, the problem and what to do.
public enum ResultsError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The folder for the database could not be created.
    case cannotCreateDirectory(path: String, reason: String)
    /// SQLite could not open (or migrate) the database file.
    case cannotOpen(path: String, reason: String)
    /// A read-only open found no database at the path.
    case databaseNotFound(path: String)
    /// A write was rejected: a schema rule failed or SQLite reported an error.
    case writeFailed(path: String, operation: String, reason: String)
    /// A read failed.
    case readFailed(path: String, operation: String, reason: String)
    /// No run has this id.
    case unknownRun(id: Int64, path: String)
    /// `query` refused a statement that would modify the database.
    case writeRefused(statement: String)
    /// `query` was given SQL that SQLite rejects.
    case invalidQuery(sql: String, reason: String)
    /// A table rendering input is not of the expected shape.
    case invalidTableInput(reason: String)

    /// A message that names the file or statement, the problem and what to do.
    public var description: String {
        switch self {
        case let .cannotCreateDirectory(path, reason):
            return "cannot create the folder for the results database \(path): \(reason). "
                + "Check the path and its permissions, or pass another database path."
        case let .cannotOpen(path, reason):
            if reason.contains("locked") || reason.contains("busy") {
                return "cannot open the results database \(path): \(reason). Another process held it longer "
                    + "than the busy timeout; wait for it to finish, or raise the timeout."
            }
            return "cannot open the results database \(path): \(reason). "
                + "If the file is not an xrbench database (or is corrupt), move it away and run again."
        case let .databaseNotFound(path):
            return "no results database at \(path). Run `xrbench run SPEC` first, or pass the database path."
        case let .writeFailed(path, operation, reason):
            return "results database \(path): \(operation) failed: \(reason)."
        case let .readFailed(path, operation, reason):
            return "results database \(path): \(operation) failed: \(reason)."
        case let .unknownRun(id, path):
            return "results database \(path) has no run with id \(id). `xrbench runs` lists the runs."
        case let .writeRefused(statement):
            return "xrbench query is read-only: `\(Self.abbreviated(statement))` would modify the database; "
                + "use SELECT (or a read-only PRAGMA) to read it."
        case let .invalidQuery(sql, reason):
            return "invalid query `\(Self.abbreviated(sql))`: \(reason). "
                + "docs/RESULTS.md lists the tables and columns."
        case let .invalidTableInput(reason):
            return "cannot render the table: \(reason)."
        }
    }

    /// The same message, for `LocalizedError`.
    public var errorDescription: String? { description }

    /// The statement on one line, cut to a readable length.
    static func abbreviated(_ sql: String) -> String {
        let oneLine = sql.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return oneLine.count > 120 ? String(oneLine.prefix(117)) + "..." : oneLine
    }
}
