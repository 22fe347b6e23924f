import Random
import Foundation
import Testing
@testable import Tensor

/// Convolution forward and backward against PyTorch (`scripts/fixtures/dense_ops.py`), on dense
/// maps (the row-by-row path for k > 1), on maps with a zero border (the contiguous path where
/// the geometry allows it) and on channel slices of wider maps; with the register-tiled kernels
/// and with OpenBLAS.
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

    static let routines = Convolution2D.ProductRoutine.allCases.flatMap { routine in Layout.allCases.map { (routine, $0) } }

    @Test(arguments: cases, routines)
    func matchesPyTorch(testCase: Case, setting: (Convolution2D.ProductRoutine, Layout)) throws {
        let (routine, layout) = setting
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
                            output: &output.values, output.layout, team: team, routine: routine)
        expectMatches(output.tensor, expected, "\(name) \(layout) \(routine) forward")
        #expect(output.bordersAreUntouched(), "\(name) \(layout): forward wrote outside the interior")

        let upstream = MapBuffer(try fixture["\(name)_upstream"], border: border, extraChannels: extra)
        var inputGradient = MapBuffer(Tensor(zeros: input.tensor.shape), border: border, extraChannels: extra)
        convolution.backwardInput(outputGradient: upstream.values, upstream.layout, packedWeights: packed,
                                  inputGradient: &inputGradient.values, inputGradient.layout, accumulate: false, team: team,
                                  routine: routine)
        expectMatches(inputGradient.tensor, try fixture["\(name)_input_grad"], "\(name) \(layout) \(routine) input gradient")
        #expect(inputGradient.bordersAreUntouched(), "\(name) \(layout): input gradient wrote outside the interior")
        // accumulate adds a second copy.
        convolution.backwardInput(outputGradient: upstream.values, upstream.layout, packedWeights: packed,
                                  inputGradient: &inputGradient.values, inputGradient.layout, accumulate: true, team: team,
                                  routine: routine)
        let doubled = try fixture["\(name)_input_grad"].scalars.map { 2 * $0 }
        expectMatches(inputGradient.tensor, Tensor(shape: input.tensor.shape, scalars: doubled), "\(name) \(layout) accumulated")

        // Weight and bias gradients are added to what is there: start from 1.
        var weightGradient = [Float](repeating: 1, count: convolution.weightCount)
        var biasGradient = [Float](repeating: 1, count: testCase.outChannels)
        convolution.backwardWeights(outputGradient: upstream.values, upstream.layout, input: input.values, input.layout,
                                    weightGradient: &weightGradient, biasGradient: &biasGradient, team: team, routine: routine)
        let expectedWeight = try fixture["\(name)_weight_grad"], expectedBias = try fixture["\(name)_bias_grad"]
        expectMatches(Tensor(shape: expectedWeight.shape, scalars: weightGradient.map { $0 - 1 }), expectedWeight,
                      "\(name) \(layout) \(routine) weight gradient")
        expectMatches(Tensor(shape: expectedBias.shape, scalars: biasGradient.map { $0 - 1 }), expectedBias,
                      "\(name) \(layout) bias gradient")
    }

    /// Channel counts past one 64-wide panel (a whole panel and a narrow one, both ways; two whole
    /// panels), a block longer than the tiles' 192-row cache chunk: both routines (and for 3×3 both
    /// algorithms, direct and Winograd) against a float64 loop. Sums of 200–600 float products carry
    /// rounding of ~1e-7 of Σ|terms|; each value must lie within 2e-6 of it.
    @Test(arguments: [(70, 66, 3), (66, 70, 3), (64, 128, 1)], Convolution2D.ProductRoutine.allCases)
    func wideChannelsMatchAFloat64Loop(channels: (Int, Int, Int), routine: Convolution2D.ProductRoutine) {
        let (inChannels, outChannels, kernel) = channels
        let padding = kernel / 2
        let convolution = Convolution2D(inChannels: inChannels, outChannels: outChannels, kernelSize: kernel, padding: padding)
        let (batch, height, width) = (1, 12, 18)
        let layout = FeatureMapLayout(batch: batch, height: height, width: width, channels: inChannels, border: 1,
                                      pixelStride: inChannels + 5)
        let outputLayout = layout.dense(channels: outChannels)
        var generator = SplitMix64(seed: 12)
        let x = (0..<(batch * height * width * inChannels)).map { _ in Double(Float.random(in: -1...1, using: &generator)) }
        let g = (0..<(batch * height * width * outChannels)).map { _ in Double(Float.random(in: -1...1, using: &generator)) }
        let w = (0..<convolution.weightCount).map { _ in Double(Float.random(in: -0.2...0.2, using: &generator)) }
        let input = MapBuffer(Tensor(shape: [batch, height, width, inChannels], scalars: x.map(Float.init)), border: 1, extraChannels: 5)
        let gradient = MapBuffer(Tensor(shape: [batch, height, width, outChannels], scalars: g.map(Float.init)), border: 1)
        // float64 loops: values and Σ|terms| of the output, the input gradient and the weight gradient.
        var y = [Double](repeating: 0, count: g.count), yScale = y
        var dx = [Double](repeating: 0, count: x.count), dxScale = dx
        var dw = [Double](repeating: 0, count: w.count), dwScale = dw
        for b in 0..<batch { for oy in 0..<height { for ox in 0..<width {
            for ky in 0..<kernel { for kx in 0..<kernel {
                let iy = oy + ky - padding, ix = ox + kx - padding
                guard iy >= 0 && iy < height && ix >= 0 && ix < width else { continue }
                let xBase = ((b * height + iy) * width + ix) * inChannels, yBase = ((b * height + oy) * width + ox) * outChannels
                for o in 0..<outChannels { for i in 0..<inChannels {
                    let wIndex = ((o * inChannels + i) * kernel + ky) * kernel + kx
                    let forward = w[wIndex] * x[xBase + i], back = w[wIndex] * g[yBase + o], weight = g[yBase + o] * x[xBase + i]
                    y[yBase + o] += forward; yScale[yBase + o] += abs(forward)
                    dx[xBase + i] += back; dxScale[xBase + i] += abs(back)
                    dw[wIndex] += weight; dwScale[wIndex] += abs(weight)
                } }
            } }
        } } }
        func check(_ actual: [Float], _ exact: [Double], _ scale: [Double], _ what: String) {
            let worst = zip(zip(actual, exact), scale).map { abs(Double($0.0) - $0.1) / max($1, 1e-3) }.max() ?? .infinity
            #expect(worst <= 2e-6, "\(what) \(channels) \(routine): error \(worst) of Σ|terms|")
        }
        let team = WorkerTeam(size: 2)
        for algorithm in kernel == 3 ? Convolution2D.Algorithm.allCases : [.direct] {
            var output = MapBuffer(outputLayout), inputGradient = MapBuffer(layout)
            var weightGradient = [Float](repeating: 0, count: convolution.weightCount)
            convolution.forward(input: input.values, layout, packedWeights: packedWeights(convolution, w), bias: nil,
                                output: &output.values, outputLayout, team: team, routine: routine, algorithm: algorithm)
            convolution.backwardInput(outputGradient: gradient.values, outputLayout, packedWeights: packedWeights(convolution, w),
                                      inputGradient: &inputGradient.values, layout, accumulate: false, team: team, routine: routine,
                                      algorithm: algorithm)
            convolution.backwardWeights(outputGradient: gradient.values, outputLayout, input: input.values, layout,
                                        weightGradient: &weightGradient, biasGradient: nil, team: team, routine: routine,
                                        algorithm: algorithm)
            check(output.tensor.scalars, y, yScale, "forward \(algorithm)")
            check(inputGradient.tensor.scalars, dx, dxScale, "input gradient \(algorithm)")
            check(weightGradient, dw, dwScale, "weight gradient \(algorithm)")
            #expect(output.bordersAreUntouched(extraValue: 0) && inputGradient.bordersAreUntouched(extraValue: 0))
        }
    }

    func packedWeights(_ convolution: Convolution2D, _ weights: [Double]) -> [Float] {
        var packed = [Float](repeating: 0, count: weights.count)
        convolution.packWeights(weights.map(Float.init), into: &packed)
        return packed
    }

    /// Tasks are fixed by the problem, so one thread and several give the same bits.
    @Test(arguments: [1, 3], Convolution2D.ProductRoutine.allCases)
    func resultsDoNotDependOnTheThreadCount(threads: Int, routine: Convolution2D.ProductRoutine) {
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
                                output: &output.values, outputLayout, team: team, routine: routine)
            convolution.backwardInput(outputGradient: gradient.values, outputLayout, packedWeights: weights,
                                      inputGradient: &inputGradient.values, layout, accumulate: false, team: team, routine: routine)
            convolution.backwardWeights(outputGradient: gradient.values, outputLayout, input: input.values, layout,
                                        weightGradient: &weightGradient, biasGradient: nil, team: team, routine: routine)
            return (output.values, inputGradient.values, weightGradient)
        }
        let single = run(WorkerTeam(size: 1)), several = run(WorkerTeam(size: threads))
        #expect(single.0 == several.0 && single.1 == several.1 && single.2 == several.2)
    }
}
