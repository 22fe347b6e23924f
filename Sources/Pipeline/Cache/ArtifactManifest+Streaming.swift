import Foundation

extension ArtifactManifest {
    /// What a streamed check of a completeness manifest found.
    enum StreamedCheck: Equatable {
        /// The manifest names `key` and every file matches.
        case complete
        /// The manifest could not be read, or names another key.
        case unreadable
        /// The first file that does not match, and how (as `problem(in:thorough:)` says).
        case problem(String)
    }

    /// Checks the artifact in `directory` against the completeness manifest at `url` as
    /// `lookup` does (the key, then `problem(in:thorough:)`), reading the file in pieces of
    /// `chunkSize` bytes and decoding one file entry at a time: the decoder's tree of a whole
    /// manifest listing 20,000 files (a generated dataset's images) took 13 MB, and every
    /// stage reading that dataset looked it up.
    ///
    /// Returns nil when the file cannot be read, or the text is not plainly a JSON object whose `files` array holds objects
    /// (a key written with escapes, text that ends early, an entry that does not decode): the
    /// caller then decodes the whole file, so malformed manifests are judged as before.
    static func streamedCheck(of url: URL, key: StageKey, directory: URL, thorough: Bool,
                              chunkSize: Int = 1 << 20) -> StreamedCheck? {
        guard let handle = FileHandle(forReadingAtPath: url.path) else { return nil }
        defer { try? handle.close() }
        var splitter = FilesArraySplitter()
        var problem: String?
        let decoder = JSONDecoder()
        while true {
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: chunkSize) ?? Data()   // nil at the end of the file
            } catch {
                return nil
            }
            if chunk.isEmpty { break }
            var failed = false
            splitter.feed(chunk) { element in
                guard !failed, problem == nil else { return }
                guard let file = try? decoder.decode(File.self, from: element) else {
                    failed = true
                    return
                }
                problem = Self.problem(of: file, in: directory, thorough: thorough)
            }
            if failed || splitter.failed { return nil }
        }
        guard splitter.finished, let skeleton = try? decoder.decode(ArtifactManifest.self, from: splitter.skeleton) else { return nil }
        guard skeleton.key == key else { return .unreadable }
        return problem.map { .problem($0) } ?? .complete
    }

    /// Writes the completeness manifest of `directory` to `url`: the bytes `scan` then a
    /// sorted-keys `JSONEncoder` give, written one file entry at a time as each file is hashed
    /// (the encoder's tree of a manifest listing 20,000 files took 14 MB, the list 4 MB more).
    /// - Throws: `CacheError` when the folder cannot be listed or the manifest written;
    ///   `FileDigestError` when a file cannot be hashed.
    static func write(scanning directory: URL, key: StageKey, kind: StageKind, to url: URL, committedAt: Date = Date()) throws {
        let base = directory.path
        guard let enumerator = FileManager.default.enumerator(atPath: base) else {
            throw CacheError(path: base, problem: "cannot list the artifact folder")
        }
        var paths: [String] = []
        while let relative = enumerator.nextObject() as? String {
            guard relative != fileName, FileStamp.of(path: base + "/" + relative) != nil else { continue }
            paths.append(relative)
        }
        paths.sort()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func failed(_ error: Error) -> CacheError {
            CacheError(path: directory.path, problem: "cannot write the completeness manifest: \(error.localizedDescription)")
        }
        // The skeleton's bytes with the files spliced into its empty array.
        let skeleton: Data
        do {
            skeleton = try encoder.encode(ArtifactManifest(key: key, kind: kind, files: [], committedAt: committedAt))
        } catch {
            throw failed(error)
        }
        let emptyArray = Data("\"files\":[]".utf8)
        guard let range = skeleton.range(of: emptyArray) else { throw failed(CacheError(path: base, problem: "no files array")) }
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let handle = FileHandle(forWritingAtPath: url.path) else {
            throw CacheError(path: url.path, problem: "cannot write the completeness manifest: it cannot be created")
        }
        defer { try? handle.close() }
        var buffer = Data(skeleton[..<(range.upperBound - 1)])
        var first = true
        for relative in paths {
            let path = base + "/" + relative
            guard let stamp = FileStamp.of(path: path) else { continue }
            let file = File(path: relative, size: stamp.size, sha256: try FileDigester.hash(path: path), modifiedNanoseconds: stamp.modifiedNanoseconds)
            do {
                if !first { buffer.append(0x2C) }
                first = false
                buffer.append(try encoder.encode(file))
                if buffer.count >= 1 << 20 {
                    try handle.write(contentsOf: buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            } catch {
                throw failed(error)
            }
        }
        buffer.append(skeleton[(range.upperBound - 1)...])
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw failed(error)
        }
    }

    /// Splits the text of a JSON object, fed in pieces, into the elements of its top-level
    /// `files` array (each handed over whole as it ends) and the rest of the text, in which the
    /// array is left empty. A structural scan: strings and their escapes and nesting are
    /// followed, nothing is validated (the decoder judges the pieces).
    struct FilesArraySplitter {
        /// The text without the array's elements: `"files":[]`.
        var skeleton: Data { Data(skeletonBytes) }
        private var skeletonBytes: [UInt8] = []
        /// Something other than an object of objects in `files` was met.
        private(set) var failed = false
        /// The top-level object was closed.
        private(set) var finished = false

        private var depth = 0
        private var inString = false
        private var escaped = false
        /// The last string closed at depth 1 (a key, when a colon follows).
        private var lastString: [UInt8] = []
        private var stringAtDepthOne: [UInt8] = []
        /// Inside the `files` array (its `[` seen, its `]` not yet).
        private var inFiles = false
        private var element: [UInt8] = []
        private static let filesKey = Array("files".utf8)

        mutating func feed(_ bytes: Data, element deliver: (Data) -> Void) {
            bytes.withUnsafeBytes { feed($0, element: deliver) }
        }

        private mutating func feed(_ bytes: UnsafeRawBufferPointer, element deliver: (Data) -> Void) {
            for byte in bytes {
                if failed { return }
                if finished {
                    if !Self.isWhitespace(byte) { failed = true }
                    continue
                }
                let inElement = inFiles && depth >= 3
                if inElement { element.append(byte) } else { skeletonBytes.append(byte) }
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == 0x5C {
                        escaped = true
                    } else if byte == 0x22 {
                        inString = false
                        if depth == 1 { lastString = stringAtDepthOne }
                    } else if depth == 1 {
                        stringAtDepthOne.append(byte)
                    }
                    continue
                }
                switch byte {
                case 0x22:
                    if inFiles, depth == 2 { failed = true }   // a string entry
                    inString = true
                    if depth == 1 { stringAtDepthOne.removeAll(keepingCapacity: true) }
                case 0x7B, 0x5B:   // { [
                    if depth == 0, byte != 0x7B { failed = true }
                    if inFiles, depth == 2, byte != 0x7B { failed = true }   // entries are objects
                    if depth == 1, byte == 0x5B, lastString == Self.filesKey { inFiles = true }
                    if inFiles, depth == 2 {
                        // The entry's opening brace went to the skeleton: move it to the entry.
                        skeletonBytes.removeLast()
                        element = [byte]
                    }
                    depth += 1
                case 0x7D, 0x5D:   // } ]
                    depth -= 1
                    if depth < 0 { failed = true }
                    if inFiles, depth == 2 {
                        deliver(Data(element))
                        element.removeAll(keepingCapacity: true)
                    } else if inFiles, depth == 1 {
                        inFiles = false
                    } else if depth == 0 {
                        finished = true
                    }
                case 0x2C:   // ,
                    // Commas between entries stay out of the skeleton (its array is empty).
                    if inFiles, depth == 2 { skeletonBytes.removeLast() }
                default:
                    if inFiles, depth == 2, !Self.isWhitespace(byte) { failed = true }   // a scalar entry
                    if depth == 0, !Self.isWhitespace(byte) { failed = true }
                }
            }
        }

        private static func isWhitespace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
        }
    }
}
