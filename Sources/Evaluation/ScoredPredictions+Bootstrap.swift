extension ScoredPredictions {
    /// Bootstrap replicates of the task-level value of `metric` (`score(_:).value`), each on the
    /// rows a replicate of `resampler` draws (repeats kept).
    ///
    /// Multi-label AUROC with every truth known takes `bootstrapMacroAUROC`, a weighted pass over
    /// rows sorted once, which gives the same numbers as scoring each resample.
    ///
    /// - Parameters:
    ///   - metric: the metric.
    ///   - resampler: built over these rows (`count` samples, `patientIDs`).
    ///   - configuration: replicate count and interval level.
    /// - Throws: `EvaluationError` for a resampler of another size or an invalid configuration.
    public func bootstrap(_ metric: some ClassificationMetric, resampler: BootstrapResampler,
                          configuration: BootstrapConfiguration) throws -> BootstrapResult {
        guard resampler.sampleCount == count else {
            throw EvaluationError.lengthMismatch(what: "bootstrap resampler samples", expected: count, actual: resampler.sampleCount)
        }
        if metric is AUROC, !isMulticlass, !targets.contains(where: { $0 == nil }) {
            return try bootstrapMacroAUROC(targets: targets.map { $0! }, scores: scores, labels: outputs,
                                           resampler: resampler, configuration: configuration)
        }
        let predictions = self
        return try Evaluation.bootstrap(resampler: resampler, configuration: configuration) { rows in
            predictions.restricted(to: rows).score(metric).value
        }
    }
}
