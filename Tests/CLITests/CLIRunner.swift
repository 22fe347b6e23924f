import Foundation
import Testing

/// What one run of the `xrbench` binary printed and how it ended.
struct CLIResult {
    /// The exit status (a signal shows as 128 + signal number).
    var status: Int32
    /// Whether the process ended by a signal (a crash) rather than by exiting.
    var crashed: Bool
    /// Standard output.
    var output: String
    /// Standard error.
    var errorOutput: String
}

/// Finds and runs the built `xrbench` executable.
enum CLI {
    /// The built binary: `XRBENCH_BINARY` when set; else `xrbench` beside the test bundle
    /// (`.build/<triple>/debug/`), else `.build/debug/xrbench` in the package this file is in.
    static func binary(filePath: String = #filePath) throws -> URL {
        var candidates: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["XRBENCH_BINARY"] {
            candidates.append(URL(fileURLWithPath: explicit))
        }
        var bundleFolder = Bundle.main.bundleURL
        for _ in 0..<3 {
            candidates.append(bundleFolder.appendingPathComponent("xrbench"))
            bundleFolder.deleteLastPathComponent()
        }
        let packageRoot = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/xrbench"))
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
        }
        throw CLITestError("the xrbench binary is not built (looked at \(candidates.map(\.path).joined(separator: ", "))); "
            + "run `swift build` first or set XRBENCH_BINARY")
    }

    /// Runs `xrbench arguments` in `directory` and waits for it.
    static func run(_ arguments: [String], in directory: URL) throws -> CLIResult {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        // Output goes to files: a pipe that fills up would block the child.
        let outputURL = directory.appendingPathComponent(".stdout-\(UUID().uuidString)")
        let errorURL = directory.appendingPathComponent(".stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outputURL)
            try? FileManager.default.removeItem(at: errorURL)
        }
        let output = try FileHandle(forWritingTo: outputURL)
        let errors = try FileHandle(forWritingTo: errorURL)
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        try output.close()
        try errors.close()
        return CLIResult(status: process.terminationStatus, crashed: process.terminationReason == .uncaughtSignal,
                         output: try String(contentsOf: outputURL, encoding: .utf8),
                         errorOutput: try String(contentsOf: errorURL, encoding: .utf8))
    }
}

extension CLI {
    /// Starts `xrbench arguments` in `directory` without waiting; output is discarded.
    static func start(_ arguments: [String], in directory: URL) throws -> Process {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}

/// A test setup failure with a message.
struct CLITestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
