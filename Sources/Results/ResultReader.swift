import Foundation
import GRDB

/// Read-only access to the results database: ad-hoc queries, run listings, table inputs.
///
/// The connection is opened with `SQLITE_OPEN_READONLY`; `query` additionally refuses any
/// statement SQLite reports as writing, before executing anything.
public final class ResultReader: Sendable {
    /// The database file.
    public let path: URL
    let queue: DatabaseQueue

    /// Opens the database at `path` read-only.
    /// - Throws: `ResultsError.databaseNotFound` when there is no file; `ResultsError.cannotOpen`.
    public init(path: URL = ResultStore.defaultPath) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path.path) else {
            throw ResultsError.databaseNotFound(path: path.path)
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(ResultStore.defaultBusyTimeout)
        configuration.label = "xrbench-results-readonly"
        do {
            queue = try DatabaseQueue(path: path.path, configuration: configuration)
        } catch {
            throw ResultsError.cannotOpen(path: path.path, reason: ResultStore.reason(error))
        }
    }

    func read<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try queue.read(body)
        } catch let error as ResultsError {
            throw error
        } catch {
            throw ResultsError.readFailed(path: path.path, operation: operation, reason: ResultStore.reason(error))
        }
    }
}
