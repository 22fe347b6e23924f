import Foundation
import Testing
import Tensor
import TestSupport
@testable import Evaluation

/// Two training steps of each decoder against the same PyTorch module (mmsegmentation's and
/// DINOv2's structure, `scripts/fixtures/segmentation_decoders.py`): same initial weights, same
/// batches; the loss of both steps, every gradient of the first, and every weight and running
/// statistic after the second must agree to 1e-5.
@Suite struct SegmentationDecoderParityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let decoder: SegmentationDecoderKind
        let activation: SegmentationActivation
        let crossEntropyWeight: Double
        var testDescription: String { name }
    }

    static let tinyUPerNet = UPerNetConfiguration(neckChannels: 10, channels: 8, dropout: 0)
    static let cases = [
        Case(name: "linear_sigmoid", decoder: .linear, activation: .sigmoid, crossEntropyWeight: 0),
        Case(name: "linear_softmax", decoder: .linear, activation: .softmax, crossEntropyWeight: 0.5),
        Case(name: "upernet_sigmoid", decoder: .upernet(tinyUPerNet), activation: .sigmoid, crossEntropyWeight: 0),
        Case(name: "upernet_softmax", decoder: .upernet(tinyUPerNet), activation: .softmax, crossEntropyWeight: 1),
    ]

    static func fixture() throws -> [String: Tensor] {
        try loadSafetensors(at: fixturesDirectory().appendingPathComponent("segmentation_decoders.safetensors"))
    }

    /// The tensors under `prefix/`, keyed by the rest of their name.
    static func group(_ fixture: [String: Tensor], _ prefix: String) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: fixture.compactMap { key, value in
            key.hasPrefix(prefix + "/") ? (String(key.dropFirst(prefix.count + 1)), value) : nil
        })
    }

    static func expectMatches(_ actual: [String: Tensor], _ expected: [String: Tensor], _ what: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Set(actual.keys) == Set(expected.keys), "\(what): names differ", sourceLocation: sourceLocation)
        for (name, reference) in expected {
            guard let value = actual[name] else { continue }
            #expect(value.shape == reference.shape, "\(what) \(name): shape", sourceLocation: sourceLocation)
            let worst = zip(value.scalars, reference.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            #expect(worst <= 1e-5, "\(what) \(name): scaled error \(worst)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: cases)
    func twoTrainingStepsMatchPyTorch(testCase: Case) throws {
        let fixture = try Self.fixture()
        let initial = Self.group(fixture, "\(testCase.name)/initial")
        let layerCount = testCase.decoder.layerCount
        // Samples 0..<B are step 0's batch, B..<2B step 1's.
        var layers = [[Float]](repeating: [], count: layerCount), masks: [UInt8] = []
        for step in 0..<2 {
            for layer in 0..<layerCount { layers[layer] += try #require(fixture["\(testCase.name)/step\(step)/layer\(layer)"]).scalars }
            masks += try #require(fixture["\(testCase.name)/step\(step)/masks"]).scalars.map { UInt8($0) }
        }
        let tokens = try #require(fixture["\(testCase.name)/step0/layer0"]), maskShape = try #require(fixture["\(testCase.name)/step0/masks"]).shape
        let batch = tokens.shape[0]
        let samples = try SegmentationArrays(layers: layers, grid: TokenGrid(height: tokens.shape[1], width: tokens.shape[2], channels: tokens.shape[3]),
                                             masks: masks, classes: maskShape[1], maskHeight: maskShape[2], maskWidth: maskShape[3])
        let configuration = SegmentationTrainingConfiguration(decoder: testCase.decoder, activation: testCase.activation,
                                                              batchSize: batch, crossEntropyWeight: testCase.crossEntropyWeight)
        let trainer = try SegmentationTrainer(train: samples, validation: samples, configuration: configuration, threads: 2)
        try trainer.load(stateDictionary: initial)
        #expect(Set(trainer.stateDictionary().keys) == Set(initial.keys))

        let first = trainer.computeGradients(samples: Array(0..<batch), dropoutKey: 0)
        let firstLoss = try #require(fixture["\(testCase.name)/step0/loss"]).scalars[0]
        #expect(abs(Float(first.total) - firstLoss) <= 1e-5 * max(1, abs(firstLoss)), "step 0 loss \(first.total) vs \(firstLoss)")
        Self.expectMatches(trainer.gradientDictionary(), Self.group(fixture, "\(testCase.name)/gradient"), "\(testCase.name) gradient")
        trainer.update()
        let second = trainer.step(samples: Array(batch..<(2 * batch)))
        let secondLoss = try #require(fixture["\(testCase.name)/step1/loss"]).scalars[0]
        #expect(abs(Float(second.total) - secondLoss) <= 1e-5 * max(1, abs(secondLoss)), "step 1 loss \(second.total) vs \(secondLoss)")
        // The biases of neck convolutions 0–2 feed only a 1×1 convolution followed by batch norm,
        // which removes any per-channel shift: their true gradient is 0, both sides compute
        // rounding noise (~1e-10), and Adam turns noise into steps of ±lr. They are left out of the
        // comparison after the update; each moved by at most Adam's bound of lr per step.
        let gradients = Self.group(fixture, "\(testCase.name)/gradient")
        let noise = Set(gradients.filter { $0.value.scalars.map(abs).max()! < 1e-8 }.keys)
        #expect(noise == (layerCount == 4 ? Set((0..<3).map { "neck.convs.\($0).conv.bias" }) : []))
        var final = Self.group(fixture, "\(testCase.name)/final"), actual = trainer.stateDictionary()
        for name in noise {
            let moved = zip(actual[name]!.scalars, initial[name]!.scalars).map { abs($0 - $1) }.max()!
            #expect(moved <= 2.0001e-4, "\(name) moved \(moved)")
            final[name] = nil
            actual[name] = nil
        }
        Self.expectMatches(actual, final, "\(testCase.name) after two steps")
    }

    @Test func stateDictionaryErrorsNameTheTensors() throws {
        let fixture = try Self.fixture()
        var initial = Self.group(fixture, "linear_sigmoid/initial")
        let samples = try SegmentationArrays(layers: [[Float](repeating: 0.5, count: 2 * 5 * 5 * 16)],
                                             grid: TokenGrid(height: 5, width: 5, channels: 16),
                                             masks: [UInt8](repeating: 0, count: 2 * 3 * 17 * 17), classes: 3, maskHeight: 17, maskWidth: 17)
        let trainer = try SegmentationTrainer(train: samples, validation: samples,
                                              configuration: SegmentationTrainingConfiguration(batchSize: 2))
        initial["bn.weight"] = nil
        initial["conv_seg.bias"] = Tensor(zeros: [4])
        initial["head.extra"] = Tensor(zeros: [1])
        #expect(throws: SegmentationError.stateDictionary(missing: ["bn.weight"], unexpected: ["head.extra"],
                                                          misshapen: ["conv_seg.bias is [4], expected [3]"])) {
            try trainer.load(stateDictionary: initial)
        }
    }
}
