/// A problem with the data, settings or weights handed to segmentation training or scoring.
///
/// Every case names what is wrong and what to do about it.
public enum SegmentationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// An array does not have the size its declared shape needs.
    case shapeMismatch(what: String, expected: [Int], actualCount: Int)
    /// Two inputs that must agree (sample counts, grid sizes, widths) do not.
    case inconsistent(what: String, reason: String)
    /// A mask value other than 0 or 1.
    case nonBinaryMask(what: String, index: Int, value: Double)
    /// A token value that is NaN or infinite.
    case nonFiniteToken(what: String, index: Int)
    /// A setting outside its allowed range.
    case invalidParameter(name: String, value: String, reason: String)
    /// A state dictionary that does not fit the decoder.
    case stateDictionary(missing: [String], unexpected: [String], misshapen: [String])

    public var description: String {
        switch self {
        case let .shapeMismatch(what, expected, actualCount):
            return "\(what): shape \(expected) needs \(expected.reduce(1, *)) values, got \(actualCount)"
        case let .inconsistent(what, reason):
            return "\(what): \(reason)"
        case let .nonBinaryMask(what, index, value):
            return "\(what): value \(value) at index \(index); masks must hold 0 or 1 (one plane per class)"
        case let .nonFiniteToken(what, index):
            return "\(what): NaN or infinite value at index \(index); re-run the embedding stage that produced it"
        case let .invalidParameter(name, value, reason):
            return "\(name) = \(value): \(reason)"
        case let .stateDictionary(missing, unexpected, misshapen):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected \(unexpected.joined(separator: ", "))") }
            if !misshapen.isEmpty { parts.append(misshapen.joined(separator: "; ")) }
            return "decoder weights do not fit the decoder: " + parts.joined(separator: "; ")
        }
    }
}
