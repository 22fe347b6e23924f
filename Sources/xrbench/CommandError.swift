import Foundation

/// A user-facing failure of a command: one line that names the file or option and what to do.
struct CommandError: Error, CustomStringConvertible, LocalizedError {
    let description: String
    init(_ description: String) { self.description = description }
    var errorDescription: String? { description }
}
