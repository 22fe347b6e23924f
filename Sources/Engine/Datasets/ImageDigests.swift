import Dispatch
import Foundation
import Imaging
import Pipeline
import Synchronization

/// Images a dataset names that cannot be read, all of them at once.
public struct UnreadableImagesError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// Each image's path and what is wrong with it, in manifest order.
    public var images: [(path: String, problem: String)]

    /// Every image (the first 20, then a count), and what to do.
    public var description: String {
        unreadableFilesMessage(images, noun: "image", advice: "fix or remove them, or set `on_error: skip` on the dataset to leave them out (they are then recorded in sample_issue)")
    }

    /// Same as `description`.
    public var errorDescription: String? { description }
}

/// "N <noun>s cannot be read:", the first 20 files with their problems, a count of the rest,
/// and `advice` (the message of `UnreadableImagesError` and `UnreadableMasksError`).
func unreadableFilesMessage(_ files: [(path: String, problem: String)], noun: String, advice: String) -> String {
    var lines = ["\(files.count) \(noun)\(files.count == 1 ? "" : "s") cannot be read:"]
    lines += files.prefix(20).map { "  \($0.path): \($0.problem)" }
    if files.count > 20 { lines.append("  … and \(files.count - 20) more") }
    lines.append(advice)
    return lines.joined(separator: "\n")
}

/// Content digests of a dataset's images and whether they decode, memoised in the cache.
///
/// Digests are SHA-256 of the file, memoised by (path, size, modification time) in
/// `image-digests.json`; whether an image decodes is a function of its content, memoised by
/// digest in `image-checks.json`. Both memos are saved every few seconds while work goes on,
/// so a killed run keeps what it hashed.
struct ImageDigests {
    let digester: FileDigester
    let checksURL: URL

    /// - Parameter memoisingPaths: keep digests by path in `image-digests.json`; false for files
    ///   no later run will find at the same path (a generated dataset, written into its
    ///   artifact's temporary folder), whose entries would only make the memo grow.
    init(cacheDirectory: URL, memoisingPaths: Bool = true) {
        digester = FileDigester(memoURL: memoisingPaths ? cacheDirectory.appendingPathComponent("image-digests.json") : nil)
        checksURL = cacheDirectory.appendingPathComponent("image-checks.json")
    }

    /// Each image's digest or why it cannot be read.
    func digestsOrProblems(of urls: [URL], threads: Int, cancellation: CancellationFlag) throws -> [Result<String, FileDigestError>] {
        try digestsOrProblems(count: urls.count, threads: threads, cancellation: cancellation) { urls[$0].path }
    }

    /// Each file's digest or why it cannot be read, for files `0..<count` whose paths `path`
    /// makes when each is hashed (so no list of every path or URL is held while hashing).
    func digestsOrProblems(count: Int, threads: Int, cancellation: CancellationFlag,
                           path: @escaping @Sendable (Int) -> String) throws -> [Result<String, FileDigestError>] {
        let results = try parallelMap(count, threads: threads, cancellation: cancellation, save: { try? digester.save() }) { index in
            let file = path(index)
            return Result { () throws(FileDigestError) -> String in
                do {
                    return try digester.digest(ofFile: file)
                } catch let error as FileDigestError {
                    throw error
                } catch {
                    throw FileDigestError(path: file, problem: "\(error)")
                }
            }
        }
        try? digester.save()
        return results
    }

    /// For each image, nil when it decodes, else why not; decoding only images whose digest
    /// has no verdict yet. `decode` and `memoKind` read other files the same way (mask files,
    /// whose verdicts are kept under `mask:<digest>`).
    func readability(of urls: [URL], digests: [String], threads: Int, cancellation: CancellationFlag,
                     memoKind: String = "", decode: @escaping @Sendable (URL) throws -> Void = { _ = try decodeImage(at: $0) }) throws -> [String?] {
        let memo = Mutex((try? JSONDecoder().decode([String: String].self, from: Data(contentsOf: checksURL))) ?? [:])
        let known = memo.withLock { $0 }
        let save: @Sendable () -> Void = { [checksURL] in
            let snapshot = memo.withLock { $0 }
            try? JSONEncoder().encode(snapshot).write(to: checksURL, options: .atomic)
        }
        let verdicts = try parallelMap(urls.count, threads: threads, cancellation: cancellation, save: save) { index -> String? in
            let digest = memoKind.isEmpty ? digests[index] : memoKind + ":" + digests[index]
            if let verdict = known[digest] { return verdict.isEmpty ? nil : verdict }
            var problem = ""
            do {
                try decode(urls[index])
            } catch {
                problem = "\(error)"
            }
            memo.withLock { $0[digest] = problem }
            return problem.isEmpty ? nil : problem
        }
        save()
        return verdicts
    }

    /// `body(index)` for every index on `threads` threads, in order; `save` every 10 seconds.
    private func parallelMap<Value: Sendable>(_ count: Int, threads: Int, cancellation: CancellationFlag,
                                              save: @escaping @Sendable () -> Void,
                                              _ body: @escaping @Sendable (Int) -> Value) throws -> [Value] {
        let results = Mutex([Value?](repeating: nil, count: count))
        let next = Mutex(0)
        let lastSave = Mutex(Date())
        let workers = max(1, min(threads, count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while !cancellation.isCancelled {
                let index: Int = next.withLock { value in
                    defer { value += 1 }
                    return value
                }
                guard index < count else { return }
                let value = body(index)
                results.withLock { $0[index] = value }
                let due = lastSave.withLock { last -> Bool in
                    guard Date().timeIntervalSince(last) > 10 else { return false }
                    last = Date()
                    return true
                }
                if due { save() }
            }
        }
        try cancellation.check()
        return results.withLock { $0.map { $0! } }
    }
}
