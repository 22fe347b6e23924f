import Engine
import Foundation
import Pipeline
import Results
import Testing

@Suite struct ConcurrentRunTests {
    /// Two runs of one spec at once, on one cache and one database (as two `xrbench run`
    /// processes would be): both finish, each stage is computed once (per-stage file locks),
    /// and no row is lost or duplicated.
    @Test func twoRunsAtOnceComputeEachStageOnceAndRecordEachRowOnce() async throws {
        let project = try TestProject()
        let url = try project.spec(demoSpec())
        let configuration = project.configuration
        async let first = Task.detached { try Engine.run(specURL: url, configuration: configuration) }.value
        async let second = Task.detached { try Engine.run(specURL: url, configuration: configuration) }.value
        let reports = try await [first, second]
        #expect(reports.allSatisfy { $0.status == .succeeded }, "\(reports.map(\.summary))")
        let executed: Int = reports[0].executed + reports[1].executed
        let cached: Int = reports[0].cached + reports[1].cached
        #expect(executed == 25 && cached == 25)
        let calls = project.counter.take()
        let totalCalls: Int = calls.values.reduce(0, +)
        #expect(totalCalls == 25, "\(calls)")
        #expect(try project.count("SELECT count(*) FROM result") == 10)
        #expect(try project.count("SELECT count(*) FROM (SELECT stage_key FROM result GROUP BY stage_key HAVING count(*) > 1)") == 0)
        #expect(try project.count("SELECT count(*) FROM run WHERE status = 'succeeded'") == 2)
    }
}
