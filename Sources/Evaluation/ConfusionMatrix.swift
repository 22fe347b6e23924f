/// Matthews correlation coefficient of predicted against true class indices, as
/// `sklearn.metrics.matthews_corrcoef` (binary and multi-class alike).
///
/// From the confusion matrix C (rows true, columns predicted) with row sums t, column sums p,
/// trace c and total s: `(c·s − t·p) / sqrt((s² − p·p)(s² − t·t))`, and 0 when the denominator
/// is 0 (one class predicted or present), as sklearn returns.
///
/// - Parameters:
///   - targets: true class index per sample (0/1 for binary).
///   - predictions: predicted class index per sample.
///   - classCount: number of classes; indices must lie in `0..<classCount`.
/// - Throws: `EvaluationError` for mismatched lengths, no samples, or an index out of range.
/// - Complexity: O(n + classCount²).
public func matthewsCorrelation(targets: [Int], predictions: [Int], classCount: Int) throws -> Double {
    let confusion = try confusionMatrix(targets: targets, predictions: predictions, classCount: classCount)
    var trueSums = [Double](repeating: 0, count: classCount)
    var predictedSums = [Double](repeating: 0, count: classCount)
    var correct = 0.0
    for row in 0..<classCount {
        for column in 0..<classCount {
            let count = Double(confusion[row * classCount + column])
            trueSums[row] += count
            predictedSums[column] += count
            if row == column { correct += count }
        }
    }
    let samples = predictedSums.reduce(0, +)
    let dotTruePredicted = zip(trueSums, predictedSums).reduce(0) { $0 + $1.0 * $1.1 }
    let covarianceTruePredicted = correct * samples - dotTruePredicted
    let covariancePredicted = samples * samples - predictedSums.reduce(0) { $0 + $1 * $1 }
    let covarianceTrue = samples * samples - trueSums.reduce(0) { $0 + $1 * $1 }
    let denominator = covariancePredicted * covarianceTrue
    if denominator == 0 { return 0 }
    return covarianceTruePredicted / denominator.squareRoot()
}

/// Fraction of samples whose predicted class equals the true class.
/// - Throws: `EvaluationError` for mismatched lengths, no samples, or an index out of range.
public func accuracy(targets: [Int], predictions: [Int], classCount: Int) throws -> Double {
    let confusion = try confusionMatrix(targets: targets, predictions: predictions, classCount: classCount)
    let correct = (0..<classCount).reduce(0) { $0 + confusion[$1 * classCount + $1] }
    return Double(correct) / Double(targets.count)
}

/// Mean over the classes present in `targets` of the fraction of their samples predicted as
/// their class (recall), as `sklearn.metrics.balanced_accuracy_score`: a class that is
/// predicted but absent has no recall and is left out, as sklearn does after its warning.
/// - Throws: `EvaluationError` for mismatched lengths, no samples, or an index out of range.
public func balancedAccuracy(targets: [Int], predictions: [Int], classCount: Int) throws -> Double {
    let confusion = try confusionMatrix(targets: targets, predictions: predictions, classCount: classCount)
    var recallSum = 0.0, presentClasses = 0
    for row in 0..<classCount {
        let support = (0..<classCount).reduce(0) { $0 + confusion[row * classCount + $1] }
        guard support > 0 else { continue }
        recallSum += Double(confusion[row * classCount + row]) / Double(support)
        presentClasses += 1
    }
    return recallSum / Double(presentClasses)
}

/// Row-major `[classCount, classCount]` counts, rows true class, columns predicted class.
/// - Throws: `EvaluationError` for mismatched lengths, no samples, or an index out of range.
public func confusionMatrix(targets: [Int], predictions: [Int], classCount: Int) throws -> [Int] {
    guard classCount >= 1 else {
        throw EvaluationError.invalidParameter(name: "classCount", value: "\(classCount)", reason: "must be at least 1")
    }
    guard targets.count == predictions.count else {
        throw EvaluationError.lengthMismatch(what: "predictions", expected: targets.count, actual: predictions.count)
    }
    guard !targets.isEmpty else { throw EvaluationError.empty(what: "test set") }
    var confusion = [Int](repeating: 0, count: classCount * classCount)
    for index in targets.indices {
        let target = targets[index], prediction = predictions[index]
        guard (0..<classCount).contains(target) else {
            throw EvaluationError.invalidClassIndex(sampleIndex: index, value: target, classCount: classCount)
        }
        guard (0..<classCount).contains(prediction) else {
            throw EvaluationError.invalidClassIndex(sampleIndex: index, value: prediction, classCount: classCount)
        }
        confusion[target * classCount + prediction] += 1
    }
    return confusion
}

/// Predicted class per sample: the arg-max of each row of row-major `[n, classCount]` scores,
/// lowest index on ties (as `numpy.argmax`); for one column, a threshold on the score.
///
/// - Parameters:
///   - scores: row-major scores (probabilities or logits).
///   - classCount: columns per row; 1 means binary with a single positive-class score.
///   - threshold: for `classCount == 1`, the score at or above which the prediction is 1
///     (0.5 for probabilities, 0 for logits).
public func predictedClasses(scores: [Double], classCount: Int, threshold: Double = 0.5) -> [Int] {
    precondition(classCount >= 1 && scores.count % classCount == 0, "scores must be n × classCount")
    if classCount == 1 { return scores.map { $0 >= threshold ? 1 : 0 } }
    return stride(from: 0, to: scores.count, by: classCount).map { start in
        var best = start
        for index in start..<(start + classCount) where scores[index] > scores[best] { best = index }
        return best - start
    }
}
