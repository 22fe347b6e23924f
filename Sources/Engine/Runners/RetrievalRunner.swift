import Datasets
import Evaluation
import Foundation
import Pipeline
import Results

/// `retrieval`: Precision@k by cosine similarity of embeddings. Inputs `embed`, `manifest`.
///
/// A candidate is relevant to a query when it has the query's value of every `relevance` name
/// (a label — class name or 1/0 — or an attribute such as `view`). Queries without a value for
/// some relevance name are left out (the note counts them); such candidates are never relevant.
/// A query is never its own candidate. A k larger than the candidates available is recorded
/// without a value. For the retrieval gallery, the 10 nearest neighbours of up to 64 queries
/// (spread evenly in id order) are recorded as prediction rows: `sample_id` the query, `label`
/// the neighbour, `score` the cosine similarity, `target` 1 when relevant.
public struct RetrievalRunner: StageRunner {
    /// `retrieval`.
    public var kind: StageKind { .retrieval }
    /// Version 1.
    public var codeVersion: Int { 1 }

    static let galleryQueries = 64
    static let galleryNeighbours = 10

    /// Creates the runner.
    public init() {}

    /// Computes Precision@k.
    /// - Throws: `RunnerError` for a selection file naming unknown samples, `EvaluationError`
    ///   for embeddings that cannot be compared (zero or non-finite vectors).
    public func run(_ context: StageContext) throws -> StageOutputs {
        let parameters = try context.parameters(RetrievalParameters.self)
        BLASThreads.useOneThreadPerCall()
        let manifest = try context.manifestInput().manifest
        let embedding = try EmbeddingArtifact.read(from: context.input("embed").directory, cacheDirectory: context.cacheDirectory)
        guard embedding.info.ids == manifest.samples.map(\.id) else {
            throw RunnerError.artifact(path: try context.input("embed").directory.path, problem: "the embeddings are not of this manifest's samples")
        }
        let (features, width) = try probeFeatures(cls: embedding.cls, meanPatch: embedding.mean, dimension: embedding.info.dimension,
                                                  selection: ProbeFeatures(rawValue: parameters.features.rawValue) ?? .cls)
        // Relevance classes: one index per distinct combination of the relevance values.
        var classOfKey: [[String]: Int] = [:]
        let classes: [Int?] = manifest.samples.map { sample in
            let attributes = Subgroups.attributes(of: sample)
            let key = parameters.relevance.compactMap { attributes[$0] }
            guard key.count == parameters.relevance.count else { return nil }
            if let index = classOfKey[key] { return index }
            classOfKey[key] = classOfKey.count
            return classOfKey[key]
        }
        let allQueries = try select(parameters.queries, in: manifest, stage: context.stage.label)
        let queries = allQueries.filter { classes[$0] != nil }
        let candidates = try select(parameters.candidates, in: manifest, stage: context.stage.label)
        let label = parameters.relevance.joined(separator: "+")
        let coordinates = context.resultCoordinates(label: label)
        var notes: [String] = []
        if queries.count < allQueries.count {
            notes.append("\(allQueries.count - queries.count) queries without a \(label) value left out")
        }
        func retrievalSet(_ rows: [Int]) -> RetrievalSet {
            var matrix: [Float] = []
            matrix.reserveCapacity(rows.count * width)
            for row in rows { matrix.append(contentsOf: features[(row * width)..<((row + 1) * width)]) }
            return RetrievalSet(ids: rows.map { manifest.samples[$0].id }, embeddings: matrix, dimension: width,
                                positiveLabels: rows.map { classes[$0].map { [$0] } ?? [] })
        }
        let candidateSet = Set(candidates)
        let available = candidates.count - (queries.contains(where: candidateSet.contains) ? 1 : 0)
        let ks = parameters.k.sorted()
        let feasible = ks.filter { $0 <= available }
        var results: [ResultRow] = []
        var precision: [Int: Double] = [:]
        if queries.isEmpty {
            notes.append("no query has a \(label) value")
        } else if !feasible.isEmpty {
            let result = try precisionAtK(queries: retrievalSet(queries), candidates: retrievalSet(candidates), ks: feasible,
                                          relevance: .sharesPositiveLabel)
            for (k, value) in zip(result.ks, result.meanPrecision) { precision[k] = value }
        }
        for k in ks {
            var rowNotes = notes
            if precision[k] == nil && !queries.isEmpty {
                rowNotes.append("k = \(k) exceeds the \(available) candidates available to a query")
            }
            results.append(ResultRow(coordinates: coordinates, metric: MetricName(family: "precision", parameter: k).description, value: precision[k],
                                     note: rowNotes.isEmpty ? nil : rowNotes.joined(separator: "; "), sampleCount: queries.count))
        }
        let gallery = neighbours(of: queries, among: candidates, features: features, width: width, classes: classes, manifest: manifest)
        return StageOutputs(results: results, predictions: gallery)
    }

    /// Manifest rows of a sample selection (every sample when it is empty).
    private func select(_ selection: SampleSelection, in manifest: Manifest, stage: String) throws -> [Int] {
        if let file = selection.file {
            guard let text = try? String(contentsOf: URL(fileURLWithPath: file.path), encoding: .utf8) else {
                throw RunnerError.badOption(stage: stage, option: "file", value: file.path, reason: "cannot be read as UTF-8 text")
            }
            var rowOfKey: [String: Int] = [:]
            for (index, sample) in manifest.samples.enumerated() {
                rowOfKey[sample.id] = index
                if rowOfKey[sample.imagePath] == nil { rowOfKey[sample.imagePath] = index }
            }
            var rows: [Int] = [], unknown: [String] = []
            for line in text.split(whereSeparator: \.isNewline) {
                let entry = line.trimmingCharacters(in: .whitespaces)
                guard !entry.isEmpty else { continue }
                if let row = rowOfKey[entry] { rows.append(row) } else { unknown.append(entry) }
            }
            guard unknown.isEmpty else {
                throw RunnerError.precomputed(file: file.path, problem: "\(unknown.count) entries name no sample of the \(manifest.dataset) manifest, e.g. \"\(unknown[0])\"; list sample ids or image paths, one per line")
            }
            return Array(Set(rows)).sorted()
        }
        guard let filter = selection.filter, !filter.conditions.isEmpty else { return Array(manifest.samples.indices) }
        let predicate = try Subgroups.filter(filter, stage: stage)
        return try manifest.samples.indices.filter {
            try predicate.matches(Subgroups.attributes(of: manifest.samples[$0]), sampleID: manifest.samples[$0].id)
        }
    }

    /// The nearest candidates of up to `galleryQueries` queries, as prediction rows.
    private func neighbours(of queries: [Int], among candidates: [Int], features: [Float], width: Int, classes: [Int?],
                            manifest: Manifest) -> [PredictionRow] {
        guard !queries.isEmpty, !candidates.isEmpty else { return [] }
        func unit(_ row: Int) -> [Float] {
            let vector = Array(features[(row * width)..<((row + 1) * width)])
            let norm = vector.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            return norm > 0 ? vector.map { Float(Double($0) / norm) } : vector
        }
        let candidateVectors = candidates.map(unit)
        let step = max(1, queries.count / Self.galleryQueries)
        var rows: [PredictionRow] = []
        for query in stride(from: 0, to: queries.count, by: step).prefix(Self.galleryQueries).map({ queries[$0] }) {
            let vector = unit(query)
            var scored: [(similarity: Float, position: Int)] = []
            for (position, candidate) in candidates.enumerated() where candidate != query {
                var dot: Float = 0
                for index in 0..<width { dot += vector[index] * candidateVectors[position][index] }
                scored.append((dot, position))
            }
            scored.sort { ($0.similarity, -$0.position) > ($1.similarity, -$1.position) }
            for (similarity, position) in scored.prefix(Self.galleryNeighbours) {
                let candidate = candidates[position]
                let relevant = classes[query] != nil && classes[query] == classes[candidate]
                rows.append(PredictionRow(sampleID: manifest.samples[query].id, label: manifest.samples[candidate].id,
                                          score: Double(similarity), target: relevant ? 1 : 0))
            }
        }
        return rows
    }
}
