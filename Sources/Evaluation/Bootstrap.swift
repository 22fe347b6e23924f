import Random
import Tensor

/// Settings of a bootstrap.
public struct BootstrapConfiguration: Sendable, Equatable, Codable {
    /// Number of replicates (the paper uses 200).
    public var replicates: Int
    /// Seed of the resampling; replicate r draws from stream r of this seed, so results do not
    /// depend on thread count.
    public var seed: UInt64
    /// Coverage of the percentile interval (0.95 gives the 2.5th and 97.5th percentiles).
    public var confidenceLevel: Double

    /// Creates a configuration; defaults are 200 replicates and a 95% interval.
    public init(replicates: Int = 200, seed: UInt64 = 0, confidenceLevel: Double = 0.95) {
        self.replicates = replicates
        self.seed = seed
        self.confidenceLevel = confidenceLevel
    }

    func validate() throws {
        guard replicates >= 1 else {
            throw EvaluationError.invalidParameter(name: "bootstrap replicates", value: "\(replicates)", reason: "must be at least 1")
        }
        guard confidenceLevel > 0, confidenceLevel < 1 else {
            throw EvaluationError.invalidParameter(name: "confidence level", value: "\(confidenceLevel)", reason: "must lie in (0, 1)")
        }
    }
}

/// Replicate values of a metric and their percentile interval.
public struct BootstrapResult: Sendable, Equatable {
    /// The metric on the full test set.
    public var estimate: MetricValue
    /// One value per replicate, in replicate order; `.notComputable` when a replicate drew,
    /// e.g., no positive sample for a label.
    public var replicates: [MetricValue]
    /// Percentile interval over the computable replicates (`percentile(_:_:)`, numpy's linear
    /// rule, at (1 − level)/2 and (1 + level)/2), or nil when no replicate is computable.
    public var interval: ClosedRange<Double>?
    /// The interval's coverage.
    public var confidenceLevel: Double

    /// The computable replicate values.
    public var computableReplicates: [Double] { replicates.compactMap(\.value) }
}

/// Draws bootstrap resamples of a test set, by patient when patients repeat.
///
/// A replicate draws as many patients as there are, uniformly with replacement, and takes all
/// images of every drawn patient (a cluster bootstrap); with one image per patient this is the
/// ordinary image bootstrap. Replicate r uses `SeededGenerator(seed: seed, stream: r)`.
public struct BootstrapResampler: Sendable {
    /// Sample indices of each patient, patients in order of first appearance.
    let samplesOfPatient: [[Int32]]
    /// Number of samples.
    public let sampleCount: Int
    /// The seed.
    public let seed: UInt64

    /// - Parameters:
    ///   - patientIDs: one patient id per sample, or nil to treat every sample as its own patient.
    ///   - sampleCount: number of samples (must equal `patientIDs.count` when given).
    ///   - seed: resampling seed.
    /// - Throws: `EvaluationError` when the test set is empty or the ids do not match it.
    public init(sampleCount: Int, patientIDs: [String]?, seed: UInt64) throws {
        guard sampleCount > 0 else { throw EvaluationError.empty(what: "test set to bootstrap") }
        self.sampleCount = sampleCount
        self.seed = seed
        if let patientIDs {
            guard patientIDs.count == sampleCount else {
                throw EvaluationError.lengthMismatch(what: "patient ids", expected: sampleCount, actual: patientIDs.count)
            }
            var indexOfPatient: [String: Int] = [:]
            var groups: [[Int32]] = []
            for (sample, patient) in patientIDs.enumerated() {
                if let group = indexOfPatient[patient] {
                    groups[group].append(Int32(sample))
                } else {
                    indexOfPatient[patient] = groups.count
                    groups.append([Int32(sample)])
                }
            }
            samplesOfPatient = groups
        } else {
            samplesOfPatient = (0..<sampleCount).map { [Int32($0)] }
        }
    }

    /// Number of resampling units (patients).
    public var patientCount: Int { samplesOfPatient.count }

    /// How many times each sample appears in replicate `replicate`, written into `counts`.
    public func fillCounts(replicate: Int, into counts: UnsafeMutableBufferPointer<Int32>) {
        precondition(counts.count == sampleCount, "one count per sample")
        counts.update(repeating: 0)
        var generator = SeededGenerator(seed: seed, stream: UInt64(replicate))
        for _ in 0..<samplesOfPatient.count {
            for sample in samplesOfPatient[generator.nextIndex(below: samplesOfPatient.count)] {
                counts[Int(sample)] += 1
            }
        }
    }

    /// The sample indices of replicate `replicate`, ascending, repeated as often as drawn.
    public func indices(replicate: Int) -> [Int] {
        var counts = [Int32](repeating: 0, count: sampleCount)
        counts.withUnsafeMutableBufferPointer { fillCounts(replicate: replicate, into: $0) }
        var result: [Int] = []
        result.reserveCapacity(sampleCount)
        for (sample, count) in counts.enumerated() where count > 0 {
            result.append(contentsOf: repeatElement(sample, count: Int(count)))
        }
        return result
    }
}

/// Bootstraps any metric: `metric` receives the sample indices of a resample (ascending, with
/// repeats) and returns its value on those rows.
///
/// - Parameters:
///   - resampler: the test set's resampling plan (patients, seed).
///   - configuration: replicate count and interval level (its seed is ignored in favour of the
///     resampler's; use `bootstrap(sampleCount:patientIDs:configuration:metric:)` to set both).
///   - metric: evaluated once on `0..<sampleCount` for the estimate and once per replicate, from
///     several threads at once.
/// - Throws: `EvaluationError` for an invalid configuration.
public func bootstrap(
    resampler: BootstrapResampler, configuration: BootstrapConfiguration,
    metric: @Sendable ([Int]) -> MetricValue
) throws -> BootstrapResult {
    try configuration.validate()
    var values = [MetricValue](repeating: .notComputable(reason: "not run"), count: configuration.replicates)
    values.withUnsafeMutableBufferPointer { output in
        Parallel.forEachChunk(count: configuration.replicates, minimumChunk: 1) { range in
            for replicate in range { output[replicate] = metric(resampler.indices(replicate: replicate)) }
        }
    }
    return summarize(estimate: metric(Array(0..<resampler.sampleCount)), replicates: values,
                     confidenceLevel: configuration.confidenceLevel)
}

/// Bootstraps any metric over a test set of `sampleCount` samples grouped by `patientIDs`.
/// - Throws: `EvaluationError` for an empty test set, mismatched ids, or an invalid configuration.
public func bootstrap(
    sampleCount: Int, patientIDs: [String]?, configuration: BootstrapConfiguration,
    metric: @Sendable ([Int]) -> MetricValue
) throws -> BootstrapResult {
    let resampler = try BootstrapResampler(sampleCount: sampleCount, patientIDs: patientIDs, seed: configuration.seed)
    return try bootstrap(resampler: resampler, configuration: configuration, metric: metric)
}

func summarize(estimate: MetricValue, replicates: [MetricValue], confidenceLevel: Double) -> BootstrapResult {
    let computable = replicates.compactMap(\.value).sorted()
    let tail = (1 - confidenceLevel) / 2 * 100
    let interval = computable.isEmpty
        ? nil
        : percentile(sorted: computable, tail)...percentile(sorted: computable, 100 - tail)
    return BootstrapResult(estimate: estimate, replicates: replicates, interval: interval, confidenceLevel: confidenceLevel)
}
