import Foundation
import Testing
import TestSupport

/// The real `xrbench run` killed with SIGKILL at several moments and resumed gives the same
/// results as an uninterrupted run; two `xrbench run` processes on one database both finish.
@Suite(.serialized) struct KillAndResumeTests {
    static let spec = """
        experiment: kill-resume
        backbones:
          pixels: {kind: pixels, size: 8}
          vit-tiny-random: {kind: vit-tiny-random, seed: 0, resolution: 56}
        datasets:
          phantom: {kind: phantom, count: 160, seed: 3, size: 96}
        heads:
          quick: {kind: mlp, hidden: [16], max_epochs: 8, early_stop_patience: 3}
        tasks:
          - name: retrieval-view
            kind: retrieval
            k: [5, 10]
            relevance: view
            matrix: {backbone: [pixels, vit-tiny-random], dataset: [phantom]}
          - name: anatomy
            kind: classification
            labels: [anatomy]
            target: multiclass
            metric: [mcc, accuracy]
            matrix: {backbone: [pixels, vit-tiny-random], dataset: [phantom], head: [quick], fraction: [0.5, 1.0], seed: [0, 1, 2]}
          - name: fairness-sex
            kind: fairness
            labels: [marker]
            bootstrap: {replicates: 20, seed: 1}
            matrix: {backbone: [pixels], dataset: [phantom], head: [quick], train: [male, female, all], test: [male, female]}
        """

    /// Every recorded number, in a canonical order, as CSV.
    static let everything = """
        SELECT 'result', experiment, task, backbone, head, features, fraction, seed, train_subgroup, test_subgroup,
               label, metric, value, note FROM result
        UNION ALL SELECT 'test', experiment, task, backbone, group1, group2, NULL, NULL, train_subgroup, test_subgroup,
               label, method, statistic, p_value FROM statistical_test
        UNION ALL SELECT 'replicates', experiment, task, backbone, head, features, fraction, seed, train_subgroup,
               test_subgroup, label, metric, sum(value), count(*) FROM bootstrap_replicate
               GROUP BY experiment, task, backbone, head, features, fraction, seed, train_subgroup, test_subgroup, label, metric
        ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
        """

    private func project() throws -> URL {
        let folder = try makeTemporaryDirectory("xrbench-kill")
        try Data(Self.spec.utf8).write(to: folder.appendingPathComponent("spec.yaml"))
        return folder
    }

    private func results(in folder: URL, database: String = "results/xrbench.sqlite") throws -> String {
        let query = try CLI.run(["query", Self.everything, "--db", database, "--format", "csv"], in: folder)
        #expect(query.status == 0, "\(query.errorOutput)")
        return query.output
    }

    @Test func killedRunsResumeToTheUninterruptedResults() throws {
        let reference = try project()
        let uninterrupted = try CLI.run(["run", "spec.yaml"], in: reference)
        #expect(uninterrupted.status == 0, "\(uninterrupted.errorOutput)")
        let expected = try results(in: reference)
        #expect(expected.split(whereSeparator: \.isNewline).count > 40)

        // Kill one run at several moments (early: manifest/embedding; later: probes, bootstrap),
        // resuming in between, then finish it; the results must not depend on where it died.
        let killed = try project()
        var kills = 0
        for delay in [0.15, 0.4, 0.8, 1.3, 2.0] {
            let process = try CLI.start(["run", "spec.yaml"], in: killed)
            Thread.sleep(forTimeInterval: delay)
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
        }
        #expect(kills >= 2, "the run finished before most kills; the test no longer exercises a crash")
        let resumed = try CLI.run(["run", "spec.yaml"], in: killed)
        #expect(resumed.status == 0, "\(resumed.errorOutput)")
        #expect(try results(in: killed) == expected)
        // The resumed run noticed that the killed runs' processes are gone and marked them (a
        // process killed before it recorded its run left no row).
        let statuses = try CLI.run(["query", "SELECT count(*) FILTER (WHERE status = 'interrupted') AS i, "
                                    + "count(*) FILTER (WHERE status = 'running') AS r FROM run", "--format", "csv"], in: killed)
        let counts = statuses.output.split(whereSeparator: \.isNewline).last.map { $0.split(separator: ",").compactMap { Int($0) } }
        #expect(counts?.count == 2 && counts![0] >= 1 && counts![0] <= kills && counts![1] == 0, "\(statuses.output)")
        let stages = try CLI.run(["query", "SELECT count(*) AS n FROM stage_execution WHERE status = 'running'",
                                  "--format", "csv"], in: killed)
        #expect(stages.output.contains("\n0"), "\(stages.output)")

        // A finished spec re-runs from the cache and records no duplicate rows.
        let again = try CLI.run(["run", "spec.yaml"], in: killed)
        #expect(again.status == 0)
        #expect(again.output.contains(" 0 computed"), "\(again.output)")
        #expect(try results(in: killed) == expected)
    }

    @Test func twoRunsOnOneDatabaseBothFinish() throws {
        let reference = try project()
        #expect(try CLI.run(["run", "spec.yaml"], in: reference).status == 0)
        let expected = try results(in: reference)

        let shared = try project()
        let first = try CLI.start(["run", "spec.yaml"], in: shared)
        let second = try CLI.start(["run", "spec.yaml"], in: shared)
        first.waitUntilExit()
        second.waitUntilExit()
        #expect(first.terminationStatus == 0 && second.terminationStatus == 0)
        #expect(try results(in: shared) == expected)
    }
}
