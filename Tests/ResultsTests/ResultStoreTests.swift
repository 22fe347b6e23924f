import Foundation
import Results
import Testing

@Suite struct ResultStoreTests {
    @Test func migratesAFreshFileAndCreatesItsFolder() throws {
        let path = try SampleData.temporaryDatabase()
        let store = try ResultStore(path: path)
        #expect(FileManager.default.fileExists(atPath: path.path))
        let reader = try ResultStore.openReadOnly(path: store.path)
        let tables = try reader.query("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
        #expect(tables.rows.compactMap { $0.first?.textValue } == [
            "bootstrap_replicate", "current_run", "current_stage", "grdb_migrations", "latest_bootstrap_replicate", "latest_result",
            "latest_sample_issue", "latest_segmentation_score", "latest_statistical_test", "latest_training_curve", "prediction", "result", "run", "sample_issue",
            "segmentation_score", "sqlite_sequence", "stage_execution", "stage_output", "statistical_test", "training_curve",
        ])
        // WAL mode: the write-ahead log sits beside the file while the store is open.
        #expect(FileManager.default.fileExists(atPath: path.path + "-wal"))
        // Opening again applies nothing twice.
        _ = try ResultStore(path: path)
        #expect(try reader.query("SELECT count(*) FROM grdb_migrations").rows == [[.integer(8)]])
    }

    @Test func recordsRunsAndStageExecutions() throws {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let runID = try store.beginRun(SampleData.run())
        try store.recordStageExecution(SampleData.execution(runID: runID, stageKey: "k1", status: .running))
        try store.recordStageExecution(SampleData.execution(runID: runID, stageKey: "k1", status: .failed,
                                                            error: "probe diverged: loss is NaN at epoch 3"))
        try store.recordStageExecution(SampleData.execution(runID: runID, stageKey: "k2", status: .cached))
        try store.finishRun(id: runID, status: .failed, endedAt: Date(timeIntervalSince1970: 1_790_000_100))

        let runs = try ResultStore.openReadOnly(path: store.path).runs()
        #expect(runs.count == 1)
        #expect(runs[0].id == runID)
        #expect(runs[0].record == SampleData.run())
        #expect(runs[0].status == .failed)
        #expect(runs[0].endedAt == Date(timeIntervalSince1970: 1_790_000_100))
        #expect(runs[0].stageCounts == [.failed: 1, .cached: 1])
        #expect(runs[0].failedStages.map(\.errorMessage) == ["probe diverged: loss is NaN at epoch 3"])
        #expect(try store.referencedStageKeys() == ["k1", "k2"])
        #expect(RunSummary.report(runs) == """
            run 1  demo  failed  started 2026-09-21T14:13:20Z  ended 2026-09-21T14:15:00Z  host test-host  \
            engine 0.1.0  commit 4680f83  spec abababababab
              stages: 1 failed, 1 cached
              failed metric k1: probe diverged: loss is NaN at epoch 3

            """)
        #expect(RunSummary.report([]) == "no runs recorded\n")
    }

    @Test func finishingAnUnknownRunIsATypedError() throws {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        #expect(throws: ResultsError.unknownRun(id: 42, path: store.path.path)) {
            try store.finishRun(id: 42, status: .succeeded, endedAt: Date())
        }
    }

    @Test func schemaRulesRejectBadRows() throws {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let runID = try store.beginRun(SampleData.run())
        // A failed stage needs its error message; parameters must be JSON; the run must exist.
        #expect(throws: ResultsError.self) {
            try store.recordStageExecution(SampleData.execution(runID: runID, stageKey: "k", status: .failed))
        }
        var notJSON = SampleData.execution(runID: runID, stageKey: "k")
        notJSON.parametersJSON = "{metric: auroc"
        #expect(throws: ResultsError.self) { try store.recordStageExecution(notJSON) }
        #expect(throws: ResultsError.self) {
            try store.recordStageExecution(SampleData.execution(runID: runID + 1, stageKey: "k"))
        }
        // A value that is not computable needs a note; nothing of the stage is kept then.
        let bad = StageOutputs(results: [ResultRow(coordinates: SampleData.coordinates(), metric: "auroc",
                                                   value: nil, sampleCount: 3)])
        do {
            try store.recordOutputs(bad, stageKey: "bad", runID: runID)
            Issue.record("a nil value without a note was accepted")
        } catch let error as ResultsError {
            #expect(error.description.contains("CHECK constraint failed"))
            #expect(error.description.contains("stage bad"))
        }
        #expect(try store.hasOutputs(stageKey: "bad") == false)
    }

    @Test func recordingAStageTwiceKeepsOneCopyOfItsRows() throws {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let runID = try store.beginRun(SampleData.run())
        #expect(try store.hasOutputs(stageKey: "stage-a") == false)
        try store.recordOutputs(SampleData.outputs(tag: 1), stageKey: "stage-a", runID: runID)
        try store.recordOutputs(SampleData.outputs(tag: 2), stageKey: "stage-b", runID: runID)
        try store.recordOutputs(SampleData.outputs(tag: 1), stageKey: "stage-a", runID: runID)
        #expect(try store.hasOutputs(stageKey: "stage-a"))
        #expect(try store.outputs(stageKey: "stage-a") == SampleData.outputs(tag: 1))
        #expect(try store.outputs(stageKey: "missing") == nil)

        let reader = try ResultStore.openReadOnly(path: store.path)
        let counts = try reader.query("""
            SELECT (SELECT count(*) FROM result), (SELECT count(*) FROM bootstrap_replicate),
                   (SELECT count(*) FROM statistical_test), (SELECT count(*) FROM prediction),
                   (SELECT count(*) FROM stage_output)
            """)
        #expect(counts.rows == [[.integer(4), .integer(6), .integer(2), .integer(8), .integer(2)]])

        // Re-recording with fewer rows leaves exactly the new rows.
        try store.recordOutputs(SampleData.outputs(tag: 1, replicates: 1, predictions: 1), stageKey: "stage-a", runID: runID)
        #expect(try reader.query("SELECT count(*) FROM prediction WHERE stage_key = 'stage-a'").rows == [[.integer(1)]])
    }

    @Test func latestResultPrefersTheStageMostRecentlyUsed() throws {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let first = try store.beginRun(SampleData.run())
        // Two stages (say, two learning rates) produce the same coordinates with different values.
        let old = StageOutputs(results: [ResultRow(coordinates: SampleData.coordinates(), metric: "auroc", value: 0.6, sampleCount: 9)])
        let new = StageOutputs(results: [ResultRow(coordinates: SampleData.coordinates(), metric: "auroc", value: 0.8, sampleCount: 9)])
        try store.recordOutputs(old, stageKey: "old", runID: first)
        try store.recordStageExecution(SampleData.execution(runID: first, stageKey: "old"))
        try store.recordOutputs(new, stageKey: "new", runID: first)
        try store.recordStageExecution(SampleData.execution(runID: first, stageKey: "new"))
        let reader = try ResultStore.openReadOnly(path: store.path)
        #expect(try reader.query("SELECT value FROM latest_result").rows == [[.real(0.8)]])
        // The parameter is reverted: the next run takes "old" from the cache, and it wins again.
        let second = try store.beginRun(SampleData.run())
        try store.recordStageExecution(SampleData.execution(runID: second, stageKey: "old", status: .cached))
        #expect(try reader.query("SELECT value FROM latest_result").rows == [[.real(0.6)]])
        #expect(try reader.query("SELECT count(*) FROM result").rows == [[.integer(2)]])
    }
}

@Suite struct CorruptDatabaseTests {
    @Test func aFileThatIsNotADatabaseIsATypedError() throws {
        let path = try SampleData.temporaryDatabase()
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(String(repeating: "not sqlite ", count: 100).utf8).write(to: path)
        do {
            _ = try ResultStore(path: path)
            Issue.record("opened a file that is not a database")
        } catch let error as ResultsError {
            #expect(error.description.hasPrefix("cannot open the results database \(path.path): "))
            #expect(error.description.contains("not a database"))
        }
        do {
            let reader = try ResultStore.openReadOnly(path: path)
            _ = try reader.query("SELECT count(*) FROM run")
            Issue.record("queried a file that is not a database")
        } catch let error as ResultsError {
            #expect(error.description.contains("not a database"), "\(error)")
        }
    }
}

@Suite struct BatchTests {
    /// A fully cached re-run of a large plan: one transaction for every `cached` execution and
    /// one query for the output lookup.
    @Test func recordsAThousandCachedExecutionsAtOnce() throws {
        let store = try ResultStore(path: try SampleData.temporaryDatabase())
        let runID = try store.beginRun(SampleData.run())
        let keys = (0..<1_200).map { "stage-\($0)" }
        for key in keys.prefix(3) {
            try store.recordOutputs(StageOutputs(), stageKey: key, runID: runID)
        }
        #expect(try store.stageKeysWithOutputs(among: keys + ["unknown"]) == ["stage-0", "stage-1", "stage-2"])
        #expect(try store.stageKeysWithOutputs(among: [String]()) == [])

        try store.recordStageExecutions(keys.map { SampleData.execution(runID: runID, stageKey: $0, status: .cached) })
        try store.recordStageExecutions(keys.map { SampleData.execution(runID: runID, stageKey: $0, status: .cached) })
        let reader = try ResultStore.openReadOnly(path: store.path)
        #expect(try reader.query("SELECT count(*), min(status), max(status) FROM stage_execution").rows
            == [[.integer(1_200), .text("cached"), .text("cached")]])

        // One bad execution rejects the whole batch.
        var batch = [SampleData.execution(runID: runID, stageKey: "new-1")]
        batch.append(SampleData.execution(runID: runID, stageKey: "new-2", status: .failed))
        #expect(throws: ResultsError.self) { try store.recordStageExecutions(batch) }
        #expect(try reader.query("SELECT count(*) FROM stage_execution WHERE stage_key LIKE 'new-%'").rows == [[.integer(0)]])
    }
}
