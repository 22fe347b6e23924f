/// The name in `candidates` closest to `name`, when one is close enough to be a likely typo:
/// equal ignoring case, one containing the other ignoring case (`gender` in `Patient Gender`),
/// or within an edit distance of a third of the name's length (at least 1).
///
/// Used for did-you-mean hints in errors about columns and options.
/// - Complexity: O(candidates × name length²).
public func closestName(to name: String, in candidates: [String]) -> String? {
    let lowered = name.lowercased()
    guard !lowered.isEmpty else { return nil }
    if let sameIgnoringCase = candidates.first(where: { $0.lowercased() == lowered }) { return sameIgnoringCase }
    var best: (candidate: String, distance: Int)?
    let limit = max(1, lowered.count / 3)
    for candidate in candidates {
        let distance = editDistance(lowered, candidate.lowercased())
        if distance <= limit && distance < (best?.distance ?? .max) { best = (candidate, distance) }
    }
    if let best { return best.candidate }
    // Containment only for names long enough not to match everything (`id` is in `Patient ID`
    // and in `Width`).
    guard lowered.count >= 4 else { return nil }
    return candidates.first { $0.lowercased().contains(lowered) || (lowered.contains($0.lowercased()) && $0.count >= 4) }
}

/// Levenshtein distance between two strings, by Unicode scalar.
func editDistance(_ first: String, _ second: String) -> Int {
    let a = Array(first.unicodeScalars), b = Array(second.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
