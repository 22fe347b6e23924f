import Foundation
import Results

/// Results databases filled through the Results API with known values, for the CLI tests.
enum ResultsFixtures {
    /// A fixed start time, so printed dates are known.
    static let started = Date(timeIntervalSince1970: 1_700_000_000)

    /// A stage key (64 hex digits) made from a number.
    static func key(_ number: Int) -> String {
        String(repeating: String(format: "%016x", number), count: 4)
    }

    /// Seed values per backbone and fraction of the `cli-test` experiment's `findings` task:
    /// means 0.620/0.710, 0.740/0.830, 0.660/0.900 and standard deviations 0.020/0.010,
    /// 0.040/0.030, 0.010/0.000. Listed out of spec order, so the table's order must come from the spec.
    static let findingsValues: [(backbone: String, fraction: Double, values: [Double])] = [
        ("vit-tiny-2", 0.1, [0.65, 0.66, 0.67]), ("vit-tiny-2", 1.0, [0.90, 0.90, 0.90]),
        ("pixels", 0.1, [0.60, 0.62, 0.64]), ("pixels", 1.0, [0.70, 0.71, 0.72]),
        ("vit-tiny", 0.1, [0.70, 0.74, 0.78]), ("vit-tiny", 1.0, [0.80, 0.83, 0.86]),
    ]

    /// The spec declaring the `cli-test` table (its backbone order is pixels, vit-tiny, vit-tiny-2).
    static let findingsSpec = """
        experiment: cli-test
        backbones:
          pixels: {kind: pixels, size: 16}
          vit-tiny: {kind: vit-tiny-random, seed: 0}
          vit-tiny-2: {kind: vit-tiny-random, seed: 1}
        datasets:
          phantom: {kind: phantom, count: 10, seed: 1}
        tasks:
          - name: findings
            kind: classification
            labels: [nodule]
            metric: auroc
            matrix:
              backbone: [pixels, vit-tiny, vit-tiny-2]
              dataset: [phantom]
              fraction: [0.1, 1.0]
              seed: [0, 1, 2]
        tables:
          - name: findings-auroc
            tasks: findings
            rows: backbone
            columns: fraction
            metric: auroc
            summary: mean-std
            caption: AUROC on phantom findings

        """

    /// Fills `url` with one run of `cli-test`: an AUROC per backbone, fraction and seed
    /// (label `mean`, plus a per-label `nodule` row the table must leave out).
    /// - Returns: the stage keys by (backbone, fraction, seed).
    @discardableResult
    static func fillFindings(_ url: URL) throws -> [String: String] {
        let store = try ResultStore(path: url)
        let runID = try store.beginRun(RunRecord(specDigest: key(999), experiment: "cli-test", engineVersion: "0.1.0",
                                                 gitCommit: "0123abc", host: "testhost", startedAt: started))
        var keys: [String: String] = [:]
        var number = 1
        for (backbone, fraction, values) in findingsValues {
            for (seed, value) in values.enumerated() {
                let stageKey = key(number)
                number += 1
                keys["\(backbone) \(fraction) \(seed)"] = stageKey
                try store.recordStageExecution(StageExecutionRecord(
                    runID: runID, stageKey: stageKey, kind: "metric", parametersJSON: "{\"seed\": \(seed)}",
                    status: .succeeded, seconds: 0.5))
                let mean = ResultCoordinates(experiment: "cli-test", task: "findings", backbone: backbone, dataset: "phantom",
                                             head: "mlp", features: "cls", fraction: fraction, seed: seed, label: "mean")
                var nodule = mean
                nodule.label = "nodule"
                try store.recordOutputs(StageOutputs(results: [
                    ResultRow(coordinates: mean, metric: "auroc", value: value, sampleCount: 40),
                    ResultRow(coordinates: nodule, metric: "auroc", value: 0.1, sampleCount: 40),
                ]), stageKey: stageKey, runID: runID)
                try store.recordStageExecution(StageExecutionRecord(runID: runID, stageKey: stageKey, kind: "metric", parametersJSON: "{}", status: .succeeded))
            }
        }
        try store.finishRun(id: runID, status: .succeeded, endedAt: started.addingTimeInterval(60))
        return keys
    }

    /// Fills `url` with MCCs of two QC tasks at fraction 1 and seed 0: `anatomy` from CLS features
    /// (0.9), `marker` from CLS (0.3) and mean-pooled patch tokens (0.7).
    static func fillQC(_ url: URL) throws {
        let store = try ResultStore(path: url)
        let runID = try store.beginRun(RunRecord(specDigest: key(70), experiment: "cli-qc", engineVersion: "0.1.0",
                                                 gitCommit: nil, host: "testhost", startedAt: started))
        for (number, (task, features, value)) in [("anatomy", "cls", 0.9), ("marker", "cls", 0.3), ("marker", "mean", 0.7)].enumerated() {
            let at = ResultCoordinates(experiment: "cli-qc", task: task, backbone: "pixels", dataset: "phantom", head: "mlp",
                                       features: features, fraction: 1, seed: 0, label: task)
            try store.recordOutputs(StageOutputs(results: [ResultRow(coordinates: at, metric: "mcc", value: value, sampleCount: 30)]),
                                    stageKey: key(400 + number), runID: runID)
            try store.recordStageExecution(StageExecutionRecord(runID: runID, stageKey: key(400 + number), kind: "metric", parametersJSON: "{}", status: .succeeded))
        }
        try store.finishRun(id: runID, status: .succeeded, endedAt: started.addingTimeInterval(10))
    }

    /// Fills `url` with two runs: one that succeeded, one with a failed and a blocked stage.
    static func fillRuns(_ url: URL) throws {
        let store = try ResultStore(path: url)
        let first = try store.beginRun(RunRecord(specDigest: key(7), experiment: "demo", engineVersion: "0.1.0",
                                                 gitCommit: "0123abc", host: "testhost", startedAt: started))
        try store.recordStageExecution(StageExecutionRecord(runID: first, stageKey: key(1), kind: "manifest",
                                                            parametersJSON: "{}", status: .succeeded, seconds: 1))
        try store.recordStageExecution(StageExecutionRecord(runID: first, stageKey: key(2), kind: "embed",
                                                            parametersJSON: "{}", status: .succeeded, seconds: 2))
        try store.finishRun(id: first, status: .succeeded, endedAt: started.addingTimeInterval(90))
        let second = try store.beginRun(RunRecord(specDigest: key(8), experiment: "demo", engineVersion: "0.1.0",
                                                  gitCommit: nil, host: "testhost", startedAt: started.addingTimeInterval(3600)))
        try store.recordStageExecution(StageExecutionRecord(runID: second, stageKey: key(1), kind: "manifest",
                                                            parametersJSON: "{}", status: .cached))
        try store.recordStageExecution(StageExecutionRecord(
            runID: second, stageKey: key(3), kind: "probe", parametersJSON: "{\"seed\": 0}", status: .failed, seconds: 3,
            errorMessage: "probe diverged: the loss became NaN; lower the learning rate"))
        try store.recordStageExecution(StageExecutionRecord(runID: second, stageKey: key(4), kind: "metric",
                                                            parametersJSON: "{}", status: .blocked))
        try store.finishRun(id: second, status: .failed, endedAt: started.addingTimeInterval(3700))
    }

    /// Fills `url` with a fairness task: 20 AUROC replicates per training and test subgroup
    /// (male, female) and two Mann–Whitney tests, p = 0.0004 (`***`) on male and 0.3 (`ns`) on female.
    static func fillFairness(_ url: URL) throws {
        let store = try ResultStore(path: url)
        let runID = try store.beginRun(RunRecord(specDigest: key(50), experiment: "cli-fair", engineVersion: "0.1.0",
                                                 gitCommit: nil, host: "testhost", startedAt: started))
        var number = 100
        for train in ["male", "female"] {
            for test in ["male", "female"] {
                let at = ResultCoordinates(experiment: "cli-fair", task: "sex", backbone: "vit-tiny", dataset: "phantom",
                                           head: "mlp", features: "cls", fraction: 1, seed: 0, trainSubgroup: train,
                                           testSubgroup: test, label: "nodule")
                let base = train == test ? 0.8 : 0.7
                let stageKey = key(number)
                number += 1
                try store.recordOutputs(StageOutputs(
                    results: [ResultRow(coordinates: at, metric: "auroc", value: base, sampleCount: 50),
                              ResultRow(coordinates: at, metric: "auroc-ci-low", value: base - 0.1, sampleCount: 50)],
                    bootstrapReplicates: (0..<20).map {
                        BootstrapReplicateRow(coordinates: at, metric: "auroc", replicate: $0, value: base + Double($0 % 7) * 0.01)
                    }), stageKey: stageKey, runID: runID)
                try store.recordStageExecution(StageExecutionRecord(runID: runID, stageKey: stageKey, kind: "metric", parametersJSON: "{}", status: .succeeded))
            }
        }
        var family = ResultCoordinates(experiment: "cli-fair", task: "sex", backbone: "vit-tiny", dataset: "phantom",
                                       head: "mlp", features: "cls", fraction: 1, seed: 0, trainSubgroup: "",
                                       testSubgroup: "male", label: "nodule")
        var tests = [StatisticalTestRow(coordinates: family, metric: "auroc", testName: "mann-whitney-u",
                                        comparedDimension: "train_subgroup", group1: "male", group2: "female",
                                        statistic: 390, pValue: 0.0004, effectSize: 0.95, count1: 20, count2: 20, method: .exact)]
        family.testSubgroup = "female"
        tests.append(StatisticalTestRow(coordinates: family, metric: "auroc", testName: "mann-whitney-u",
                                        comparedDimension: "train_subgroup", group1: "male", group2: "female",
                                        statistic: 160, pValue: 0.3, effectSize: -0.2, count1: 20, count2: 20, method: .exact))
        try store.recordOutputs(StageOutputs(statisticalTests: tests), stageKey: key(200), runID: runID)
        try store.recordStageExecution(StageExecutionRecord(runID: runID, stageKey: key(200), kind: "metric", parametersJSON: "{}", status: .succeeded))
        try store.finishRun(id: runID, status: .succeeded, endedAt: started.addingTimeInterval(10))
    }

    /// Fills `url` with a retrieval task whose stage recorded, for two queries, their neighbours
    /// among `sampleIDs` (score falling with distance in the list; every other one relevant).
    static func fillRetrieval(_ url: URL, sampleIDs: [String], task: String = "view", value: Double = 0.6,
                              stageNumber: Int = 300) throws {
        try fillRetrieval(url, sampleIDs: sampleIDs, tasks: [(task, value, stageNumber)])
    }

    /// Fills `url` with one run of several retrieval tasks, each recorded by one stage.
    static func fillRetrieval(_ url: URL, sampleIDs: [String], tasks: [(name: String, value: Double, stageNumber: Int)]) throws {
        let store = try ResultStore(path: url)
        let runID = try store.beginRun(RunRecord(specDigest: key(60), experiment: "cli-retrieval", engineVersion: "0.1.0",
                                                 gitCommit: nil, host: "testhost", startedAt: started))
        for (task, value, stageNumber) in tasks {
            // The engine's retrieval stages label their results with the relevance, here the task's name.
            let at = ResultCoordinates(experiment: "cli-retrieval", task: task, backbone: "pixels", dataset: "phantom",
                                       head: "", features: "cls", fraction: nil, seed: nil, label: task)
            var predictions: [PredictionRow] = []
            for query in sampleIDs.prefix(2) {
                for (rank, neighbour) in sampleIDs.filter({ $0 != query }).enumerated() {
                    predictions.append(PredictionRow(sampleID: query, label: neighbour, score: 0.99 - Double(rank) * 0.1,
                                                     target: rank % 2 == 0 ? 1 : 0))
                }
            }
            try store.recordOutputs(StageOutputs(
                // 200 queries: above the small-sample threshold, so the tables carry no ‡ mark.
                results: [ResultRow(coordinates: at, metric: "precision@5", value: value, sampleCount: 200)],
                predictions: predictions), stageKey: key(stageNumber), runID: runID)
            try store.recordStageExecution(StageExecutionRecord(runID: runID, stageKey: key(stageNumber), kind: "retrieval",
                                                                parametersJSON: "{}", status: .succeeded))
        }
        try store.finishRun(id: runID, status: .succeeded, endedAt: started.addingTimeInterval(10))
    }
}
