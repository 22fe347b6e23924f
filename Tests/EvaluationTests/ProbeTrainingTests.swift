import Testing
@testable import Evaluation

@Suite struct ProbeTrainingTests {
    /// Linearly separable-ish multi-label data: label j is positive when feature j + noise > 0.
    static func makeData(samples: Int, width: Int, labels: Int, seed: UInt64, prefix: String) -> ProbeData {
        var generator = SeededGenerator(seed: seed)
        var features: [Float] = [], targets: [Double] = []
        for _ in 0..<samples {
            let row = (0..<width).map { _ in 2 * generator.nextUnitFloat() - 1 }
            features += row
            for label in 0..<labels {
                targets.append(row[label] + 0.3 * (2 * generator.nextUnitFloat() - 1) > 0 ? 1 : 0)
            }
        }
        return ProbeData(features: features, width: width, targets: targets,
                         sampleIDs: (0..<samples).map { "\(prefix)\($0)" }, studyIDs: (0..<samples).map { "\(prefix)study\($0 / 2)" })
    }

    static func quickConfiguration(seed: UInt64) -> ProbeTrainingConfiguration {
        var configuration = ProbeTrainingConfiguration(seed: seed)
        configuration.learningRate = 3e-3
        configuration.maximumEpochs = 40
        configuration.earlyStoppingPatience = 5
        return configuration
    }

    @Test(arguments: [ProbeHead.mlp(hidden: [16, 8], dropout: 0.2), .linear])
    func learnsSeparableLabelsDeterministically(head: ProbeHead) throws {
        let names = ["a", "b", "c"]
        let train = Self.makeData(samples: 600, width: 10, labels: 3, seed: 1, prefix: "tr")
        let validation = Self.makeData(samples: 200, width: 10, labels: 3, seed: 2, prefix: "va")
        let test = Self.makeData(samples: 300, width: 10, labels: 3, seed: 3, prefix: "te")
        let probe = try trainProbe(train: train, validation: validation, task: .multiLabel(names), head: head,
                                   configuration: Self.quickConfiguration(seed: 7))
        let again = try trainProbe(train: train, validation: validation, task: .multiLabel(names), head: head,
                                   configuration: Self.quickConfiguration(seed: 7))
        #expect(probe.network == again.network)
        #expect(probe.epochs == again.epochs)
        let other = try trainProbe(train: train, validation: validation, task: .multiLabel(names), head: head,
                                   configuration: Self.quickConfiguration(seed: 8))
        #expect(other.network != probe.network)

        // The kept weights are those of the best validation epoch.
        let best = probe.epochs.max { $0.validationScore < $1.validationScore }!
        #expect(best.epoch == probe.bestEpoch)
        let predictions = try Self.scored(probe, on: test, outputs: names, multiclass: false)
        #expect(predictions.count == 300 && predictions.scores.count == 300 * 3)
        #expect(predictions.ids[1] == "te1" && predictions.targets[4] == test.targets[4])
        let auroc = predictions.score(AUROC())
        #expect(try #require(auroc.value.value) > 0.9)
        #expect(auroc.labels.map(\.label) == names && auroc.isMeanOverLabels && auroc.leftOut.isEmpty)
    }

    /// Splitting each step over threads must not change a single bit: shapes whose widths do not
    /// divide evenly (and a label count below the thread count) cover uneven and empty blocks.
    @Test(arguments: [ProbeHead.mlp(hidden: [37, 19], dropout: 0.2), .mlp(hidden: [23], dropout: 0.3), .linear])
    func threadCountDoesNotChangeTheResult(head: ProbeHead) throws {
        let names = ["a", "b", "c"]
        let train = Self.makeData(samples: 301, width: 29, labels: 3, seed: 11, prefix: "tr")
        let validation = Self.makeData(samples: 100, width: 29, labels: 3, seed: 12, prefix: "va")
        var configuration = Self.quickConfiguration(seed: 5)
        configuration.maximumEpochs = 6
        configuration.batchSize = 32
        let reference = try trainProbe(train: train, validation: validation, task: .multiLabel(names), head: head,
                                       configuration: configuration, threads: 1)
        for threads in [2, 4] {
            let split = try trainProbe(train: train, validation: validation, task: .multiLabel(names), head: head,
                                       configuration: configuration, threads: threads)
            #expect(split.network == reference.network, "\(threads) threads")
            #expect(split.epochs == reference.epochs, "\(threads) threads")
        }
        // Multi-class too (softmax cross-entropy on every member).
        func classes(_ data: ProbeData) -> ProbeData {
            ProbeData(features: data.features, width: data.width,
                      targets: stride(from: 0, to: data.targets.count, by: 3).map { data.targets[$0] + data.targets[$0 + 1] },
                      sampleIDs: data.sampleIDs)
        }
        let one = try trainProbe(train: classes(train), validation: classes(validation), task: .multiClass(names), head: head,
                                 configuration: configuration, threads: 1)
        let three = try trainProbe(train: classes(train), validation: classes(validation), task: .multiClass(names), head: head,
                                   configuration: configuration, threads: 3)
        #expect(one.network == three.network)
        #expect(one.network != reference.network)
    }

    @Test func earlyStoppingAndPlateau() throws {
        // Pure-noise targets: validation cannot keep improving, so training stops early and the
        // learning rate is halved along the way.
        var train = Self.makeData(samples: 200, width: 6, labels: 1, seed: 4, prefix: "t")
        var generator = SeededGenerator(seed: 5)
        train.targets = train.targets.map { _ in generator.nextIndex(below: 2) == 0 ? 0 : 1 }
        var validation = Self.makeData(samples: 100, width: 6, labels: 1, seed: 6, prefix: "v")
        validation.targets = validation.targets.map { _ in generator.nextIndex(below: 2) == 0 ? 0 : 1 }
        var configuration = Self.quickConfiguration(seed: 1)
        configuration.maximumEpochs = 200
        configuration.earlyStoppingPatience = 10
        let probe = try trainProbe(train: train, validation: validation, task: .multiLabel(["noise"]), head: .paperDefault,
                                   configuration: configuration)
        #expect(probe.stoppedEarly)
        #expect(probe.epochs.count == probe.bestEpoch + 10)
        #expect(probe.epochs.last!.learningRate < configuration.learningRate)
    }

    @Test func multiClass() throws {
        // Class = index of the largest of the first three features.
        let base = Self.makeData(samples: 500, width: 8, labels: 0, seed: 9, prefix: "s")
        func classes(_ data: ProbeData) -> ProbeData {
            var copy = data
            copy.targets = (0..<data.count).map { row in
                let slice = data.features[(row * 8)..<(row * 8 + 3)]
                return Double(slice.firstIndex(of: slice.max()!)! - row * 8)
            }
            return copy
        }
        let train = classes(base)
        let validation = classes(Self.makeData(samples: 150, width: 8, labels: 0, seed: 10, prefix: "v"))
        let test = classes(Self.makeData(samples: 200, width: 8, labels: 0, seed: 11, prefix: "t"))
        let task = ProbeTask.multiClass(["x", "y", "z"])
        let probe = try trainProbe(train: train, validation: validation, task: task, head: .mlp(hidden: [32, 16], dropout: 0.2),
                                   configuration: Self.quickConfiguration(seed: 2))
        #expect(probe.criterion == .negativeLoss)
        let predictions = try Self.scored(probe, on: test, outputs: task.names, multiclass: true)
        // Probabilities of a sample sum to 1.
        #expect(abs(predictions.scores[0..<3].reduce(0, +) - 1) < 1e-5)
        #expect(try #require(predictions.score(MCC()).value.value) > 0.5)
        #expect(try #require(predictions.score(Accuracy()).value.value) > 0.6)
    }

    /// A trained probe's test predictions as the `probe` stage records them (one-hot multi-class truths).
    static func scored(_ probe: TrainedProbe, on data: ProbeData, outputs: [String], multiclass: Bool) throws -> ScoredPredictions {
        let targets: [Double?] = multiclass
            ? data.targets.flatMap { truth in outputs.indices.map { Double($0) == truth ? 1 : 0 } }
            : data.targets
        return try ScoredPredictions(ids: data.sampleIDs, patientIDs: data.sampleIDs, outputs: outputs,
                                     scores: try probe.probabilities(features: data.features).map(Double.init),
                                     targets: targets, multiclass: multiclass, labels: multiclass ? ["class"] : outputs)
    }

    @Test func badProbeInputsThrow() throws {
        let good = Self.makeData(samples: 20, width: 4, labels: 2, seed: 1, prefix: "g")
        let task = ProbeTask.multiLabel(["a", "b"])
        var nanFeatures = good
        nanFeatures.features[5] = .nan
        #expect(throws: EvaluationError.nonFiniteValue(what: "training embedding of sample 'g1'", index: 1)) {
            try trainProbe(train: nanFeatures, validation: good, task: task)
        }
        var uncertain = good
        uncertain.targets[3] = -1
        #expect(throws: EvaluationError.nonBinaryTarget(label: "b", sampleIndex: 1, value: -1)) {
            try trainProbe(train: uncertain, validation: good, task: task)
        }
        var badClass = good
        badClass.targets = (0..<20).map { Double($0 % 4) }
        #expect(throws: EvaluationError.self) {
            try trainProbe(train: badClass, validation: good, task: .multiClass(["x", "y", "z"]))
        }
        var empty = good
        empty.features = []; empty.targets = []; empty.sampleIDs = []
        #expect(throws: EvaluationError.self) { try trainProbe(train: empty, validation: good, task: task) }
        #expect(throws: EvaluationError.self) {
            try trainProbe(train: good, validation: good, task: task, head: .mlp(hidden: [4], dropout: 1))
        }
        #expect(throws: EvaluationError.self) {
            _ = try probeFeatures(cls: [1, 2, 3, .nan], meanPatch: nil, dimension: 2, selection: .cls)
        }
        #expect(throws: EvaluationError.self) {
            _ = try probeFeatures(cls: [1, 2], meanPatch: nil, dimension: 2, selection: .clsAndMeanPatch)
        }
    }

    @Test func featureSelection() throws {
        let cls: [Float] = [1, 2, 3, 4], mean: [Float] = [5, 6, 7, 8]
        #expect(try probeFeatures(cls: cls, meanPatch: mean, dimension: 2, selection: .cls) == (cls, 2))
        #expect(try probeFeatures(cls: cls, meanPatch: mean, dimension: 2, selection: .meanPatch) == (mean, 2))
        let joined = try probeFeatures(cls: cls, meanPatch: mean, dimension: 2, selection: .clsAndMeanPatch)
        #expect(joined.features == [1, 2, 5, 6, 3, 4, 7, 8] && joined.width == 4)
    }
}
