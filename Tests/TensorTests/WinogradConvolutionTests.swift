import Random
import Foundation
import Testing
import TestSupport
@testable import Tensor

/// Winograd F(2×2, 3×3) (Convolution2D+Winograd.swift): forward, input gradient and weight
/// gradient against a float64 loop and against the direct path, on odd map sizes (partial 2×2
/// blocks at the right and bottom), a 1×1 map (one block, 15 of its 16 input pixels padding),
/// batches > 1, channel counts that are not multiples of 16, and dense, bordered and sliced
/// layouts; both product routines; and the same bits on any thread count. Against PyTorch on a
/// fixture of its own (the dense-op fixtures are too narrow for the preferred algorithm to pick it).
@Suite struct WinogradConvolutionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int, border: Int, extra: Int
        var testDescription: String {
            "\(batch)×\(height)×\(width) \(inChannels)→\(outChannels) border \(border) extra \(extra)"
        }
    }

    static let cases = [Case(batch: 1, height: 37, width: 37, inChannels: 20, outChannels: 18, border: 1, extra: 0),
                        Case(batch: 3, height: 19, width: 19, inChannels: 33, outChannels: 17, border: 0, extra: 0),
                        Case(batch: 2, height: 1, width: 1, inChannels: 16, outChannels: 16, border: 1, extra: 3),
                        Case(batch: 2, height: 5, width: 8, inChannels: 17, outChannels: 35, border: 1, extra: 2),
                        Case(batch: 2, height: 2, width: 3, inChannels: 7, outChannels: 64, border: 0, extra: 5)]

    /// The float64 values of the output, the input gradient and the weight gradient of a
    /// stride-1, padding-1 3×3 convolution, each with Σ|terms| (the scale its float32 rounding
    /// is proportional to).
    struct Reference {
        var y: [Double], yScale: [Double], dx: [Double], dxScale: [Double], dw: [Double], dwScale: [Double]

        init(_ c: Case, x: [Double], g: [Double], w: [Double]) {
            y = [Double](repeating: 0, count: g.count); yScale = y
            dx = [Double](repeating: 0, count: x.count); dxScale = dx
            dw = [Double](repeating: 0, count: w.count); dwScale = dw
            for b in 0..<c.batch { for oy in 0..<c.height { for ox in 0..<c.width {
                for ky in 0..<3 { for kx in 0..<3 {
                    let iy = oy + ky - 1, ix = ox + kx - 1
                    guard iy >= 0 && iy < c.height && ix >= 0 && ix < c.width else { continue }
                    let xBase = ((b * c.height + iy) * c.width + ix) * c.inChannels
                    let yBase = ((b * c.height + oy) * c.width + ox) * c.outChannels
                    for o in 0..<c.outChannels { for i in 0..<c.inChannels {
                        let wIndex = (o * c.inChannels + i) * 9 + ky * 3 + kx
                        let forward = w[wIndex] * x[xBase + i], back = w[wIndex] * g[yBase + o]
                        let weight = g[yBase + o] * x[xBase + i]
                        y[yBase + o] += forward; yScale[yBase + o] += abs(forward)
                        dx[xBase + i] += back; dxScale[xBase + i] += abs(back)
                        dw[wIndex] += weight; dwScale[wIndex] += abs(weight)
                    } }
                } }
            } } }
        }
    }

    /// The three passes of `algorithm` on one problem: output, input gradient, weight gradient.
    struct Passes: Equatable {
        var output: [Float], inputGradient: [Float], weightGradient: [Float]
    }

    static func run(_ c: Case, algorithm: Convolution2D.Algorithm, routine: Convolution2D.ProductRoutine, threads: Int,
                    x: [Double], g: [Double], w: [Double]) -> (passes: Passes, output: MapBuffer, inputGradient: MapBuffer) {
        let convolution = Convolution2D(inChannels: c.inChannels, outChannels: c.outChannels, kernelSize: 3, padding: 1)
        let input = MapBuffer(Tensor(shape: [c.batch, c.height, c.width, c.inChannels], scalars: x.map(Float.init)),
                              border: c.border, extraChannels: c.extra)
        let gradient = MapBuffer(Tensor(shape: [c.batch, c.height, c.width, c.outChannels], scalars: g.map(Float.init)),
                                 border: c.border, extraChannels: c.extra)
        var output = MapBuffer(Tensor(zeros: [c.batch, c.height, c.width, c.outChannels]), border: c.border, extraChannels: c.extra)
        var inputGradient = MapBuffer(Tensor(zeros: [c.batch, c.height, c.width, c.inChannels]), border: c.border,
                                      extraChannels: c.extra)
        var packed = [Float](repeating: 0, count: convolution.weightCount)
        convolution.packWeights(w.map(Float.init), into: &packed)
        var weightGradient = [Float](repeating: 0, count: convolution.weightCount)
        let team = WorkerTeam(size: threads)
        convolution.forward(input: input.values, input.layout, packedWeights: packed, bias: nil, output: &output.values,
                            output.layout, team: team, routine: routine, algorithm: algorithm)
        convolution.backwardInput(outputGradient: gradient.values, gradient.layout, packedWeights: packed,
                                  inputGradient: &inputGradient.values, inputGradient.layout, accumulate: false, team: team,
                                  routine: routine, algorithm: algorithm)
        convolution.backwardWeights(outputGradient: gradient.values, gradient.layout, input: input.values, input.layout,
                                    weightGradient: &weightGradient, biasGradient: nil, team: team, routine: routine,
                                    algorithm: algorithm)
        return (Passes(output: output.values, inputGradient: inputGradient.values, weightGradient: weightGradient),
                output, inputGradient)
    }

    static func data(_ c: Case, seed: UInt64) -> (x: [Double], g: [Double], w: [Double]) {
        var generator = SplitMix64(seed: seed)
        func draw(_ count: Int, _ scale: Float) -> [Double] {
            (0..<count).map { _ in Double(Float.random(in: -scale...scale, using: &generator)) }
        }
        let pixels = c.batch * c.height * c.width
        return (draw(pixels * c.inChannels, 1), draw(pixels * c.outChannels, 1), draw(c.outChannels * c.inChannels * 9, 0.2))
    }

    /// Largest `|actual − exact| / Σ|terms|` (terms below 1e-3 count as 1e-3).
    static func worstError(_ actual: [Float], _ exact: [Double], _ scale: [Double]) -> Double {
        zip(zip(actual, exact), scale).map { abs(Double($0.0) - $0.1) / max($1, 1e-3) }.max() ?? .infinity
    }

    /// Each pass within 2e-6 of Σ|terms| of the float64 value, as the direct path is held to
    /// (ConvolutionParityTests.wideChannelsMatchAFloat64Loop), and close to the direct path.
    @Test(arguments: cases, Convolution2D.ProductRoutine.allCases)
    func matchesAFloat64LoopAndTheDirectPath(testCase c: Case, routine: Convolution2D.ProductRoutine) {
        let (x, g, w) = Self.data(c, seed: 21)
        let reference = Reference(c, x: x, g: g, w: w)
        let winograd = Self.run(c, algorithm: .winograd, routine: routine, threads: 2, x: x, g: g, w: w)
        let direct = Self.run(c, algorithm: .direct, routine: routine, threads: 2, x: x, g: g, w: w)
        for (name, run) in [("winograd", winograd), ("direct", direct)] {
            let forward = Self.worstError(run.output.tensor.scalars, reference.y, reference.yScale)
            let input = Self.worstError(run.inputGradient.tensor.scalars, reference.dx, reference.dxScale)
            let weight = Self.worstError(run.passes.weightGradient, reference.dw, reference.dwScale)
            if ProcessInfo.processInfo.environment["XRBENCH_PRINT_WINOGRAD_ERRORS"] != nil {
                print("winograd-errors \(c) \(routine) \(name): forward \(forward) input \(input) weight \(weight)")
            }
            #expect(forward <= 2e-6 && input <= 2e-6 && weight <= 2e-6,
                    "\(c) \(routine) \(name): errors of Σ|terms| forward \(forward), input gradient \(input), weight gradient \(weight)")
        }
        expectMatches(winograd.output.tensor, direct.output.tensor, tolerance: 1e-5, "\(c) \(routine) forward vs direct")
        expectMatches(winograd.inputGradient.tensor, direct.inputGradient.tensor, tolerance: 1e-5,
                      "\(c) \(routine) input gradient vs direct")
        // A weight gradient sums over every pixel, with cancellation: compare it on the scale of Σ|terms|.
        let weightDifference = Self.worstError(winograd.passes.weightGradient, direct.passes.weightGradient.map(Double.init),
                                               reference.dwScale)
        #expect(weightDifference <= 4e-6, "\(c) \(routine) weight gradient vs direct: \(weightDifference) of Σ|terms|")
        #expect(winograd.output.bordersAreUntouched() && winograd.inputGradient.bordersAreUntouched(),
                "\(c) \(routine): Winograd wrote outside the interior")
    }

    /// Forward, input, weight and bias gradients against PyTorch (scripts/fixtures/winograd_convolution.py:
    /// 48 → 40 channels with bias on two 5×7 maps), Winograd forced, at the 1e-5 the direct path is
    /// held to; dense, bordered and sliced maps, both product routines.
    @Test(arguments: ConvolutionParityTests.routines)
    func matchesPyTorch(setting: (Convolution2D.ProductRoutine, ConvolutionParityTests.Layout)) throws {
        let (routine, layout) = setting
        let tensors = try loadSafetensors(at: fixturesDirectory().appendingPathComponent("winograd_convolution.safetensors"))
        func fixture(_ name: String) throws -> Tensor {
            try #require(tensors[name], "winograd_convolution.safetensors lacks \(name); rerun scripts/fixtures/winograd_convolution.py")
        }
        let convolution = Convolution2D(inChannels: 48, outChannels: 40, kernelSize: 3, padding: 1)
        let (border, extra) = ConvolutionParityTests.borders(layout)
        let input = MapBuffer(try fixture("input"), border: border, extraChannels: extra)
        let upstream = MapBuffer(try fixture("upstream"), border: border, extraChannels: extra)
        let expected = try fixture("output")
        var packed = [Float](repeating: 0, count: convolution.weightCount)
        convolution.packWeights(try fixture("weight").scalars, into: &packed)
        let bias = try fixture("bias").scalars
        let team = WorkerTeam(size: 2)
        var output = MapBuffer(Tensor(zeros: expected.shape), border: border, extraChannels: extra)
        convolution.forward(input: input.values, input.layout, packedWeights: packed, bias: bias, output: &output.values,
                            output.layout, team: team, routine: routine, algorithm: .winograd)
        expectMatches(output.tensor, expected, "\(layout) \(routine) forward")
        var inputGradient = MapBuffer(Tensor(zeros: input.tensor.shape), border: border, extraChannels: extra)
        convolution.backwardInput(outputGradient: upstream.values, upstream.layout, packedWeights: packed,
                                  inputGradient: &inputGradient.values, inputGradient.layout, accumulate: false, team: team,
                                  routine: routine, algorithm: .winograd)
        expectMatches(inputGradient.tensor, try fixture("input_grad"), "\(layout) \(routine) input gradient")
        var weightGradient = [Float](repeating: 0, count: convolution.weightCount), biasGradient = [Float](repeating: 0, count: 40)
        convolution.backwardWeights(outputGradient: upstream.values, upstream.layout, input: input.values, input.layout,
                                    weightGradient: &weightGradient, biasGradient: &biasGradient, team: team, routine: routine,
                                    algorithm: .winograd)
        expectMatches(Tensor(shape: [40, 48, 3, 3], scalars: weightGradient), try fixture("weight_grad"),
                      "\(layout) \(routine) weight gradient")
        expectMatches(Tensor(shape: [40], scalars: biasGradient), try fixture("bias_grad"), "\(layout) \(routine) bias gradient")
        #expect(output.bordersAreUntouched() && inputGradient.bordersAreUntouched(), "\(layout) \(routine): wrote outside the interior")
    }

    /// Tasks (blocks of tiles, fixed parts of the weight gradient's sum) are fixed by the problem.
    @Test(arguments: [2, 3], Convolution2D.ProductRoutine.allCases)
    func resultsDoNotDependOnTheThreadCount(threads: Int, routine: Convolution2D.ProductRoutine) {
        // 3·23·29 pixels: 3·12·15 = 540 blocks, six forward tasks and four weight parts.
        let c = Case(batch: 3, height: 23, width: 29, inChannels: 9, outChannels: 18, border: 1, extra: 0)
        let (x, g, w) = Self.data(c, seed: 5)
        let single = Self.run(c, algorithm: .winograd, routine: routine, threads: 1, x: x, g: g, w: w).passes
        let several = Self.run(c, algorithm: .winograd, routine: routine, threads: threads, x: x, g: g, w: w).passes
        #expect(single == several)
    }

    /// `accumulate` adds the input gradient to what is there, and the bias is added to the output.
    @Test func accumulatesAndAddsTheBias() {
        let convolution = Convolution2D(inChannels: 5, outChannels: 4, kernelSize: 3, padding: 1)
        let layout = FeatureMapLayout(batch: 2, height: 3, width: 5, channels: 5, border: 1)
        let outputLayout = layout.dense(channels: 4)
        var generator = SplitMix64(seed: 8)
        var input = MapBuffer(layout), gradient = MapBuffer(outputLayout)
        layout.forEachRow { _, _, row in
            for x in 0..<5 { for c in 0..<5 { input.values[row + x * 5 + c] = .random(in: -1...1, using: &generator) } }
        }
        outputLayout.forEachRow { _, _, row in
            for x in 0..<5 { for c in 0..<4 { gradient.values[row + x * 4 + c] = .random(in: -1...1, using: &generator) } }
        }
        let weights = (0..<convolution.weightCount).map { _ in Float.random(in: -1...1, using: &generator) }
        let bias: [Float] = [0.5, -1, 2, 0.25]
        var packed = [Float](repeating: 0, count: weights.count)
        convolution.packWeights(weights, into: &packed)
        var withBias = MapBuffer(outputLayout), without = MapBuffer(outputLayout)
        convolution.forward(input: input.values, layout, packedWeights: packed, bias: bias, output: &withBias.values,
                            outputLayout, team: nil, routine: .blas, algorithm: .winograd)
        convolution.forward(input: input.values, layout, packedWeights: packed, bias: nil, output: &without.values,
                            outputLayout, team: nil, routine: .blas, algorithm: .winograd)
        let shifted = without.tensor.scalars.enumerated().map { $0.element + bias[$0.offset % 4] }
        expectMatches(withBias.tensor, Tensor(shape: [2, 3, 5, 4], scalars: shifted), tolerance: 1e-6, "bias")
        var once = MapBuffer(layout), twice = MapBuffer(layout)
        convolution.backwardInput(outputGradient: gradient.values, outputLayout, packedWeights: packed,
                                  inputGradient: &once.values, layout, accumulate: false, team: nil, routine: .blas,
                                  algorithm: .winograd)
        twice.values = once.values
        convolution.backwardInput(outputGradient: gradient.values, outputLayout, packedWeights: packed,
                                  inputGradient: &twice.values, layout, accumulate: true, team: nil, routine: .blas,
                                  algorithm: .winograd)
        expectMatches(twice.tensor, Tensor(shape: [2, 3, 5, 5], scalars: once.tensor.scalars.map { 2 * $0 }), tolerance: 1e-6,
                      "accumulated input gradient")
    }

    /// The choice: Winograd for stride-1, padding-1 3×3 kernels of ≥ 128 channels each way on maps
    /// its 2×2 blocks cover with little waste; the direct path otherwise.
    @Test func choosesWinogradByTheProblemAlone() {
        func choice(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, padding: Int = 1, kernel: Int = 3,
                    size: Int = 37) -> Convolution2D.Algorithm {
            Convolution2D(inChannels: inChannels, outChannels: outChannels, kernelSize: kernel, stride: stride, padding: padding)
                .preferredAlgorithm(height: size, width: size)
        }
        #expect(choice(192, 192) == .winograd)
        #expect(choice(128, 384) == .winograd)
        #expect(choice(192, 192, size: 4) == .winograd)
        #expect(choice(192, 192, size: 5) == .direct)
        #expect(choice(192, 192, size: 1) == .direct)
        #expect(choice(127, 192) == .direct)
        #expect(choice(192, 96) == .direct)
        #expect(choice(48, 48, size: 8) == .direct)
        #expect(choice(192, 192, stride: 2) == .direct)
        #expect(choice(192, 192, padding: 0) == .direct)
        #expect(choice(192, 192, padding: 0, kernel: 1) == .direct)
    }
}
