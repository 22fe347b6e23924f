import Tensor

/// When a retrieved candidate counts as relevant to a query.
public enum RetrievalRelevance: String, Sendable, Codable, Equatable {
    /// The candidate has at least one positive label that the query also has (the paper's
    /// "presence of the same disease in both"). For single-label data: the same class. Samples
    /// without any positive label are never relevant under this rule.
    case sharesPositiveLabel
    /// The candidate's set of positive labels equals the query's (two samples without any
    /// positive label are relevant to each other).
    case identicalLabelSet
}

/// Embeddings with their ids and positive labels, as one side of a retrieval evaluation.
public struct RetrievalSet: Sendable {
    /// Sample ids; a candidate whose id equals the query's is excluded from that query's results.
    public var ids: [String]
    /// Row-major `[count, dimension]` embeddings (e.g. CLS tokens).
    public var embeddings: [Float]
    /// Embedding width.
    public var dimension: Int
    /// Positive label indices of every sample (one index per sample for single-label data).
    public var positiveLabels: [[Int]]

    /// Bundles one side of a retrieval evaluation.
    public init(ids: [String], embeddings: [Float], dimension: Int, positiveLabels: [[Int]]) {
        self.ids = ids
        self.embeddings = embeddings
        self.dimension = dimension
        self.positiveLabels = positiveLabels.map { Array(Set($0)).sorted() }
    }

    /// Number of samples.
    public var count: Int { ids.count }

    func normalizedEmbeddings(side: String) throws -> [Float] {
        guard count > 0 else { throw EvaluationError.empty(what: "\(side) set") }
        guard dimension > 0 else {
            throw EvaluationError.invalidParameter(name: "\(side) embedding dimension", value: "\(dimension)", reason: "must be positive")
        }
        guard embeddings.count == count * dimension else {
            throw EvaluationError.lengthMismatch(what: "\(side) embeddings (ids × dimension)", expected: count * dimension, actual: embeddings.count)
        }
        guard positiveLabels.count == count else {
            throw EvaluationError.lengthMismatch(what: "\(side) labels", expected: count, actual: positiveLabels.count)
        }
        var normalized = embeddings
        for row in 0..<count {
            var squaredNorm = 0.0
            for index in (row * dimension)..<((row + 1) * dimension) {
                guard embeddings[index].isFinite else {
                    throw EvaluationError.nonFiniteValue(what: "\(side) embedding of '\(ids[row])'", index: index - row * dimension)
                }
                squaredNorm += Double(embeddings[index]) * Double(embeddings[index])
            }
            guard squaredNorm > 0 else {
                throw EvaluationError.invalidParameter(name: "\(side) embedding of '\(ids[row])'", value: "all zeros",
                                                       reason: "cosine similarity is undefined for a zero vector")
            }
            let scale = Float(1 / squaredNorm.squareRoot())
            for index in (row * dimension)..<((row + 1) * dimension) { normalized[index] *= scale }
        }
        return normalized
    }
}

/// Precision@k of retrieval by cosine similarity.
public struct RetrievalResult: Sendable, Equatable {
    /// The k values, ascending.
    public var ks: [Int]
    /// Mean precision over queries, one per k.
    public var meanPrecision: [Double]
    /// `perQuery[q][i]`: precision at `ks[i]` of query q (for bootstrapping over queries).
    public var perQuery: [[Double]]
}

/// Precision@k for every k in `ks`: for each query, the fraction of its k most cosine-similar
/// candidates that are relevant, averaged over queries.
///
/// Candidates are ranked by descending similarity, ties broken by ascending candidate index; a
/// candidate with the query's own id is skipped (so the same set may be passed as both sides).
/// Similarities come from one GEMM per block of queries, with blocks sized to keep the block of
/// similarities under about 64 MB whatever the candidate count.
///
/// - Throws: `EvaluationError` for empty sets, mismatched shapes, non-finite or zero embeddings,
///   or a k that is not positive or exceeds the candidates available to a query.
/// - Complexity: O(queries × candidates × dimension) for the GEMMs, plus
///   O(queries × candidates × log k) worst case for selection.
public func precisionAtK(
    queries: RetrievalSet, candidates: RetrievalSet, ks: [Int], relevance: RetrievalRelevance = .sharesPositiveLabel
) throws -> RetrievalResult {
    let sortedKs = Array(Set(ks)).sorted()
    guard let largestK = sortedKs.last else { throw EvaluationError.empty(what: "list of k values") }
    guard let smallestK = sortedKs.first, smallestK > 0 else {
        throw EvaluationError.invalidParameter(name: "k", value: "\(sortedKs[0])", reason: "must be positive")
    }
    let queryRows = try queries.normalizedEmbeddings(side: "query")
    let candidateMatrix = Tensor(shape: [candidates.count, candidates.dimension],
                                 scalars: try candidates.normalizedEmbeddings(side: "candidate"))
    guard queries.dimension == candidates.dimension else {
        throw EvaluationError.lengthMismatch(what: "candidate embedding dimension", expected: queries.dimension, actual: candidates.dimension)
    }
    var candidateIndexOfID: [String: Int] = [:]
    for (index, id) in candidates.ids.enumerated() { candidateIndexOfID[id] = index }
    let excluded = queries.ids.map { candidateIndexOfID[$0] ?? -1 }
    let available = excluded.contains { $0 >= 0 } ? candidates.count - 1 : candidates.count
    guard largestK <= available else {
        throw EvaluationError.invalidParameter(name: "k", value: "\(largestK)",
                                               reason: "exceeds the \(available) candidates available to a query")
    }
    let blockRows = max(1, min(queries.count, (16 << 20) / candidates.count))
    var perQuery = [[Double]](repeating: [], count: queries.count)
    var similarities = Tensor(zeros: [blockRows, candidates.count])
    for blockStart in stride(from: 0, to: queries.count, by: blockRows) {
        let rows = min(blockRows, queries.count - blockStart)
        if rows != blockRows { similarities = Tensor(zeros: [rows, candidates.count]) }
        let block = Tensor(shape: [rows, queries.dimension],
                           scalars: Array(queryRows[(blockStart * queries.dimension)..<((blockStart + rows) * queries.dimension)]))
        matmul(block, candidateMatrix, transposeB: true, into: &similarities)  // [rows, candidates]
        similarities.withUnsafeBufferPointer { scores in
            perQuery.withUnsafeMutableBufferPointer { output in
                Parallel.forEachChunk(count: rows, minimumChunk: 1) { range in
                    for row in range {
                        let query = blockStart + row
                        let ranked = topCandidates(
                            UnsafeBufferPointer(rebasing: scores[(row * candidates.count)..<((row + 1) * candidates.count)]),
                            count: largestK, excluding: excluded[query])
                        var relevantSoFar = 0, precisions: [Double] = []
                        var nextK = 0
                        for (rank, candidate) in ranked.enumerated() {
                            if isRelevant(queries.positiveLabels[query], candidates.positiveLabels[candidate], relevance) {
                                relevantSoFar += 1
                            }
                            while nextK < sortedKs.count && sortedKs[nextK] == rank + 1 {
                                precisions.append(Double(relevantSoFar) / Double(rank + 1))
                                nextK += 1
                            }
                        }
                        output[query] = precisions
                    }
                }
            }
        }
    }
    let means = sortedKs.indices.map { column in perQuery.reduce(0) { $0 + $1[column] } / Double(queries.count) }
    return RetrievalResult(ks: sortedKs, meanPrecision: means, perQuery: perQuery)
}

/// Indices of the `count` largest scores, best first, ties by ascending index, skipping `excluding`.
func topCandidates(_ scores: UnsafeBufferPointer<Float>, count: Int, excluding: Int) -> [Int] {
    var bestScores: [Float] = [], bestIndices: [Int] = []
    bestScores.reserveCapacity(count + 1)
    bestIndices.reserveCapacity(count + 1)
    for index in 0..<scores.count where index != excluding {
        let score = scores[index]
        // Scanning in index order, an equal score never displaces an earlier index.
        if bestScores.count == count, score <= bestScores[count - 1] { continue }
        var position = bestScores.count
        while position > 0 && bestScores[position - 1] < score { position -= 1 }
        bestScores.insert(score, at: position)
        bestIndices.insert(index, at: position)
        if bestScores.count > count {
            bestScores.removeLast()
            bestIndices.removeLast()
        }
    }
    return bestIndices
}

func isRelevant(_ query: [Int], _ candidate: [Int], _ relevance: RetrievalRelevance) -> Bool {
    switch relevance {
    case .identicalLabelSet:
        return query == candidate
    case .sharesPositiveLabel:
        // Both sorted: merge-walk.
        var i = 0, j = 0
        while i < query.count && j < candidate.count {
            if query[i] == candidate[j] { return true }
            if query[i] < candidate[j] { i += 1 } else { j += 1 }
        }
        return false
    }
}
