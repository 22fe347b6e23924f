import Random
import Testing
@testable import Evaluation

@Suite struct RetrievalTests {
    /// Direct definition: sort all candidates by (cosine in Double, descending; index ascending).
    static func reference(_ queries: RetrievalSet, _ candidates: RetrievalSet, k: Int, relevance: RetrievalRelevance) -> Double {
        var total = 0.0
        for q in 0..<queries.count {
            let query = queries.embeddings[(q * queries.dimension)..<((q + 1) * queries.dimension)].map(Double.init)
            var ranked: [(similarity: Double, index: Int)] = []
            for c in 0..<candidates.count where candidates.ids[c] != queries.ids[q] {
                let candidate = candidates.embeddings[(c * candidates.dimension)..<((c + 1) * candidates.dimension)].map(Double.init)
                var dot = 0.0, queryNorm = 0.0, candidateNorm = 0.0
                for (a, b) in zip(query, candidate) {
                    dot += a * b
                    queryNorm += a * a
                    candidateNorm += b * b
                }
                ranked.append((dot / (queryNorm * candidateNorm).squareRoot(), c))
            }
            ranked.sort { $0.similarity != $1.similarity ? $0.similarity > $1.similarity : $0.index < $1.index }
            let relevant = ranked.prefix(k).filter {
                isRelevant(queries.positiveLabels[q], candidates.positiveLabels[$0.index], relevance)
            }.count
            total += Double(relevant) / Double(k)
        }
        return total / Double(queries.count)
    }

    static func randomSet(count: Int, dimension: Int, labels: Int, prefix: String, seed: UInt64) -> RetrievalSet {
        var generator = SeededGenerator(seed: seed)
        // Entries ±0.5 in 4 dimensions: every vector has norm exactly 1 and cosines are exact
        // multiples of 0.25 in Float and Double alike, so exact ties are common and exercise the tie rule.
        precondition(dimension == 4)
        let embeddings = (0..<(count * dimension)).map { _ in Float(generator.nextIndex(below: 2)) - 0.5 }
        let positives = (0..<count).map { _ in (0..<labels).filter { _ in generator.nextUnitDouble() < 0.35 } }
        return RetrievalSet(ids: (0..<count).map { "\(prefix)\($0)" }, embeddings: embeddings, dimension: dimension, positiveLabels: positives)
    }

    @Test(arguments: [RetrievalRelevance.sharesPositiveLabel, .identicalLabelSet])
    func precisionMatchesDirectDefinition(relevance: RetrievalRelevance) throws {
        let pool = Self.randomSet(count: 60, dimension: 4, labels: 3, prefix: "s", seed: 7)
        // Same set on both sides: each query must not retrieve itself.
        let same = try precisionAtK(queries: pool, candidates: pool, ks: [1, 5, 10], relevance: relevance)
        for (k, value) in zip(same.ks, same.meanPrecision) {
            #expect(abs(value - Self.reference(pool, pool, k: k, relevance: relevance)) < 1e-12, "k=\(k)")
        }
        // Separate query and candidate sets (as CheXpert 8×200).
        let queries = Self.randomSet(count: 8, dimension: 4, labels: 3, prefix: "q", seed: 8)
        let separate = try precisionAtK(queries: queries, candidates: pool, ks: [5, 60], relevance: relevance)
        for (k, value) in zip(separate.ks, separate.meanPrecision) {
            #expect(abs(value - Self.reference(queries, pool, k: k, relevance: relevance)) < 1e-12, "k=\(k)")
        }
    }

    @Test func tiesGoToTheLowerCandidateIndex() throws {
        // Candidates 0 and 2 are identical to the query direction; 1 is orthogonal.
        let candidates = RetrievalSet(ids: ["c0", "c1", "c2"], embeddings: [1, 0, 0, 1, 2, 0], dimension: 2,
                                      positiveLabels: [[1], [0], [0]])
        let queries = RetrievalSet(ids: ["q"], embeddings: [3, 0], dimension: 2, positiveLabels: [[0]])
        let result = try precisionAtK(queries: queries, candidates: candidates, ks: [1, 2])
        #expect(result.meanPrecision == [0, 0.5])  // c0 (irrelevant) first, then c2.
    }

    @Test func badRetrievalInputsThrow() {
        let set = RetrievalSet(ids: ["a", "b"], embeddings: [1, 0, 0, 1], dimension: 2, positiveLabels: [[0], [0]])
        #expect(throws: EvaluationError.self) { try precisionAtK(queries: set, candidates: set, ks: [2]) }  // only 1 candidate left
        #expect(throws: EvaluationError.self) { try precisionAtK(queries: set, candidates: set, ks: [0]) }
        let zero = RetrievalSet(ids: ["z"], embeddings: [0, 0], dimension: 2, positiveLabels: [[0]])
        #expect(throws: EvaluationError.self) { try precisionAtK(queries: zero, candidates: set, ks: [1]) }
        let nan = RetrievalSet(ids: ["n"], embeddings: [.nan, 0], dimension: 2, positiveLabels: [[0]])
        #expect(throws: EvaluationError.self) { try precisionAtK(queries: nan, candidates: set, ks: [1]) }
    }
}
