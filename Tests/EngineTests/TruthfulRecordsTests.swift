import Engine
import Foundation
import Pipeline
import Results
import Testing

/// Every stage of every run is recorded with its status, and the `latest_` views show what the
/// current spec computes.
@Suite struct TruthfulRecordsTests {
    func statuses(_ project: TestProject, run: Int64) throws -> [String: Int] {
        let table = try ResultStore.openReadOnly(path: project.configuration.databasePath)
            .query("SELECT status, count(*) FROM stage_execution WHERE run_id = \(run) GROUP BY status")
        return Dictionary(uniqueKeysWithValues: table.rows.map { ($0[0].textValue ?? "", Int($0[1].doubleValue ?? -1)) })
    }

    func latestValues(_ project: TestProject) throws -> [String] {
        let table = try ResultStore.openReadOnly(path: project.configuration.databasePath).query("""
            SELECT task || '/' || backbone || '/' || coalesce(fraction, '') || '/' || coalesce(seed, '') || '=' || value
            FROM latest_result ORDER BY 1
            """)
        return table.rows.compactMap { $0.first?.textValue }
    }

    @Test func everyStageOfEveryRunHasAnExecutionRow() throws {
        var project = try TestProject()
        let first = try project.run(demoSpec())
        #expect(try statuses(project, run: first.runID) == ["succeeded": 25])
        let second = try project.run(demoSpec())
        #expect(try statuses(project, run: second.runID) == ["cached": 25])
        // A failure: the failed stage, what it blocks, and the rest.
        project.configuration.registry = countingRegistry(project.counter, failing: "probe findings tiny")
        let third = try project.run(demoSpec(dropout: 0.3))
        #expect(try statuses(project, run: third.runID) == ["cached": 9, "succeeded": 8, "failed": 4, "blocked": 4])
    }

    @Test func revertingAParameterMakesTheOldValuesCurrentAgain() throws {
        let project = try TestProject()
        _ = try project.run(demoSpec(dropout: 0.2))
        let original = try latestValues(project)
        _ = try project.run(demoSpec(dropout: 0.3))
        let changed = try latestValues(project)
        #expect(changed.count == original.count)
        #expect(changed != original)
        // The revert computes nothing, and the tables show the first run's values again.
        let reverted = try project.run(demoSpec(dropout: 0.2))
        #expect(reverted.executed == 0)
        #expect(try latestValues(project) == original)
    }

    @Test func coordinatesTheSpecNoLongerComputesLeaveTheLatestViews() throws {
        let project = try TestProject()
        _ = try project.run(demoSpec())
        #expect(try latestValues(project).contains { $0.hasPrefix("views/") })
        // The same experiment without its retrieval task: its rows are no longer current.
        let withoutRetrieval = demoSpec().components(separatedBy: "  - name: views")[0]
        _ = try project.run(withoutRetrieval)
        #expect(try !latestValues(project).contains { $0.hasPrefix("views/") })
        #expect(try project.count("SELECT count(*) FROM result WHERE task = 'views'") == 2)
    }

    @Test func anInterruptedRunDoesNotDisplaceTheLastFinishedOne() throws {
        var project = try TestProject()
        _ = try project.run(demoSpec(dropout: 0.2))
        let finished = try latestValues(project)
        project.configuration.registry = countingRegistry(project.counter, interruptAt: "probe findings tiny")
        let interrupted = try project.run(demoSpec(dropout: 0.3))
        #expect(interrupted.status == .interrupted)
        #expect(try latestValues(project) == finished)
    }

    @Test func runsWithValuelessResultsSayHowManyAndWhy() throws {
        var project = try TestProject()
        var registry = Registry.standard
        registry.register(runner: ValuelessMetricRunner())
        for kind in [StageKind.manifest, .embed, .split, .probe, .retrieval] {
            registry.register(runner: CountingRunner(kind: kind, counter: project.counter))
        }
        project.configuration.registry = registry
        let report = try project.run(demoSpec())
        #expect(report.valuelessResults.count == 8)
        let summary = report.summary
        #expect(summary.contains("8 results without a value"))
        #expect(summary.contains("8 × test subgroup all has N positive samples"))
    }
}

/// A metric runner whose every result has no value, with a reason carrying a count.
struct ValuelessMetricRunner: StageRunner {
    var kind: StageKind { .metric }

    func run(_ context: StageContext) throws -> StageOutputs {
        try Data("x".utf8).write(to: context.outputDirectory.appendingPathComponent("artifact.txt"))
        let positives = Int(context.stage.key.rawValue.prefix(2), radix: 16)! % 3
        return StageOutputs(results: [ResultRow(coordinates: context.resultCoordinates(label: "nodule"), metric: "auroc", value: nil,
                                                note: "test subgroup all has \(positives) positive samples", sampleCount: 0)])
    }
}
