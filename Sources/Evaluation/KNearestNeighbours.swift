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
    guard k >= 1 else { throw EvaluationError.invalidParameter(name: "k", value: "\(k)", reason: "must be at least 1") }
    guard temperature > 0, temperature.isFinite else {
        throw EvaluationError.invalidParameter(name: "temperature", value: "\(temperature)", reason: "must be positive")
    }
    try train.validate(task: task, part: "training")
    guard train.count > 0 else { throw EvaluationError.empty(what: "training set of the k-NN memory bank") }
    let width = train.width
    guard testFeatures.count % width == 0 else {
        throw EvaluationError.lengthMismatch(what: "test features (multiple of width \(width))",
                                             expected: (testFeatures.count / width + 1) * width, actual: testFeatures.count)
    }
    if let bad = testFeatures.firstIndex(where: { !$0.isFinite }) {
        throw EvaluationError.nonFiniteValue(what: "test features of sample \(bad / width)", index: bad % width)
    }
    let bank = normalisedRows(train.features, width: width)
    let queries = normalisedRows(testFeatures, width: width)
    let testCount = testFeatures.count / width, trainCount = train.count
    let outputs = task.names.count, neighbours = min(k, trainCount)
    let targets = train.targets
    var result = [Double](repeating: 0, count: testCount * outputs)
    result.withUnsafeMutableBufferPointer { output in
        func vote(_ rows: Range<Int>) {
            var similarities = [Double](repeating: 0, count: trainCount)
            var nearest: [(similarity: Double, row: Int)] = []
            nearest.reserveCapacity(neighbours + 1)
            for row in rows {
                bank.withUnsafeBufferPointer { bank in
                    queries.withUnsafeBufferPointer { queries in
                        let query = queries.baseAddress! + row * width
                        for candidate in 0..<trainCount {
                            let vector = bank.baseAddress! + candidate * width
                            var dot = 0.0
                            for column in 0..<width { dot += query[column] * vector[column] }
                            similarities[candidate] = dot
                        }
                    }
                }
                // The k largest, most similar first, ties to the lower row: a sorted buffer,
                // entered only by candidates that beat its last element.
                nearest.removeAll(keepingCapacity: true)
                for candidate in 0..<trainCount {
                    let similarity = similarities[candidate]
                    if nearest.count == neighbours, similarity <= nearest[neighbours - 1].similarity { continue }
                    var position = nearest.count
                    while position > 0, nearest[position - 1].similarity < similarity { position -= 1 }
                    nearest.insert((similarity, candidate), at: position)
                    if nearest.count > neighbours { nearest.removeLast() }
                }
                let largest = nearest[0].similarity
                var weights = nearest.map { exp(($0.similarity - largest) / temperature) }
                let total = weights.reduce(0, +)
                for index in weights.indices { weights[index] /= total }
                let destination = output.baseAddress! + row * outputs
                for (rank, neighbour) in nearest.enumerated() {
                    switch task {
                    case .multiClass:
                        destination[Int(targets[neighbour.row])] += weights[rank]
                    case .multiLabel:
                        for label in 0..<outputs { destination[label] += weights[rank] * targets[neighbour.row * outputs + label] }
                    }
                }
            }
        }
        if threads > 1 {
            Parallel.forEachChunk(count: testCount, minimumChunk: 8, vote)
        } else {
            vote(0..<testCount)
        }
    }
    return result
}

/// Rows of a row-major matrix in double precision, each divided by `max(‖row‖₂, 1e-12)`
/// (`torch.nn.functional.normalize`).
func normalisedRows(_ features: [Float], width: Int) -> [Double] {
    var rows = features.map(Double.init)
    for start in stride(from: 0, to: rows.count, by: width) {
        var squares = 0.0
        for column in start..<(start + width) { squares += rows[column] * rows[column] }
        let norm = max(squares.squareRoot(), 1e-12)
        for column in start..<(start + width) { rows[column] /= norm }
    }
    return rows
}
