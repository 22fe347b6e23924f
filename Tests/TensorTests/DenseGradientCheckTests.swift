import Random
import Foundation
import Testing
import Tensor

/// Finite-difference checks of every dense backward pass: for an op y = f(x) and a fixed random
/// R, the scalar L = Σ y·R has ∂L/∂x = backward(R), compared with central differences (Float32
/// ops, so a step of 1e-2 and a tolerance of 2e-3 relative to the largest gradient, as in
/// EvaluationTests/GradientCheckTests).
@Suite struct DenseGradientCheckTests {
    static func random(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float.random(in: -scale...scale, using: &generator) }
    }

    /// Central differences of `loss` with respect to every entry of `values`.
    static func numericGradient(_ values: [Float], step: Float = 1e-2, _ loss: ([Float]) -> Double) -> [Double] {
        values.indices.map { index in
            var plus = values, minus = values
            plus[index] += step
            minus[index] -= step
            return (loss(plus) - loss(minus)) / Double(2 * step)
        }
    }

    static func expectGradient(_ analytic: [Float], _ numeric: [Double], _ what: String,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        let scale = max(numeric.map(abs).max() ?? 0, 1e-3)
        let worst = zip(analytic, numeric).map { abs(Double($0) - $1) }.max() ?? .infinity
        #expect(analytic.count == numeric.count && worst / scale < 2e-3,
                "\(what): max |analytic − numeric| \(worst) at scale \(scale)", sourceLocation: sourceLocation)
    }

    /// Σ values·weights over a map's interior (values and weights in the same layout).
    static func weightedSum(_ values: [Float], _ weights: [Float]) -> Double {
        zip(values, weights).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    @Test(arguments: [(1, 1, 1), (2, 1, 0), (1, 0, 1)])
    func convolution(stride: Int, padding: Int, border: Int) {
        let convolution = Convolution2D(inChannels: 3, outChannels: 2, kernelSize: 3, stride: stride, padding: padding)
        let inputLayout = FeatureMapLayout(batch: 2, height: 5, width: 6, channels: 3, border: border)
        let outputLayout = convolution.outputLayout(for: inputLayout, border: stride == 1 && padding == 1 ? border : 0)
        let input = MapBuffer(Tensor(shape: [2, 5, 6, 3], scalars: Self.random(180, seed: 1)), border: border)
        let weights = Self.random(convolution.weightCount, seed: 2), bias = Self.random(2, seed: 3)
        let upstream = MapBuffer(Tensor(shape: [2, outputLayout.height, outputLayout.width, 2],
                                        scalars: Self.random(outputLayout.pixelCount * 2, seed: 4)), border: outputLayout.border)
        func loss(input: [Float], weights: [Float], bias: [Float]) -> Double {
            var packed = [Float](repeating: 0, count: weights.count), output = MapBuffer(outputLayout)
            convolution.packWeights(weights, into: &packed)
            convolution.forward(input: input, inputLayout, packedWeights: packed, bias: bias, output: &output.values, outputLayout)
            return Self.weightedSum(output.values, upstream.values)
        }
        var packed = [Float](repeating: 0, count: weights.count)
        convolution.packWeights(weights, into: &packed)
        var inputGradient = MapBuffer(inputLayout)
        convolution.backwardInput(outputGradient: upstream.values, outputLayout, packedWeights: packed,
                                  inputGradient: &inputGradient.values, inputLayout)
        var weightGradient = [Float](repeating: 0, count: weights.count), biasGradient: [Float] = [0, 0]
        convolution.backwardWeights(outputGradient: upstream.values, outputLayout, input: input.values, inputLayout,
                                    weightGradient: &weightGradient, biasGradient: &biasGradient)
        let what = "conv stride \(stride) padding \(padding) border \(border)"
        // Differences over the interior only (the border is not an input).
        let interior = input.tensor.scalars
        let numericInput = Self.numericGradient(interior) { values in
            loss(input: MapBuffer(Tensor(shape: [2, 5, 6, 3], scalars: values), border: border).values, weights: weights, bias: bias)
        }
        Self.expectGradient(inputGradient.tensor.scalars, numericInput, "\(what): input")
        Self.expectGradient(weightGradient, Self.numericGradient(weights) { loss(input: input.values, weights: $0, bias: bias) },
                            "\(what): weight")
        Self.expectGradient(biasGradient, Self.numericGradient(bias) { loss(input: input.values, weights: weights, bias: $0) },
                            "\(what): bias")
    }

    @Test(arguments: [false, true])
    func batchNormalization(relu: Bool) {
        let layout = FeatureMapLayout(batch: 2, height: 3, width: 4, channels: 5)
        let input = Self.random(layout.bufferCount, seed: 21, scale: 2), upstream = Self.random(layout.bufferCount, seed: 6)
        let weight = Self.random(5, seed: 7), bias = Self.random(5, seed: 8, scale: 0.5)
        func forward(_ input: [Float], _ weight: [Float], _ bias: [Float], relu: Bool = relu)
            -> (output: [Float], mean: [Float], inverse: [Float]) {
            var output = [Float](repeating: 0, count: input.count), mean = [Float](repeating: 0, count: 5), inverse = mean
            BatchNormalization.forwardTraining(input: input, layout, weight: weight, bias: bias, runningMean: nil, runningVariance: nil,
                                               savedMean: &mean, savedInverseDeviation: &inverse, output: &output, layout, relu: relu)
            return (output, mean, inverse)
        }
        let saved = forward(input, weight, bias)
        var inputGradient = [Float](repeating: 0, count: input.count)
        var weightGradient = [Float](repeating: 0, count: 5), biasGradient = [Float](repeating: 0, count: 5)
        BatchNormalization.backward(outputGradient: upstream, layout, input: input, layout, savedMean: saved.mean,
                                    savedInverseDeviation: saved.inverse, weight: weight, bias: bias, relu: relu,
                                    inputGradient: &inputGradient, weightGradient: &weightGradient, biasGradient: &biasGradient)
        // A difference straddling the ReLU kink is wrong by construction: with these inputs every
        // pre-activation stays well clear of 0 for a step of 1e-3.
        let closest = forward(input, weight, bias, relu: false).output.map(abs).min() ?? 0
        #expect(!relu || closest > 0.004, "a pre-activation lies at \(closest) from the ReLU kink; pick other inputs")
        let step: Float = relu ? 1e-3 : 1e-2
        Self.expectGradient(inputGradient, Self.numericGradient(input, step: step) {
            Self.weightedSum(forward($0, weight, bias).output, upstream) }, "batch norm\(relu ? " + ReLU" : "") input")
        Self.expectGradient(weightGradient, Self.numericGradient(weight, step: step) {
            Self.weightedSum(forward(input, $0, bias).output, upstream) }, "batch norm γ")
        Self.expectGradient(biasGradient, Self.numericGradient(bias, step: step) {
            Self.weightedSum(forward(input, weight, $0).output, upstream) }, "batch norm β")
    }

    @Test func groupNormalization() {
        let layout = FeatureMapLayout(batch: 2, height: 3, width: 2, channels: 6)
        let input = Self.random(layout.bufferCount, seed: 9, scale: 2), upstream = Self.random(layout.bufferCount, seed: 10)
        let weight = Self.random(6, seed: 11), bias = Self.random(6, seed: 12)
        func forward(_ input: [Float], _ weight: [Float], _ bias: [Float]) -> ([Float], [Float], [Float]) {
            var output = [Float](repeating: 0, count: input.count), mean = [Float](repeating: 0, count: 6), inverse = mean
            GroupNormalization.forward(input: input, layout, groups: 3, weight: weight, bias: bias, savedMean: &mean,
                                       savedInverseDeviation: &inverse, output: &output, layout)
            return (output, mean, inverse)
        }
        let (_, mean, inverse) = forward(input, weight, bias)
        var inputGradient = [Float](repeating: 0, count: input.count)
        var weightGradient = [Float](repeating: 0, count: 6), biasGradient = [Float](repeating: 0, count: 6)
        GroupNormalization.backward(outputGradient: upstream, layout, input: input, layout, groups: 3, savedMean: mean,
                                    savedInverseDeviation: inverse, weight: weight, inputGradient: &inputGradient,
                                    weightGradient: &weightGradient, biasGradient: &biasGradient)
        Self.expectGradient(inputGradient, Self.numericGradient(input) { Self.weightedSum(forward($0, weight, bias).0, upstream) },
                            "group norm input")
        Self.expectGradient(weightGradient, Self.numericGradient(weight) { Self.weightedSum(forward(input, $0, bias).0, upstream) },
                            "group norm γ")
        Self.expectGradient(biasGradient, Self.numericGradient(bias) { Self.weightedSum(forward(input, weight, $0).0, upstream) },
                            "group norm β")
    }

    @Test(arguments: [(4, 5, 11, 7), (9, 8, 4, 3)])
    func bilinearResize(size: (Int, Int, Int, Int)) {
        let resize = BilinearResize(inputHeight: size.0, inputWidth: size.1, outputHeight: size.2, outputWidth: size.3)
        let inputLayout = FeatureMapLayout(batch: 2, height: size.0, width: size.1, channels: 3)
        let outputLayout = FeatureMapLayout(batch: 2, height: size.2, width: size.3, channels: 3)
        let input = Self.random(inputLayout.bufferCount, seed: 13), upstream = Self.random(outputLayout.bufferCount, seed: 14)
        var gradient = [Float](repeating: 0, count: input.count)
        resize.backward(outputGradient: upstream, outputLayout, inputGradient: &gradient, inputLayout)
        Self.expectGradient(gradient, Self.numericGradient(input) { values in
            var output = [Float](repeating: 0, count: outputLayout.bufferCount)
            resize.forward(input: values, inputLayout, output: &output, outputLayout)
            return Self.weightedSum(output, upstream)
        }, "resize \(size)")
        // Planes: the same map seen as 6 single-channel planes.
        var planeGradient = [Float](repeating: 0, count: input.count)
        resize.backwardPlanes(outputGradient: upstream, planes: 6, inputGradient: &planeGradient)
        Self.expectGradient(planeGradient, Self.numericGradient(input) { values in
            var output = [Float](repeating: 0, count: outputLayout.bufferCount)
            resize.forwardPlanes(input: values, planes: 6, output: &output)
            return Self.weightedSum(output, upstream)
        }, "resize planes \(size)")
    }

    @Test func pooling() {
        let inputLayout = FeatureMapLayout(batch: 2, height: 7, width: 5, channels: 2)
        // Distinct values 0.05 apart, so that no difference step changes a window's maximum.
        var generator = SplitMix64(seed: 15)
        let input = Array(0..<inputLayout.bufferCount).shuffled(using: &generator).map { Float($0) * 0.05 - 3 }
        let average = AdaptiveAveragePooling(inputHeight: 7, inputWidth: 5, outputHeight: 3, outputWidth: 2)
        let averageLayout = FeatureMapLayout(batch: 2, height: 3, width: 2, channels: 2)
        let upstream = Self.random(averageLayout.bufferCount, seed: 16)
        var gradient = [Float](repeating: 0, count: input.count)
        average.backward(outputGradient: upstream, averageLayout, inputGradient: &gradient, inputLayout)
        Self.expectGradient(gradient, Self.numericGradient(input) { values in
            var output = [Float](repeating: 0, count: averageLayout.bufferCount)
            average.forward(input: values, inputLayout, output: &output, averageLayout)
            return Self.weightedSum(output, upstream)
        }, "adaptive average pooling")

        let maximum = MaxPooling(kernelSize: 3, stride: 2, padding: 1)
        let size = maximum.outputSize(height: 7, width: 5)
        let maximumLayout = FeatureMapLayout(batch: 2, height: size.height, width: size.width, channels: 2)
        let maximumUpstream = Self.random(maximumLayout.bufferCount, seed: 17)
        var indices = [Int32](repeating: 0, count: maximumLayout.bufferCount)
        var output = [Float](repeating: 0, count: maximumLayout.bufferCount)
        maximum.forward(input: input, inputLayout, output: &output, maximumLayout, indices: &indices)
        var maximumGradient = [Float](repeating: 0, count: input.count)
        maximum.backward(outputGradient: maximumUpstream, maximumLayout, indices: indices, inputGradient: &maximumGradient, inputLayout)
        Self.expectGradient(maximumGradient, Self.numericGradient(input, step: 1e-2) { values in
            var output = [Float](repeating: 0, count: maximumLayout.bufferCount), indices = [Int32](repeating: 0, count: output.count)
            maximum.forward(input: values, inputLayout, output: &output, maximumLayout, indices: &indices)
            return Self.weightedSum(output, maximumUpstream)
        }, "max pooling")
    }

    @Test(arguments: SegmentationActivation.allCases, [false, true])
    func losses(activation: SegmentationActivation, sumsOverBatch: Bool) {
        let (samples, classes, pixels) = (2, 3, 10)
        let logits = Self.random(samples * classes * pixels, seed: 18, scale: 3)
        var targets = [Float](repeating: 0, count: logits.count)
        for sample in 0..<samples {
            for pixel in 0..<pixels {
                switch activation {
                case .sigmoid:
                    for c in 0..<classes where (sample + pixel * c) % 3 == 0 { targets[(sample * classes + c) * pixels + pixel] = 1 }
                case .softmax:
                    targets[(sample * classes + (pixel + sample) % classes) * pixels + pixel] = 1
                }
            }
        }
        let configuration = DiceLossConfiguration(smoothNumerator: 0.1, smoothDenominator: 0.2, sumsOverBatch: sumsOverBatch)
        var gradient = [Float](repeating: 0, count: logits.count)
        _ = SegmentationLoss.dice(logits: logits, targets: targets, samples: samples, classes: classes, pixels: pixels,
                                  activation: activation, configuration: configuration, gradient: &gradient)
        _ = SegmentationLoss.crossEntropy(logits: logits, targets: targets, samples: samples, classes: classes, pixels: pixels,
                                          activation: activation, gradient: &gradient, accumulate: true, weight: 0.7)
        Self.expectGradient(gradient, Self.numericGradient(logits, step: 1e-2) { values in
            SegmentationLoss.dice(logits: values, targets: targets, samples: samples, classes: classes, pixels: pixels,
                                  activation: activation, configuration: configuration)
                + SegmentationLoss.crossEntropy(logits: values, targets: targets, samples: samples, classes: classes,
                                                pixels: pixels, activation: activation, weight: 0.7)
        }, "Dice + 0.7 CE, \(activation)\(sumsOverBatch ? ", sums over the batch" : "")")
    }

    @Test(arguments: SegmentationActivation.allCases)
    func upsampledLoss(activation: SegmentationActivation) {
        let resize = BilinearResize(inputHeight: 3, inputWidth: 4, outputHeight: 9, outputWidth: 21)
        let loss = UpsampledSegmentationLoss(resize: resize, classes: 2, activation: activation,
                                             dice: DiceLossConfiguration(sumsOverBatch: activation == .softmax),
                                             diceWeight: 0.8, crossEntropyWeight: 0.3)
        let logits = Self.random(2 * 2 * 12, seed: 19, scale: 2)
        var masks = [UInt8](repeating: 0, count: 2 * 2 * 9 * 21)
        for sample in 0..<2 {
            for pixel in 0..<(9 * 21) {
                let c = activation == .softmax ? (pixel / 7 + sample) % 2 : 0
                masks[(sample * 2 + c) * 189 + pixel] = activation == .sigmoid && (pixel + sample) % 5 > 1 ? 0 : 1
            }
        }
        var gradient = [Float](repeating: 0, count: logits.count)
        _ = loss.evaluate(logits: logits, masks: masks, samples: 2, logitGradient: &gradient)
        Self.expectGradient(gradient, Self.numericGradient(logits, step: 1e-2) { values in
            loss.evaluate(logits: values, masks: masks, samples: 2, logitGradient: nil).total
        }, "upsampled loss, \(activation)")
    }
}
