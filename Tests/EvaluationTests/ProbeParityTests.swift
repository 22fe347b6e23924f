import Foundation
import Testing
import TestSupport
@testable import Evaluation

/// Cases recorded by scripts/fixtures/probe.py from PyTorch.
struct ProbeFixture: Decodable {
    struct Case: Decodable {
        var name: String; var task: String; var sizes: [Int]; var features: [Float]; var targets: [Double]
        var batch: Int; var steps: Int; var learningRate: Double; var weightDecay: Double
        var initial: [Float]; var losses: [Double]; var final: [Float]
        enum CodingKeys: String, CodingKey {
            case name, task, sizes, features, targets, batch, steps, initial, losses, final
            case learningRate = "learning_rate", weightDecay = "weight_decay"
        }
    }
    struct Plateau: Decodable { var scores: [Double]; var rates: [Double] }
    var cases: [Case]
    var plateau: Plateau

    static func load() throws -> ProbeFixture {
        let data = try Data(contentsOf: fixturesDirectory().appendingPathComponent("probe.json"))
        return try JSONDecoder().decode(ProbeFixture.self, from: data)
    }
}

@Suite struct ProbeParityTests {
    let fixture: ProbeFixture
    init() throws { fixture = try ProbeFixture.load() }

    @Test func adamStepsMatchPyTorch() throws {
        for testCase in fixture.cases {
            let outputs = testCase.sizes.last!, width = testCase.sizes[0]
            let names = (0..<outputs).map { "c\($0)" }
            let task: ProbeTask = testCase.task == "multiLabel" ? .multiLabel(names) : .multiClass(names)
            let head: ProbeHead = testCase.sizes.count == 2 ? .linear : .mlp(hidden: Array(testCase.sizes.dropFirst().dropLast()), dropout: 0)
            let samples = testCase.features.count / width
            let data = ProbeData(features: testCase.features, width: width, targets: testCase.targets,
                                 sampleIDs: (0..<samples).map { "s\($0)" })
            var configuration = ProbeTrainingConfiguration(seed: 0)
            configuration.batchSize = testCase.batch
            configuration.learningRate = testCase.learningRate
            configuration.weightDecay = testCase.weightDecay
            let trainer = try ProbeTrainer(train: data, validation: data, task: task, head: head, configuration: configuration)
            trainer.setParameters(testCase.initial)
            var losses: [Double] = []
            for step in 0..<testCase.steps {
                let start = (step * testCase.batch) % samples
                losses.append(try trainer.step(rows: Array(start..<(start + testCase.batch))[...], dropout: false))
            }
            expectClose(losses, testCase.losses, tolerance: 1e-5, "\(testCase.name) losses")
            if ProcessInfo.processInfo.environment["XRBENCH_PRINT_PARITY"] != nil {
                print("parity \(testCase.name): loss \(maxAbsoluteDifference(losses, testCase.losses)) weights \(maxAbsoluteDifference(trainer.parameters, testCase.final))")
            }
            expectClose(trainer.parameters, testCase.final, tolerance: 1e-5, "\(testCase.name) weights")
            // The weights moved: the comparison is not against the initial values by accident.
            #expect(maxAbsoluteDifference(trainer.parameters, testCase.initial) > 1e-4)
        }
    }

    @Test func plateauSchedulerMatchesReduceLROnPlateau() {
        var scheduler = PlateauScheduler(factor: 0.5, patience: 2)
        var rate = 1e-4, rates: [Double] = []
        for score in fixture.plateau.scores {
            rate = scheduler.record(score: score, learningRate: rate)
            rates.append(rate)
        }
        expectClose(rates, fixture.plateau.rates, tolerance: 1e-15, "learning rates")
    }

    @Test func initialisationUsesPyTorchRanges() {
        let network = ProbeNetwork(layerSizes: [768, 512, 256, 5], dropout: 0.2, seed: 3)
        for layer in 0..<network.layerCount {
            let bound = 1 / Float(network.layerSizes[layer]).squareRoot()
            let weights = network.parameters[network.weightOffset(layer)..<network.biasOffset(layer)]
            let biases = network.parameters[network.biasOffset(layer)..<(network.biasOffset(layer) + network.layerSizes[layer + 1])]
            for values in [weights, biases] {
                #expect(values.allSatisfy { abs($0) <= bound })
                if values.count >= 100 { #expect(values.max()! > 0.9 * bound && values.min()! < -0.9 * bound) }
            }
        }
        #expect(network == ProbeNetwork(layerSizes: [768, 512, 256, 5], dropout: 0.2, seed: 3))
        #expect(network != ProbeNetwork(layerSizes: [768, 512, 256, 5], dropout: 0.2, seed: 4))
    }
}
