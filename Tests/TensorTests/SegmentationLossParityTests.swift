import Foundation
import Testing
import Tensor

/// Dice and cross-entropy on logit maps, and the fused upsampled loss, against PyTorch
/// (MONAI's definitions written out in `scripts/fixtures/dense_ops.py`).
@Suite struct SegmentationLossParityTests {
    static let diceCases: [(String, DiceLossConfiguration)] = [
        ("dice", DiceLossConfiguration()),
        ("dicebatch", DiceLossConfiguration(sumsOverBatch: true)),
        ("dicesmooth1", DiceLossConfiguration(smoothNumerator: 1, smoothDenominator: 1)),
    ]

    @Test(arguments: SegmentationActivation.allCases)
    func diceAndCrossEntropy(activation: SegmentationActivation) throws {
        let fixture = try DenseFixture()
        let logits = try fixture["loss_logits"]
        let targets = try fixture[activation == .sigmoid ? "loss_multilabel" : "loss_exclusive"]
        let (samples, classes, pixels) = (logits.shape[0], logits.shape[1], logits.shape[2] * logits.shape[3])
        for (name, configuration) in Self.diceCases {
            var gradient = [Float](repeating: 0, count: logits.count)
            let loss = SegmentationLoss.dice(logits: logits.scalars, targets: targets.scalars, samples: samples, classes: classes,
                                             pixels: pixels, activation: activation, configuration: configuration,
                                             gradient: &gradient, team: WorkerTeam(size: 2))
            let expected = try fixture["\(name)_\(activation)_loss"].scalars[0]
            #expect(abs(Float(loss) - expected) <= 1e-6, "\(name) \(activation): \(loss) vs \(expected)")
            expectMatches(Tensor(shape: logits.shape, scalars: gradient), try fixture["\(name)_\(activation)_grad"],
                          "\(name) \(activation) gradient")
        }
        var gradient = [Float](repeating: 1, count: logits.count)
        let loss = SegmentationLoss.crossEntropy(logits: logits.scalars, targets: targets.scalars, samples: samples,
                                                 classes: classes, pixels: pixels, activation: activation,
                                                 gradient: &gradient, accumulate: true, weight: 2)
        let expected = try fixture["ce_\(activation)_loss"].scalars[0]
        #expect(abs(Float(loss) - 2 * expected) <= 2e-6, "cross-entropy \(activation): \(loss) vs 2 × \(expected)")
        expectMatches(Tensor(shape: logits.shape, scalars: gradient.map { ($0 - 1) / 2 }), try fixture["ce_\(activation)_grad"],
                      "cross-entropy \(activation) gradient")
    }

    @Test(arguments: SegmentationActivation.allCases)
    func upsampledLoss(activation: SegmentationActivation) throws {
        let fixture = try DenseFixture()
        let logits = try fixture["upsampled_logits"]
        let masks = try fixture[activation == .sigmoid ? "upsampled_multilabel" : "upsampled_exclusive"]
        let resize = BilinearResize(inputHeight: 5, inputWidth: 6, outputHeight: 17, outputWidth: 19)
        let loss = UpsampledSegmentationLoss(resize: resize, classes: 3, activation: activation, crossEntropyWeight: 0.5)
        var gradient = [Float](repeating: .nan, count: logits.count)
        let value = loss.evaluate(logits: logits.scalars, masks: masks.scalars.map { UInt8($0) }, samples: 2,
                                  logitGradient: &gradient, team: WorkerTeam(size: 2))
        let dice = try fixture["upsampled_\(activation)_dice"].scalars[0], crossEntropy = try fixture["upsampled_\(activation)_ce"].scalars[0]
        #expect(abs(Float(value.dice) - dice) <= 1e-6 && abs(Float(value.crossEntropy) - crossEntropy) <= 1e-6,
                "\(activation): Dice \(value.dice) vs \(dice), CE \(value.crossEntropy) vs \(crossEntropy)")
        #expect(abs(value.total - (value.dice + 0.5 * value.crossEntropy)) < 1e-12)
        expectMatches(Tensor(shape: logits.shape, scalars: gradient), try fixture["upsampled_\(activation)_grad"],
                      "upsampled \(activation) gradient")

        // The same numbers from the plain ops: resize the planes, then the two losses.
        var upsampled = [Float](repeating: 0, count: 2 * 3 * 17 * 19)
        resize.forwardPlanes(input: logits.scalars, planes: 6, output: &upsampled)
        let plainDice = SegmentationLoss.dice(logits: upsampled, targets: masks.scalars, samples: 2, classes: 3, pixels: 17 * 19,
                                              activation: activation)
        #expect(abs(plainDice - value.dice) < 1e-6)
        let noGradient = loss.evaluate(logits: logits.scalars, masks: masks.scalars.map { UInt8($0) }, samples: 2, logitGradient: nil)
        #expect(noGradient == value)
    }
}
