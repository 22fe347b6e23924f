/// Finds one array inside a JSON document, and the bytes of each of its elements, by scanning
/// the text once without building the document's tree.
///
/// Manifests are read and written through it one sample at a time (`ManifestJSON`): a decoder's
/// tree of a whole 20,000-sample manifest takes four times the file's size, on top of the file.
/// It is a structural scan, not a validator: strings (with their escapes) and nesting are
/// followed, scalars are skipped up to the next delimiter. Anything unexpected (a document that
/// is not an object, a key of the path missing, written with escapes or present twice, text
/// that ends early) gives nil, and the caller decodes the whole document as before, so malformed
/// input gets the decoder's own error.
struct JSONArrayLocator {
    /// The array: from its `[` to its `]`, inclusive.
    let array: Range<Int>
    /// Each element's bytes, in order (no surrounding whitespace or commas).
    let elements: [Range<Int>]

    /// Locates the array at `path` (object keys from the top) in `bytes`; nil when it is not
    /// plainly there (see the type's description).
    /// - Complexity: O(size of the document).
    init?(path: [String], in bytes: UnsafeRawBufferPointer) {
        precondition(!path.isEmpty, "a path names at least one key")
        let scanner = Scanner(bytes: bytes)
        // One value, then nothing but whitespace.
        guard let end = scanner.skipValue(at: scanner.skipWhitespace(from: 0)), scanner.skipWhitespace(from: end) == bytes.count,
              let found = scanner.locate(path: path[...]) else { return nil }
        (array, elements) = found
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer

        static func isWhitespace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
        }

        func skipWhitespace(from start: Int) -> Int {
            var index = start
            while index < bytes.count, Self.isWhitespace(bytes[index]) { index += 1 }
            return index
        }

        /// The index after the string that starts (with its quote) at `start`.
        func skipString(at start: Int) -> Int? {
            var index = start + 1
            while index < bytes.count {
                switch bytes[index] {
                case 0x22: return index + 1          // closing quote
                case 0x5C: index += 2                // an escape and the character it escapes
                default: index += 1
                }
            }
            return nil
        }

        /// The index after the value that starts at `start`.
        func skipValue(at start: Int) -> Int? {
            guard start < bytes.count else { return nil }
            switch bytes[start] {
            case 0x22:
                return skipString(at: start)
            case 0x7B, 0x5B:   // { [
                var depth = 0
                var index = start
                while index < bytes.count {
                    switch bytes[index] {
                    case 0x22:
                        guard let end = skipString(at: index) else { return nil }
                        index = end
                        continue
                    case 0x7B, 0x5B: depth += 1
                    case 0x7D, 0x5D:
                        depth -= 1
                        if depth == 0 { return index + 1 }
                    default: break
                    }
                    index += 1
                }
                return nil
            default:
                var index = start
                while index < bytes.count, bytes[index] != 0x2C, bytes[index] != 0x7D, bytes[index] != 0x5D, !Self.isWhitespace(bytes[index]) {
                    index += 1
                }
                return index == start ? nil : index
            }
        }

        /// Whether the key whose string starts at `start` and ends before `end` is `name`, byte for byte.
        func key(from start: Int, to end: Int, is name: String) -> Bool {
            let utf8 = name.utf8
            guard end - start - 2 == utf8.count else { return false }
            return zip(bytes[(start + 1)..<(end - 1)], utf8).allSatisfy { $0 == $1 }
        }

        /// Walks the objects along `path` from the document's top and returns the array it ends at.
        func locate(path: ArraySlice<String>) -> (Range<Int>, [Range<Int>])? {
            var start = skipWhitespace(from: 0)
            for (depth, name) in path.enumerated() {
                guard let value = member(name, ofObjectAt: start) else { return nil }
                start = value
                if depth == path.count - 1 { return elements(ofArrayAt: start) }
            }
            return nil
        }

        /// Where the value of key `name` starts in the object at `start`; nil unless the key is
        /// there exactly once.
        func member(_ name: String, ofObjectAt start: Int) -> Int? {
            guard start < bytes.count, bytes[start] == 0x7B else { return nil }
            var index = skipWhitespace(from: start + 1)
            var found: Int?
            if index < bytes.count, bytes[index] == 0x7D { return nil }
            while index < bytes.count {
                guard bytes[index] == 0x22, let keyEnd = skipString(at: index) else { return nil }
                var valueStart = skipWhitespace(from: keyEnd)
                guard valueStart < bytes.count, bytes[valueStart] == 0x3A else { return nil }
                valueStart = skipWhitespace(from: valueStart + 1)
                guard let valueEnd = skipValue(at: valueStart) else { return nil }
                if key(from: index, to: keyEnd, is: name) {
                    guard found == nil else { return nil }
                    found = valueStart
                }
                index = skipWhitespace(from: valueEnd)
                guard index < bytes.count else { return nil }
                if bytes[index] == 0x7D { return found }
                guard bytes[index] == 0x2C else { return nil }
                index = skipWhitespace(from: index + 1)
            }
            return nil
        }

        /// The array at `start` and its elements' ranges.
        func elements(ofArrayAt start: Int) -> (Range<Int>, [Range<Int>])? {
            guard start < bytes.count, bytes[start] == 0x5B else { return nil }
            var ranges: [Range<Int>] = []
            var index = skipWhitespace(from: start + 1)
            if index < bytes.count, bytes[index] == 0x5D { return (start..<(index + 1), []) }
            while index < bytes.count {
                guard let end = skipValue(at: index) else { return nil }
                ranges.append(index..<end)
                index = skipWhitespace(from: end)
                guard index < bytes.count else { return nil }
                if bytes[index] == 0x5D { return (start..<(index + 1), ranges) }
                guard bytes[index] == 0x2C else { return nil }
                index = skipWhitespace(from: index + 1)
            }
            return nil
        }
    }
}
