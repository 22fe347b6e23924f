/// One of `count` parts of an embedding stage's shards: shards `index`, `index + count`, ...
/// (`xrbench stage run KEY --shard-part INDEX/COUNT`). Array tasks fill a stage's parts side by
/// side; the shards are cut as the stage's own run cuts them (same `--shard-images`).
public struct EmbeddingShardPart: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Which part, from 0.
    public var index: Int
    /// How many parts.
    public var count: Int

    /// Creates a part.
    /// - Precondition: `0 <= index < count`.
    public init(index: Int, count: Int) {
        precondition(count >= 1 && (0..<count).contains(index), "a shard part is INDEX/COUNT with 0 <= INDEX < COUNT")
        self.index = index
        self.count = count
    }

    /// Reads `INDEX/COUNT`; nil unless `0 <= INDEX < COUNT`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0..<count).contains(index) else {
            return nil
        }
        self.init(index: index, count: count)
    }

    /// `INDEX/COUNT`.
    public var description: String { "\(index)/\(count)" }
}
