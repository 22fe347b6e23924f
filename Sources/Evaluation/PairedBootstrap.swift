import Tensor

/// A paired bootstrap of the difference of one metric between two models scored on the same
/// test samples: every replicate resamples the same patients for both.
public struct PairedBootstrapResult: Sendable, Equatable {
    /// The metric of the first model on the whole test set.
    public var firstEstimate: MetricValue
    /// The metric of the second model on the whole test set.
    public var secondEstimate: MetricValue
    /// `first − second` on the whole test set (not computable when either is not).
    public var difference: MetricValue
    /// `first − second` per replicate, in replicate order; not computable where either model's
    /// value is not (a replicate that drew no positive).
    public var replicates: [MetricValue]
    /// Percentile interval of the computable replicate differences (numpy's linear rule), nil
    /// when none is computable.
    public var interval: ClosedRange<Double>?
    /// Two-sided p-value of "no difference": `min(1, 2·(1 + min(#{d ≤ 0}, #{d ≥ 0}))/(B + 1))`
    /// over the B computable replicate differences d (the percentile interval at level 1 − p
    /// just reaches 0; the +1 keeps a finite resample from claiming p = 0); nil when none is
    /// computable.
    public var pValue: Double?
    /// The interval's coverage.
    public var confidenceLevel: Double

    /// The computable replicate differences.
    public var computableReplicates: [Double] { replicates.compactMap(\.value) }
}

extension ScoredPredictions {
    /// Paired bootstrap of `metric(self) − metric(other)`: replicate r draws patients with
    /// `resampler` (all images of a drawn patient) and scores both models' predictions on the
    /// same rows, as `bootstrap(_:resampler:configuration:)` scores one.
    ///
    /// Multi-label AUROC with every truth known takes a weighted pass over rows sorted once per
    /// model and label, which gives the same numbers as scoring each resample.
    ///
    /// - Parameters:
    ///   - other: the second model's predictions of the same rows (ids, outputs and truths equal).
    ///   - metric: the metric compared (its task-level value: the multi-class value, or the mean
    ///     over the computable labels).
    ///   - resampler: built over these rows (`count` samples, `patientIDs`).
    ///   - configuration: replicate count and interval level.
    /// - Throws: `EvaluationError` when the two predictions are not of the same samples and
    ///   truths, for a resampler of another size, or an invalid configuration.
    /// - Complexity: replicates × (one resample + the metric on it, twice), split over all cores;
    ///   O(replicates × labels × n) on the AUROC path.
    public func pairedBootstrap(against other: ScoredPredictions, metric: some ClassificationMetric,
                                resampler: BootstrapResampler, configuration: BootstrapConfiguration) throws -> PairedBootstrapResult {
        try configuration.validate()
        guard resampler.sampleCount == count else {
            throw EvaluationError.lengthMismatch(what: "bootstrap resampler samples", expected: count, actual: resampler.sampleCount)
        }
        guard other.ids == ids, other.outputs == outputs, other.isMulticlass == isMulticlass else {
            throw EvaluationError.invalidParameter(
                name: "paired predictions", value: "\(count) and \(other.count) rows",
                reason: "a paired comparison needs both models' predictions of the same samples and outputs, in the same order")
        }
        guard other.targets == targets else {
            throw EvaluationError.invalidParameter(name: "paired predictions", value: "truths",
                                                   reason: "the two models' predictions carry different truths for the same samples")
        }
        let values: [MetricValue]
        if metric is AUROC, !isMulticlass, !targets.contains(where: { $0 == nil }) {
            values = try pairedAUROCReplicates(other, resampler: resampler, replicates: configuration.replicates)
        } else {
            let first = self, second = other
            var replicateValues = [MetricValue](repeating: .notComputable(reason: "not run"), count: configuration.replicates)
            replicateValues.withUnsafeMutableBufferPointer { output in
                Parallel.forEachChunk(count: configuration.replicates, minimumChunk: 1) { range in
                    for replicate in range {
                        let rows = resampler.indices(replicate: replicate)
                        output[replicate] = pairedDifference(first.restrictedForScoring(to: rows).score(metric).value,
                                                             second.restrictedForScoring(to: rows).score(metric).value)
                    }
                }
            }
            values = replicateValues
        }
        let firstEstimate = score(metric).value, secondEstimate = other.score(metric).value
        let computable = values.compactMap(\.value).sorted()
        let tail = (1 - configuration.confidenceLevel) / 2 * 100
        var interval: ClosedRange<Double>?
        var pValue: Double?
        if !computable.isEmpty {
            interval = percentile(sorted: computable, tail)...percentile(sorted: computable, 100 - tail)
            let atMostZero = computable.count(where: { $0 <= 0 }), atLeastZero = computable.count(where: { $0 >= 0 })
            pValue = min(1, 2 * Double(1 + min(atMostZero, atLeastZero)) / Double(computable.count + 1))
        }
        return PairedBootstrapResult(firstEstimate: firstEstimate, secondEstimate: secondEstimate,
                                     difference: pairedDifference(firstEstimate, secondEstimate), replicates: values,
                                     interval: interval, pValue: pValue, confidenceLevel: configuration.confidenceLevel)
    }

    /// Macro AUROC differences per replicate from one sort per model and label.
    private func pairedAUROCReplicates(_ other: ScoredPredictions, resampler: BootstrapResampler, replicates: Int) throws -> [MetricValue] {
        let truths = targets.map { $0! }
        let first = try rankLabels(targets: truths, scores: scores, labels: outputs, sampleCount: count)
        let second = try rankLabels(targets: truths, scores: other.scores, labels: outputs, sampleCount: count)
        var values = [MetricValue](repeating: .notComputable(reason: "not run"), count: replicates)
        values.withUnsafeMutableBufferPointer { output in
            Parallel.forEachChunk(count: replicates, minimumChunk: 1) { range in
                var counts = [Int32](repeating: 0, count: resampler.sampleCount)
                counts.withUnsafeMutableBufferPointer { counts in
                    for replicate in range {
                        resampler.fillCounts(replicate: replicate, into: counts)
                        let weights = UnsafeBufferPointer(counts)
                        output[replicate] = pairedDifference(macroMean(first.map { $0.auroc(weights: weights) }, metric: "AUROC"),
                                                             macroMean(second.map { $0.auroc(weights: weights) }, metric: "AUROC"))
                    }
                }
            }
        }
        return values
    }
}

/// `first − second`, or the first reason either has no value.
func pairedDifference(_ first: MetricValue, _ second: MetricValue) -> MetricValue {
    switch (first, second) {
    case let (.value(a), .value(b)): return .value(a - b)
    case let (.notComputable(reason), _): return .notComputable(reason: "first model: \(reason)")
    case let (_, .notComputable(reason)): return .notComputable(reason: "second model: \(reason)")
    }
}
