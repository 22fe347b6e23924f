import Foundation
import Tensor

/// Class probabilities by the weighted k-nearest-neighbour vote of DINOv2's k-NN evaluation
/// (`dinov2/eval/knn.py`, `KnnModule` with one k): features are L2-normalised
/// (`x / max(‖x‖, 1e-12)`), similarity is their dot product (cosine), the k most similar
/// training rows vote with weights `softmax(similarity / T)` over those k, and a class's
/// probability is the weight of the neighbours of that class. Multi-label: each label votes
/// alone, its probability the weight of the neighbours positive for it.
///
/// Computed in double precision; ties in similarity go to the lower training row (torch's
/// `topk` leaves their order unspecified). No training, so the result is a pure function of
/// the inputs, on any number of threads.
///
/// Both the memory bank and the test rows are read chunk by chunk (`FeatureRows.chunkRows`
/// rows at a time, normalised as they are read), so the features need not be in memory: a
/// stage that reads them from embedding shards holds a chunk of each and the k best so far.
///
/// - Parameters:
///   - train: the memory bank: training features and targets (class indices, or 0/1 per label).
///   - testFeatures: row-major `[test, width]` features to classify.
///   - task: multi-label or multi-class, with the output names.
///   - k: neighbours that vote (at most the training rows; fewer rows vote all).
///   - temperature: T, DINOv2's default 0.07.
///   - threads: above 1, test rows are split over the cores.
/// - Returns: row-major `[test, outputs]` probabilities (each multi-class row sums to 1).
/// - Throws: `EvaluationError` for invalid data, a width mismatch, non-finite features, k < 1 or T ≤ 0.
/// - Complexity: O(test × train × width) for the similarities, O(test × train) for the selection.
public func nearestNeighbourProbabilities(train: ProbeData, testFeatures: [Float], task: ProbeTask, k: Int,
                                          temperature: Double = 0.07, threads: Int = 1) throws -> [Double] {
    let width = train.width
    guard width > 0, testFeatures.count % width == 0 else {
        throw EvaluationError.lengthMismatch(what: "test features (multiple of width \(width))",
                                             expected: (testFeatures.count / max(width, 1) + 1) * width, actual: testFeatures.count)
    }
    return try nearestNeighbourProbabilities(train: train, test: .values(testFeatures), task: task, k: k,
                                             temperature: temperature, threads: threads)
}

/// `nearestNeighbourProbabilities(train:testFeatures:task:k:temperature:threads:)` for test
/// rows held or read on demand.
/// - Throws: as that function; the reader's error.
public func nearestNeighbourProbabilities(train: ProbeData, test: FeatureRows, task: ProbeTask, k: Int,
                                          temperature: Double = 0.07, threads: Int = 1) throws -> [Double] {
    guard k >= 1 else { throw EvaluationError.invalidParameter(name: "k", value: "\(k)", reason: "must be at least 1") }
    guard temperature > 0, temperature.isFinite else {
        throw EvaluationError.invalidParameter(name: "temperature", value: "\(temperature)", reason: "must be positive")
    }
    try train.validate(task: task, part: "training")
    guard train.count > 0 else { throw EvaluationError.empty(what: "training set of the k-NN memory bank") }
    let width = train.width
    if case .reader(let reader) = test, reader.width != width {
        throw EvaluationError.lengthMismatch(what: "test feature width", expected: width, actual: reader.width)
    }
    let testCount = test.count(width: width), trainCount = train.count
    let outputs = task.names.count, neighbours = min(k, trainCount)
    let targets = train.targets
    var result = [Double](repeating: 0, count: testCount * outputs)
    let capacity = FeatureRows.chunkRows
    let queries = UnsafeMutablePointer<Double>.allocate(capacity: capacity * width)
    let bank = UnsafeMutablePointer<Double>.allocate(capacity: capacity * width)
    // Per query of the chunk: its best `neighbours` so far, most similar first.
    let similarities = UnsafeMutablePointer<Double>.allocate(capacity: capacity * neighbours)
    let rows = UnsafeMutablePointer<Int>.allocate(capacity: capacity * neighbours)
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: capacity)
    defer {
        queries.deallocate()
        bank.deallocate()
        similarities.deallocate()
        rows.deallocate()
        counts.deallocate()
    }
    try test.forEachChunk(width: width) { queryRange, queryChunk in
        for index in 0..<(queryRange.count * width) where !queryChunk[index].isFinite {
            throw EvaluationError.nonFiniteValue(what: "test features of sample \(queryRange.lowerBound + index / width)", index: index % width)
        }
        normaliseRows(queryChunk, rows: queryRange.count, width: width, into: queries)
        counts.update(repeating: 0, count: queryRange.count)
        try train.rows.forEachChunk(width: width) { bankRange, bankChunk in
            normaliseRows(bankChunk, rows: bankRange.count, width: width, into: bank)
            // The k largest, most similar first, ties to the lower row: a sorted buffer per
            // query, entered only by candidates that beat its last element.
            func scan(_ members: Range<Int>) {
                for query in members {
                    let vector = UnsafePointer(queries + query * width)
                    let best = similarities + query * neighbours, bestRows = rows + query * neighbours
                    var count = counts[query]
                    for offset in 0..<bankRange.count {
                        let candidate = UnsafePointer(bank + offset * width)
                        var dot = 0.0
                        for column in 0..<width { dot += vector[column] * candidate[column] }
                        if count == neighbours, dot <= best[neighbours - 1] { continue }
                        var position = count
                        while position > 0, best[position - 1] < dot { position -= 1 }
                        var slot = min(count, neighbours - 1)
                        while slot > position {
                            best[slot] = best[slot - 1]
                            bestRows[slot] = bestRows[slot - 1]
                            slot -= 1
                        }
                        best[position] = dot
                        bestRows[position] = bankRange.lowerBound + offset
                        count = min(count + 1, neighbours)
                    }
                    counts[query] = count
                }
            }
            if threads > 1 {
                Parallel.forEachChunk(count: queryRange.count, minimumChunk: 8, scan)
            } else {
                scan(0..<queryRange.count)
            }
        }
        result.withUnsafeMutableBufferPointer { output in
            for query in 0..<queryRange.count {
                let best = similarities + query * neighbours, bestRows = rows + query * neighbours
                let largest = best[0]
                var weights = (0..<neighbours).map { exp((best[$0] - largest) / temperature) }
                let total = weights.reduce(0, +)
                for index in weights.indices { weights[index] /= total }
                let destination = output.baseAddress! + (queryRange.lowerBound + query) * outputs
                for rank in 0..<neighbours {
                    let row = bestRows[rank]
                    switch task {
                    case .multiClass:
                        destination[Int(targets[row])] += weights[rank]
                    case .multiLabel:
                        for label in 0..<outputs { destination[label] += weights[rank] * targets[row * outputs + label] }
                    }
                }
            }
        }
    }
    return result
}

/// Rows of a row-major matrix in double precision, each divided by `max(‖row‖₂, 1e-12)`
/// (`torch.nn.functional.normalize`), written to `destination`.
func normaliseRows(_ features: UnsafePointer<Float>, rows: Int, width: Int, into destination: UnsafeMutablePointer<Double>) {
    for row in 0..<rows {
        let source = features + row * width, target = destination + row * width
        var squares = 0.0
        for column in 0..<width {
            target[column] = Double(source[column])
            squares += target[column] * target[column]
        }
        let norm = max(squares.squareRoot(), 1e-12)
        for column in 0..<width { target[column] /= norm }
    }
}
