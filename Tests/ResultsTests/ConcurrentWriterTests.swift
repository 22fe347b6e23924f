import Foundation
import Results
import Synchronization
import Testing

/// Collects failures from concurrently running writers.
final class FailureLog: Sendable {
    private let messages = Mutex<[String]>([])

    func add(_ message: String) {
        messages.withLock { $0.append(message) }
    }

    var all: [String] { messages.withLock { $0 } }
}

/// The write pattern of one `xrbench run`: its own stages, plus stages that another run on the
/// same spec records as well (shared keys must end with one copy of their rows).
func simulateRun(path: URL, writer: Int, stages: Int, sharedStages: Int) throws {
    let store = try ResultStore(path: path)
    let runID = try store.beginRun(SampleData.run(experiment: "writer-\(writer)"))
    for index in 0..<stages {
        for (key, tag) in [("w\(writer)-\(index)", 1000 * (writer + 1) + index),
                           ("shared-\(index % sharedStages)", 100 + index % sharedStages)] {
            try store.recordStageExecution(SampleData.execution(runID: runID, stageKey: key, status: .running))
            try store.recordOutputs(SampleData.outputs(tag: tag), stageKey: key, runID: runID)
            try store.recordStageExecution(SampleData.execution(runID: runID, stageKey: key))
        }
    }
    try store.finishRun(id: runID, status: .succeeded, endedAt: Date())
}

@Suite struct ConcurrentWriterTests {
    /// Two separate `ResultStore`s (separate pools, separate SQLite connections, so SQLite's file
    /// locks arbitrate exactly as between processes) open a fresh file at the same instant and
    /// write interleaved transactions: both finish, nothing is lost or duplicated.
    @Test func twoStoresWritingOneFileAtOnceBothFinish() throws {
        let path = try SampleData.temporaryDatabase()
        let stages = 60, sharedStages = 5
        let failures = FailureLog()
        DispatchQueue.concurrentPerform(iterations: 2) { writer in
            do {
                try simulateRun(path: path, writer: writer, stages: stages, sharedStages: sharedStages)
            } catch {
                failures.add("writer \(writer): \(error)")
            }
        }
        #expect(failures.all == [])

        let reader = try ResultStore.openReadOnly(path: path)
        let stageCount = 2 * stages + sharedStages
        let counts = try reader.query("""
            SELECT (SELECT count(*) FROM stage_output), (SELECT count(*) FROM result),
                   (SELECT count(*) FROM bootstrap_replicate), (SELECT count(*) FROM statistical_test),
                   (SELECT count(*) FROM prediction), (SELECT count(*) FROM stage_execution),
                   (SELECT count(*) FROM run WHERE status = 'succeeded')
            """)
        let expected: [Int64] = [stageCount, 2 * stageCount, 3 * stageCount, stageCount, 4 * stageCount,
                                 2 * (stages + sharedStages), 2].map { Int64($0) }
        #expect(counts.rows == [expected.map { QueryValue.integer($0) }])
        // Every writer's own stages are all there, with the values it wrote.
        let ownSeeds = try reader.query("SELECT seed FROM result WHERE metric = 'auroc' AND stage_key LIKE 'w1-%' ORDER BY seed")
        #expect(ownSeeds.rows == (0..<stages).map { [QueryValue.integer(Int64(2000 + $0))] })
    }
}
