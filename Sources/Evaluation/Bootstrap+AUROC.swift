import Tensor

/// Bootstrap of macro AUROC, fast: each label is sorted once, and a replicate is one weighted
/// counting pass per label over the sorted order with the replicate's per-sample draw counts.
///
/// Gives exactly the numbers of the generic `bootstrap(resampler:configuration:metric:)` with
/// a macro-AUROC metric (same resamples, same tie handling), at O(labels × n) per replicate
/// instead of O(labels × n log n). A replicate's macro mean covers the labels computable in that
/// replicate; a replicate where no label is computable is not computable.
///
/// - Parameters:
///   - targets: row-major `[n, labels.count]`, 0 or 1.
///   - scores: row-major `[n, labels.count]`, finite.
///   - labels: label names.
///   - resampler: test-set resampling plan (patients, seed).
///   - configuration: replicate count and interval level.
/// - Throws: `EvaluationError` for bad shapes, targets or scores, or an invalid configuration.
/// - Complexity: O(labels × n log n) once, then O(replicates × labels × n) split over all cores.
public func bootstrapMacroAUROC(
    targets: [Double], scores: [Double], labels: [String],
    resampler: BootstrapResampler, configuration: BootstrapConfiguration
) throws -> BootstrapResult {
    try configuration.validate()
    let ranked = try rankLabels(targets: targets, scores: scores, labels: labels, sampleCount: resampler.sampleCount)
    var values = [MetricValue](repeating: .notComputable(reason: "not run"), count: configuration.replicates)
    values.withUnsafeMutableBufferPointer { output in
        Parallel.forEachChunk(count: configuration.replicates, minimumChunk: 1) { range in
            var counts = [Int32](repeating: 0, count: resampler.sampleCount)
            counts.withUnsafeMutableBufferPointer { counts in
                for replicate in range {
                    resampler.fillCounts(replicate: replicate, into: counts)
                    let perLabel = ranked.map { $0.auroc(weights: UnsafeBufferPointer(counts)) }
                    output[replicate] = macroMean(perLabel, metric: "AUROC")
                }
            }
        }
    }
    let estimate = macroMean(ranked.map { $0.auroc() }, metric: "AUROC")
    return summarize(estimate: estimate, replicates: values, confidenceLevel: configuration.confidenceLevel)
}

/// Splits row-major multi-label targets and scores into one `RankedScores` per label.
func rankLabels(targets: [Double], scores: [Double], labels: [String], sampleCount: Int) throws -> [RankedScores] {
    guard !labels.isEmpty else { throw EvaluationError.empty(what: "label list") }
    let expected = sampleCount * labels.count
    guard targets.count == expected else {
        throw EvaluationError.lengthMismatch(what: "targets (samples × labels)", expected: expected, actual: targets.count)
    }
    guard scores.count == expected else {
        throw EvaluationError.lengthMismatch(what: "scores (samples × labels)", expected: expected, actual: scores.count)
    }
    let labelCount = labels.count
    return try labels.enumerated().map { column, label in
        try RankedScores(
            targets: (0..<sampleCount).map { targets[$0 * labelCount + column] },
            scores: (0..<sampleCount).map { scores[$0 * labelCount + column] },
            label: label)
    }
}
