import Dispatch
import Foundation
import Synchronization

/// One command to run: a program name (looked up on the search path) and its arguments.
public struct CommandInvocation: Sendable, Hashable, CustomStringConvertible {
    /// The program, e.g. `sbatch`; a name without `/` is looked up on the runner's search path.
    public var executable: String
    public var arguments: [String]
    /// Text fed to the program's standard input, or `nil` for an empty input.
    public var standardInput: String?

    public init(_ executable: String, _ arguments: [String], standardInput: String? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.standardInput = standardInput
    }

    /// The command line as a shell would show it (arguments quoted where needed).
    public var description: String {
        ([executable] + arguments).map(shellQuoted).joined(separator: " ")
    }
}

/// What a finished command printed and how it exited.
public struct CommandOutput: Sendable, Hashable {
    /// The exit status; 128 + the signal number when a signal ended the program.
    public var status: Int32
    public var standardOutput: String
    public var standardError: String

    public init(status: Int32, standardOutput: String, standardError: String) {
        self.status = status
        self.standardOutput = standardOutput
        self.standardError = standardError
    }
}

/// Runs commands. `SlurmClient` talks to Slurm only through this, so parsing can be tested on
/// captured outputs while the integration tests run the real commands.
public protocol CommandRunner: Sendable {
    /// Runs `invocation` to completion.
    /// - Throws: `SlurmError.commandNotFound`, `.launchFailed` or `.commandTimedOut`; a non-zero
    ///   exit status is not an error here (the caller reads it).
    func run(_ invocation: CommandInvocation) async throws -> CommandOutput
}

/// Runs commands as child processes, with a time limit.
///
/// Output goes to temporary files rather than pipes, so a command that prints a lot can never
/// block on a full pipe while the runner waits for it to exit.
public struct ProcessCommandRunner: CommandRunner {
    /// Directories searched for a program name without `/`, in order.
    public var searchPath: [String]
    /// A command still running after this long is terminated and reported as timed out.
    public var timeout: Duration

    /// - Parameters:
    ///   - searchPath: defaults to the directories of `PATH`.
    ///   - timeout: Slurm's own client timeout is `MessageTimeout` (10 s by default) per
    ///     message; a minute leaves room for its retries.
    public init(searchPath: [String]? = nil, timeout: Duration = .seconds(60)) {
        self.searchPath = searchPath ?? (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            .split(separator: ":").map(String.init)
        self.timeout = timeout
    }

    /// The full path of `executable`, or `nil` when it is on none of the search path's directories.
    public func locate(_ executable: String) -> URL? {
        if executable.contains("/") {
            return FileManager.default.isExecutableFile(atPath: executable) ? URL(fileURLWithPath: executable) : nil
        }
        for directory in searchPath where !directory.isEmpty {
            let candidate = URL(fileURLWithPath: directory).appendingPathComponent(executable)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    public func run(_ invocation: CommandInvocation) async throws -> CommandOutput {
        guard let executable = locate(invocation.executable) else {
            throw SlurmError.commandNotFound(command: invocation.executable, searchPath: searchPath)
        }
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("xrbench-command-\(UUID().uuidString)", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        } catch {
            throw SlurmError.launchFailed(command: invocation.description, reason: "cannot create \(scratch.path): \(error)")
        }
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outputFile = scratch.appendingPathComponent("stdout")
        let errorFile = scratch.appendingPathComponent("stderr")
        let inputFile = scratch.appendingPathComponent("stdin")

        let process = Process()
        process.executableURL = executable
        process.arguments = invocation.arguments
        do {
            try Data((invocation.standardInput ?? "").utf8).write(to: inputFile)
            for file in [outputFile, errorFile] { try Data().write(to: file) }
            process.standardInput = try FileHandle(forReadingFrom: inputFile)
            process.standardOutput = try FileHandle(forWritingTo: outputFile)
            process.standardError = try FileHandle(forWritingTo: errorFile)
        } catch {
            throw SlurmError.launchFailed(command: invocation.description, reason: "cannot set up its files in \(scratch.path): \(error)")
        }

        let watch = ProcessWatch()
        let limit = timeout
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in
                watch.finish()
                let code = finished.terminationReason == .uncaughtSignal
                    ? 128 + finished.terminationStatus : finished.terminationStatus
                continuation.resume(returning: code)
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: SlurmError.launchFailed(command: invocation.description, reason: "\(error)"))
                return
            }
            watch.start(processIdentifier: process.processIdentifier, limit: limit)
        }
        watch.stopWatching()
        if watch.timedOut {
            throw SlurmError.commandTimedOut(command: invocation.description, after: timeout)
        }
        let standardOutput = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        let standardError = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        return CommandOutput(status: status, standardOutput: standardOutput, standardError: standardError)
    }
}

/// Terminates a child process that outlives its time limit, and never signals a process id
/// after the child has exited (the id could belong to another process by then).
private final class ProcessWatch: Sendable {
    private struct State {
        var finished = false
        var timedOut = false
    }
    private let state = Mutex(State())

    var timedOut: Bool { state.withLock { $0.timedOut } }

    /// Arms the watchdog on a Dispatch timer, not a Swift task: the cooperative pool has as many
    /// threads as cores, and when tests or stages block them all a `Task.sleep` never wakes.
    func start(processIdentifier: Int32, limit: Duration) {
        let (seconds, attoseconds) = limit.components
        let nanoseconds = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) { [self] in
            state.withLock { state in
                guard !state.finished else { return }
                state.timedOut = true
                // SIGKILL: a client command holds nothing worth a clean exit, and a SIGTERM
                // could be ignored (ignored signals are inherited across exec).
                kill(processIdentifier, SIGKILL)
            }
        }
    }

    func finish() {
        state.withLock { $0.finished = true }
    }

    /// The child has been waited for: the watchdog, if it fires later, does nothing.
    func stopWatching() {
        state.withLock { $0.finished = true }
    }
}

/// `text` quoted for a POSIX shell when it contains anything but safe characters.
public func shellQuoted(_ text: String) -> String {
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=/.,:%@+")
    if !text.isEmpty && text.allSatisfy({ safe.contains($0) }) { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
