import Foundation
import Testing
import Tensor

/// Convolution forward and backward against PyTorch (`scripts/fixtures/dense_ops.py`), on dense
/// maps (the row-by-row path for k > 1), on maps with a zero border (the contiguous path where
/// the geometry allows it) and on channel slices of wider maps.
@Suite struct ConvolutionParityTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String, outChannels: Int, kernel: Int, stride: Int, padding: Int
        var testDescription: String { name }
    }

    static let cases = [Case(name: "3x3", outChannels: 4, kernel: 3, stride: 1, padding: 1),
                        Case(name: "3x3s2", outChannels: 5, kernel: 3, stride: 2, padding: 1),
                        Case(name: "1x1", outChannels: 3, kernel: 1, stride: 1, padding: 0),
                        Case(name: "3x3p0", outChannels: 4, kernel: 3, stride: 1, padding: 0)]

    /// Border and extra channels per pixel of every map in the test.
    enum Layout: String, CaseIterable, Sendable { case dense, bordered, slice }

    static func borders(_ layout: Layout) -> (border: Int, extra: Int) {
        switch layout {
        case .dense: (0, 0)
        case .bordered: (1, 0)
        case .slice: (1, 3)
        }
    }

    @Test(arguments: cases, Layout.allCases)
    func matchesPyTorch(testCase: Case, layout: Layout) throws {
        let fixture = try DenseFixture()
        let name = "conv\(testCase.name)"
        let convolution = Convolution2D(inChannels: 6, outChannels: testCase.outChannels, kernelSize: testCase.kernel,
                                        stride: testCase.stride, padding: testCase.padding)
        let (border, extra) = Self.borders(layout)
        let input = MapBuffer(try fixture["conv_input"], border: border, extraChannels: extra)
        let expected = try fixture["\(name)_output"]
        let weight = try fixture["\(name)_weight"].scalars, bias = try fixture["\(name)_bias"].scalars
        var packed = [Float](repeating: 0, count: convolution.weightCount)
        convolution.packWeights(weight, into: &packed)

        var output = MapBuffer(Tensor(zeros: expected.shape), border: border, extraChannels: extra)
        let team = WorkerTeam(size: 2)
        convolution.forward(input: input.values, input.layout, packedWeights: packed, bias: bias,
                            output: &output.values, output.layout, team: team)
        expectMatches(output.tensor, expected, "\(name) \(layout) forward")
        #expect(output.bordersAreUntouched(), "\(name) \(layout): forward wrote outside the interior")

        let upstream = MapBuffer(try fixture["\(name)_upstream"], border: border, extraChannels: extra)
        var inputGradient = MapBuffer(Tensor(zeros: input.tensor.shape), border: border, extraChannels: extra)
        convolution.backwardInput(outputGradient: upstream.values, upstream.layout, packedWeights: packed,
                                  inputGradient: &inputGradient.values, inputGradient.layout, team: team)
        expectMatches(inputGradient.tensor, try fixture["\(name)_input_grad"], "\(name) \(layout) input gradient")
        #expect(inputGradient.bordersAreUntouched(), "\(name) \(layout): input gradient wrote outside the interior")
        // accumulate adds a second copy.
        convolution.backwardInput(outputGradient: upstream.values, upstream.layout, packedWeights: packed,
                                  inputGradient: &inputGradient.values, inputGradient.layout, accumulate: true, team: team)
        let doubled = try fixture["\(name)_input_grad"].scalars.map { 2 * $0 }
        expectMatches(inputGradient.tensor, Tensor(shape: input.tensor.shape, scalars: doubled), "\(name) \(layout) accumulated")

        // Weight and bias gradients are added to what is there: start from 1.
        var weightGradient = [Float](repeating: 1, count: convolution.weightCount)
        var biasGradient = [Float](repeating: 1, count: testCase.outChannels)
        convolution.backwardWeights(outputGradient: upstream.values, upstream.layout, input: input.values, input.layout,
                                    weightGradient: &weightGradient, biasGradient: &biasGradient, team: team)
        let expectedWeight = try fixture["\(name)_weight_grad"], expectedBias = try fixture["\(name)_bias_grad"]
        expectMatches(Tensor(shape: expectedWeight.shape, scalars: weightGradient.map { $0 - 1 }), expectedWeight,
                      "\(name) \(layout) weight gradient")
        expectMatches(Tensor(shape: expectedBias.shape, scalars: biasGradient.map { $0 - 1 }), expectedBias,
                      "\(name) \(layout) bias gradient")
    }

    /// Tasks are fixed by the problem, so one thread and several give the same bits.
    @Test(arguments: [1, 3])
    func resultsDoNotDependOnTheThreadCount(threads: Int) {
        let convolution = Convolution2D(inChannels: 8, outChannels: 6, kernelSize: 3, padding: 1)
        let layout = FeatureMapLayout(batch: 3, height: 23, width: 29, channels: 8, border: 1)
        let outputLayout = layout.dense(channels: 6)
        var input = MapBuffer(layout), gradient = MapBuffer(outputLayout)
        var generator = SplitMix64(seed: 11)
        for image in 0..<3 {
            for y in 0..<23 {
                for x in 0..<29 {
                    for c in 0..<8 { input.values[layout.offset(image: image, y: y, x: x) + c] = .random(in: -1...1, using: &generator) }
                    for c in 0..<6 { gradient.values[outputLayout.offset(image: image, y: y, x: x) + c] = .random(in: -1...1, using: &generator) }
                }
            }
        }
        let weights = (0..<convolution.weightCount).map { _ in Float.random(in: -1...1, using: &generator) }
        func run(_ team: WorkerTeam) -> ([Float], [Float], [Float]) {
            var output = MapBuffer(outputLayout), inputGradient = MapBuffer(layout)
            var weightGradient = [Float](repeating: 0, count: convolution.weightCount)
            convolution.forward(input: input.values, layout, packedWeights: weights, bias: nil,
                                output: &output.values, outputLayout, team: team)
            convolution.backwardInput(outputGradient: gradient.values, outputLayout, packedWeights: weights,
                                      inputGradient: &inputGradient.values, layout, team: team)
            convolution.backwardWeights(outputGradient: gradient.values, outputLayout, input: input.values, layout,
                                        weightGradient: &weightGradient, biasGradient: nil, team: team)
            return (output.values, inputGradient.values, weightGradient)
        }
        let single = run(WorkerTeam(size: 1)), several = run(WorkerTeam(size: threads))
        #expect(single.0 == several.0 && single.1 == several.1 && single.2 == several.2)
    }
}
