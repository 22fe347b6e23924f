import Random
import Testing
@testable import Evaluation

@Suite struct BootstrapTests {
    /// Random multi-label test set: targets, scores (with ties), patient ids with repeats.
    static func makeTestSet(samples: Int, labels: Int, seed: UInt64) -> (targets: [Double], scores: [Double], patients: [String]) {
        var generator = SeededGenerator(seed: seed)
        var targets: [Double] = [], scores: [Double] = []
        for _ in 0..<(samples * labels) {
            let target: Double = generator.nextUnitDouble() < 0.3 ? 1 : 0
            targets.append(target)
            scores.append(((generator.nextUnitDouble() + 0.4 * target) * 100).rounded() / 100)
        }
        let patients = (0..<samples).map { "p\($0 / 3)" }
        return (targets, scores, patients)
    }

    @Test func fastMacroAUROCEqualsGenericBootstrap() throws {
        let labels = ["a", "b", "c"]
        let data = Self.makeTestSet(samples: 300, labels: labels.count, seed: 1)
        let configuration = BootstrapConfiguration(replicates: 40, seed: 9)
        let resampler = try BootstrapResampler(sampleCount: 300, patientIDs: data.patients, seed: 9)
        let fast = try bootstrapMacroAUROC(targets: data.targets, scores: data.scores, labels: labels,
                                           resampler: resampler, configuration: configuration)
        let generic = try bootstrap(resampler: resampler, configuration: configuration) { indices in
            let targets = indices.flatMap { row in (0..<labels.count).map { data.targets[row * labels.count + $0] } }
            let scores = indices.flatMap { row in (0..<labels.count).map { data.scores[row * labels.count + $0] } }
            return (try? rocAUC(targets: targets, scores: scores, labels: labels).macro) ?? .notComputable(reason: "error")
        }
        #expect(fast.replicates.count == 40)
        for (a, b) in zip(fast.replicates, generic.replicates) {
            #expect(abs((a.value ?? .nan) - (b.value ?? .nan)) <= 1e-12)
        }
        #expect(fast.estimate == generic.estimate)
        let interval = try #require(fast.interval)
        #expect(interval.lowerBound == percentile(fast.computableReplicates, 2.5))
        #expect(interval.upperBound == percentile(fast.computableReplicates, 97.5))
        #expect(interval.contains(fast.estimate.value!))
    }

    @Test func bootstrapIsDeterministicAndSeeded() throws {
        let data = Self.makeTestSet(samples: 200, labels: 2, seed: 2)
        func run(seed: UInt64) throws -> [MetricValue] {
            let resampler = try BootstrapResampler(sampleCount: 200, patientIDs: data.patients, seed: seed)
            return try bootstrapMacroAUROC(targets: data.targets, scores: data.scores, labels: ["x", "y"], resampler: resampler,
                                           configuration: BootstrapConfiguration(replicates: 30, seed: seed)).replicates
        }
        #expect(try run(seed: 4) == run(seed: 4))
        #expect(try run(seed: 4) != run(seed: 5))
    }

    @Test func resamplingDrawsWholePatients() throws {
        let patients = ["a", "a", "b", "c", "c", "c", "d"]
        let resampler = try BootstrapResampler(sampleCount: patients.count, patientIDs: patients, seed: 3)
        #expect(resampler.patientCount == 4)
        for replicate in 0..<50 {
            let indices = resampler.indices(replicate: replicate)
            var counts: [Int: Int] = [:]
            for index in indices { counts[index, default: 0] += 1 }
            // Samples of one patient appear equally often.
            #expect(counts[0] == counts[1])
            #expect(counts[3] == counts[4] && counts[4] == counts[5])
            // Four patient draws in total.
            let draws = (counts[0] ?? 0) + (counts[2] ?? 0) + (counts[3] ?? 0) + (counts[6] ?? 0)
            #expect(draws == 4)
        }
    }

    @Test func replicatesWithOneClassAreNotComputable() throws {
        // One positive among 30: many replicates miss it; they are reported, never NaN.
        var targets = [Double](repeating: 0, count: 30)
        targets[4] = 1
        let scores = (0..<30).map { Double($0) / 30 }
        let resampler = try BootstrapResampler(sampleCount: 30, patientIDs: nil, seed: 1)
        let result = try bootstrapMacroAUROC(targets: targets, scores: scores, labels: ["rare"], resampler: resampler,
                                             configuration: BootstrapConfiguration(replicates: 100, seed: 1))
        let missing = result.replicates.filter { $0.value == nil }
        #expect(!missing.isEmpty && missing.count < 100)
        #expect(result.computableReplicates.allSatisfy { !$0.isNaN })
    }

    @Test func invalidBootstrapInputsThrow() {
        #expect(throws: EvaluationError.self) { try BootstrapResampler(sampleCount: 0, patientIDs: nil, seed: 0) }
        #expect(throws: EvaluationError.self) { try BootstrapResampler(sampleCount: 2, patientIDs: ["a"], seed: 0) }
        #expect(throws: EvaluationError.self) {
            let resampler = try BootstrapResampler(sampleCount: 2, patientIDs: nil, seed: 0)
            _ = try bootstrapMacroAUROC(targets: [0, 1], scores: [0.1, 0.2], labels: ["x"], resampler: resampler,
                                        configuration: BootstrapConfiguration(replicates: 0))
        }
    }
}
