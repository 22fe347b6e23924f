/// The dictionary literal in a `.npy` header, parsed without evaluating Python: a dict of
/// string keys to strings, `True`/`False` and tuples of integers, which is all NumPy writes for
/// plain (non-structured) arrays.
struct NumPyHeader {
    /// The dtype string, e.g. `<f4`.
    var descr = ""
    /// Whether the data is column-major.
    var fortranOrder = false
    /// The array shape.
    var shape: [Int] = []

    /// Why the header text was rejected.
    struct ParseError: Error {
        let message: String
    }

    /// How `descr` converts to Float32, or `nil` when it cannot.
    var encoding: ElementEncoding? {
        // '<' is little-endian, '|' means byte order does not apply, '=' is native (little here).
        guard let order = descr.first, "<|=".contains(order) else { return nil }
        switch descr.dropFirst() {
        case "f4": return .float32
        case "f8": return .float64
        case "f2": return .float16
        case "i8": return .int64
        case "i4": return .int32
        case "i2": return .int16
        case "i1": return .int8
        case "u1": return .uint8
        case "u2": return .uint16
        case "u4": return .uint32
        case "u8": return .uint64
        case "b1": return .bool
        default: return nil
        }
    }

    private enum Value {
        case string(String), boolean(Bool), integers([Int]), other(String)
    }

    init(parsing text: String) throws {
        var scanner = Scanner(Array(text.unicodeScalars))
        let entries = try scanner.dictionary()
        var seen = Set<String>()
        for (key, value) in entries {
            seen.insert(key)
            switch (key, value) {
            case ("descr", .string(let string)): descr = string
            case ("descr", .other(let text)):
                descr = text  // a structured dtype (a list): reported as unsupported
            case ("fortran_order", .boolean(let flag)): fortranOrder = flag
            case ("shape", .integers(let extents)): shape = extents
            case ("descr", _), ("fortran_order", _), ("shape", _):
                throw ParseError(message: "'\(key)' has the wrong type")
            default:
                continue  // unknown keys are ignored, as future NumPy versions may add some
            }
        }
        for required in ["descr", "fortran_order", "shape"] where !seen.contains(required) {
            throw ParseError(message: "the header dictionary lacks '\(required)'")
        }
    }

    /// A cursor over the header text.
    private struct Scanner {
        let characters: [Unicode.Scalar]
        var position = 0

        init(_ characters: [Unicode.Scalar]) { self.characters = characters }

        mutating func skipSpace() {
            while position < characters.count, characters[position].properties.isWhitespace { position += 1 }
        }

        mutating func expect(_ character: Unicode.Scalar) throws {
            skipSpace()
            guard position < characters.count, characters[position] == character else {
                throw ParseError(message: "expected '\(character)' at character \(position) of the header dictionary")
            }
            position += 1
        }

        mutating func peek() -> Unicode.Scalar? {
            skipSpace()
            return position < characters.count ? characters[position] : nil
        }

        mutating func dictionary() throws -> [(String, Value)] {
            try expect("{")
            var entries: [(String, Value)] = []
            while peek() != "}" {
                let key = try string()
                try expect(":")
                entries.append((key, try value()))
                if peek() == "," { position += 1 } else { break }
            }
            try expect("}")
            skipSpace()
            guard position == characters.count else {
                throw ParseError(message: "unexpected text after the header dictionary")
            }
            return entries
        }

        mutating func string() throws -> String {
            guard let quote = peek(), quote == "'" || quote == "\"" else {
                throw ParseError(message: "expected a quoted string at character \(position) of the header dictionary")
            }
            position += 1
            var result = String.UnicodeScalarView()
            while position < characters.count, characters[position] != quote {
                if characters[position] == "\\" { position += 1 }
                if position < characters.count { result.append(characters[position]) }
                position += 1
            }
            try expect(quote)
            return String(result)
        }

        mutating func value() throws -> Value {
            switch peek() {
            case "'", "\"": return .string(try string())
            case "(": return .integers(try integerTuple())
            case "[":
                // A structured dtype: skip the balanced list and report it verbatim.
                let start = position
                var depth = 0
                repeat {
                    if characters[position] == "[" { depth += 1 }
                    if characters[position] == "]" { depth -= 1 }
                    position += 1
                } while depth > 0 && position < characters.count
                return .other(String(String.UnicodeScalarView(characters[start..<position])))
            default:
                let start = position
                while position < characters.count, characters[position].properties.isAlphabetic { position += 1 }
                switch String(String.UnicodeScalarView(characters[start..<position])) {
                case "True": return .boolean(true)
                case "False": return .boolean(false)
                default: throw ParseError(message: "unsupported value at character \(start) of the header dictionary")
                }
            }
        }

        mutating func integerTuple() throws -> [Int] {
            try expect("(")
            var result: [Int] = []
            while peek() != ")" {
                let start = position
                while position < characters.count, ("0"..."9").contains(characters[position]) { position += 1 }
                let digits = String(String.UnicodeScalarView(characters[start..<position]))
                // Python may print Long literals with an L suffix (format 1.0 from Python 2).
                if position < characters.count, characters[position] == "L" { position += 1 }
                guard let extent = Int(digits) else {
                    throw ParseError(message: "the shape must be a tuple of non-negative integers")
                }
                result.append(extent)
                if peek() == "," { position += 1 } else { break }
            }
            try expect(")")
            return result
        }
    }
}
