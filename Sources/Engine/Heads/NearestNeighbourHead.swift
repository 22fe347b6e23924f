import Evaluation
import Foundation
import Pipeline

/// `knn`: DINOv2's k-NN evaluation (`dinov2/eval/knn.py`) as a head: the training rows are the
/// memory bank, a test row's class probabilities are the `softmax(cosine similarity / T)`
/// weights of its k nearest training rows, summed per class (per label for multi-label tasks).
/// Nothing is trained, so it is cheap and deterministic; DINOv2 reports k ∈ {10, 20, 100, 200}
/// (define one head per k) with T = 0.07.
public struct NearestNeighbourHead: HeadKind {
    public var name: String { "knn" }
    public var summary: String { "DINOv2's k-NN vote: cosine similarity, softmax(similarity / T) weights of the k nearest training rows" }
    public var options: [SchemaField] {
        [SchemaField("k", .integer(.atLeastOne)), SchemaField("temperature", .number(.positive))]
    }
    /// Nothing trains, so no training curve.
    public var trains: Bool { false }

    /// Creates the head kind.
    public init() {}

    /// `k` (default 20, DINOv2's best) and `temperature` (default 0.07).
    struct Settings: Codable, Hashable {
        var k: Int
        var temperature: Double
    }

    public func settings(_ options: ComponentOptions) throws -> ParameterValue {
        try ParameterValue(encoding: Settings(k: try options.integer("k") ?? 20, temperature: try options.number("temperature") ?? 0.07))
    }

    public func fit(_ problem: HeadProblem, settings: ParameterValue, context: StageContext) throws -> HeadFit {
        let vote: Settings
        do {
            vote = try settings.decode(Settings.self)
        } catch {
            throw RunnerError.artifact(path: "knn head settings", problem: "do not decode (\(error))")
        }
        try context.checkCancellation()
        let probabilities = problem.test.count(width: problem.train.width) == 0 ? [] : try nearestNeighbourProbabilities(
            train: problem.train, test: problem.test, task: problem.task, k: vote.k,
            temperature: vote.temperature, threads: context.threads)
        return HeadFit(probabilities: probabilities.map(Float.init), epochs: 0, bestEpoch: 0, stoppedEarly: false,
                       metadata: ["k": String(vote.k), "temperature": String(vote.temperature),
                                  "memory_bank": String(problem.train.count)])
    }
}
