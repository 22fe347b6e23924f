import Foundation
import Testing
import Tensor
@testable import Evaluation

/// Finite-difference checks of every backward pass the probe uses: for an op y = f(x) and a
/// fixed random R, the scalar L = Σ y·R has ∂L/∂x = backward(R), compared with central
/// differences (Float32 ops, so step 1e-2 and a relative tolerance of 2e-3).
@Suite struct GradientCheckTests {
    static func random(_ count: Int, _ generator: inout SeededGenerator, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in (2 * generator.nextUnitFloat() - 1) * scale }
    }

    /// Central-difference gradient of `loss` with respect to every entry of `values`.
    static func numericGradient(_ values: [Float], step: Float = 1e-2, _ loss: ([Float]) -> Double) -> [Double] {
        values.indices.map { index in
            var plus = values, minus = values
            plus[index] += step
            minus[index] -= step
            return (loss(plus) - loss(minus)) / Double(2 * step)
        }
    }

    static func expectGradientsMatch(_ analytic: [Float], _ numeric: [Double], _ what: String,
                                     sourceLocation: SourceLocation = #_sourceLocation) {
        let scale = max(numeric.map(abs).max() ?? 0, 1e-3)
        let worst = zip(analytic, numeric).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst / scale < 2e-3, "\(what): max |analytic − numeric| \(worst) at scale \(scale)", sourceLocation: sourceLocation)
    }

    static func weightedSum(_ values: UnsafePointer<Float>, _ weights: [Float]) -> Double {
        weights.indices.reduce(0.0) { $0 + Double(values[$1]) * Double(weights[$1]) }
    }

    @Test func linear() {
        var generator = SeededGenerator(seed: 1)
        let rows = 3, inWidth = 4, outWidth = 5
        let input = Self.random(rows * inWidth, &generator), weight = Self.random(outWidth * inWidth, &generator)
        let bias = Self.random(outWidth, &generator), projection = Self.random(rows * outWidth, &generator)
        func loss(_ input: [Float], _ weight: [Float], _ bias: [Float]) -> Double {
            var output = [Float](repeating: 0, count: rows * outWidth)
            Gradients.linearForward(input: input, rows: rows, inFeatures: inWidth, weight: weight, bias: bias,
                                    outFeatures: outWidth, output: &output)
            return Self.weightedSum(output, projection)
        }
        var weightGradient = [Float](repeating: 0, count: outWidth * inWidth)
        var biasGradient = [Float](repeating: 0, count: outWidth)
        var inputGradient = [Float](repeating: 0, count: rows * inWidth)
        Gradients.linearBackward(input: input, rows: rows, inFeatures: inWidth, weight: weight, outFeatures: outWidth,
                                 outputGradient: projection, weightGradient: &weightGradient,
                                 biasGradient: &biasGradient, inputGradient: &inputGradient)
        Self.expectGradientsMatch(weightGradient, Self.numericGradient(weight) { loss(input, $0, bias) }, "linear weight")
        Self.expectGradientsMatch(biasGradient, Self.numericGradient(bias) { loss(input, weight, $0) }, "linear bias")
        Self.expectGradientsMatch(inputGradient, Self.numericGradient(input) { loss($0, weight, bias) }, "linear input")
    }

    @Test func reluAndDropout() {
        var generator = SeededGenerator(seed: 2)
        let count = 43  // not a multiple of 8: covers the SIMD blocks and the scalar tail
        // Keep inputs away from 0, where ReLU has a kink that central differences straddle.
        let input = Self.random(count, &generator).map { $0 >= 0 ? $0 + 0.05 : $0 - 0.05 }
        let projection = Self.random(count, &generator)
        var mask = [Float](repeating: 0, count: count)
        Gradients.fillDropoutMask(&mask, count: count, probability: 0.2, using: &generator)
        #expect(Set(mask) == [0, 1.25])
        func loss(_ input: [Float]) -> Double {
            var output = [Float](repeating: 0, count: count)
            Gradients.reluForward(input, count: count, output: &output)
            Gradients.dropoutForward(output, mask: mask, count: count, output: &output)
            return Self.weightedSum(output, projection)
        }
        var output = [Float](repeating: 0, count: count)
        Gradients.reluForward(input, count: count, output: &output)
        Gradients.dropoutForward(output, mask: mask, count: count, output: &output)
        var gradient = projection
        Gradients.dropoutBackward(outputGradient: gradient, mask: mask, count: count, inputGradient: &gradient)
        Gradients.reluBackward(output: output, outputGradient: gradient, count: count, inputGradient: &gradient)
        Self.expectGradientsMatch(gradient, Self.numericGradient(input, loss), "ReLU + dropout")
    }

    @Test func dropoutMaskKeepsAboutTheRightShare() {
        var generator = SeededGenerator(seed: 6)
        var mask = [Float](repeating: -1, count: 100_001)
        Gradients.fillDropoutMask(&mask, count: mask.count, probability: 0.2, using: &generator)
        let dropped = mask.filter { $0 == 0 }.count
        #expect(abs(Double(dropped) / Double(mask.count) - 0.2) < 0.01)
        #expect(mask.allSatisfy { $0 == 0 || $0 == 1.25 })
    }

    @Test func vectorSquareRootIsAccurate() {
        var generator = SeededGenerator(seed: 7)
        var worst = 0.0
        for _ in 0..<10_000 {
            let exponent = Float(generator.nextIndex(below: 60)) - 40
            let x = SIMD8<Float>((0..<8).map { _ in generator.nextUnitFloat() * pow(10, exponent) })
            let roots = vectorSquareRoot(x)
            for lane in 0..<8 where x[lane] >= 1e-30 {
                let exact = Double(x[lane]).squareRoot()
                worst = max(worst, abs(Double(roots[lane]) - exact) / exact)
            }
        }
        #expect(worst < 3e-7, "relative error \(worst)")
        #expect(vectorSquareRoot(SIMD8(repeating: 0)) == SIMD8(repeating: 0))
        #expect(vectorSquareRoot(SIMD8(repeating: 1e-40)).max() < 1e-14)
    }

    @Test func binaryCrossEntropyWithLogits() {
        var generator = SeededGenerator(seed: 3)
        let count = 12
        let logits = Self.random(count, &generator, scale: 4)
        let targets = (0..<count).map { Float($0 % 3 == 0 ? 1 : 0) }
        var gradient = [Float](repeating: 0, count: count)
        _ = Gradients.binaryCrossEntropyWithLogits(logits: logits, targets: targets, count: count, gradient: &gradient)
        let numeric = Self.numericGradient(logits, step: 1e-3) {
            Gradients.binaryCrossEntropyWithLogits(logits: $0, targets: targets, count: count, gradient: nil)
        }
        Self.expectGradientsMatch(gradient, numeric, "BCE with logits")
        // Large logits stay finite.
        let extreme = Gradients.binaryCrossEntropyWithLogits(logits: [200, -200], targets: [0, 1], count: 2, gradient: nil)
        #expect(abs(extreme - 200) < 1e-3)
    }

    @Test func softmaxCrossEntropy() {
        var generator = SeededGenerator(seed: 4)
        let rows = 4, classes = 5
        let logits = Self.random(rows * classes, &generator, scale: 3)
        let targets: [Int32] = [0, 4, 2, 2]
        var gradient = [Float](repeating: 0, count: rows * classes)
        _ = Gradients.softmaxCrossEntropy(logits: logits, rows: rows, classes: classes, targets: targets, gradient: &gradient)
        let numeric = Self.numericGradient(logits, step: 1e-3) {
            Gradients.softmaxCrossEntropy(logits: $0, rows: rows, classes: classes, targets: targets, gradient: nil)
        }
        Self.expectGradientsMatch(gradient, numeric, "softmax cross-entropy")
    }

    @Test func wholeNetworkWithDropout() {
        // The composed backward of ProbeWorkspace (linear → ReLU → dropout → linear → BCE) with a
        // fixed dropout mask: replaying the same generator state reproduces the mask.
        let layout = ProbeNetwork(layerSizes: [5, 6, 3], dropout: 0.3, seed: 9)
        let workspace = ProbeWorkspace(layerSizes: layout.layerSizes, capacity: 4)
        var generator = SeededGenerator(seed: 5)
        let input = Self.random(4 * 5, &generator)
        let targets = (0..<12).map { Float($0 % 2) }
        let maskSeed = SeededGenerator(seed: 77)
        func loss(_ parameters: [Float], gradient: Bool) -> Double {
            workspace.input.update(from: input, count: input.count)
            var masks = maskSeed
            return parameters.withUnsafeBufferPointer { parameters in
                let logits = withUnsafeMutablePointer(to: &masks) {
                    workspace.forward(layout.layout, parameters: parameters.baseAddress!, rows: 4, dropoutGenerator: $0)
                }
                let value = Gradients.binaryCrossEntropyWithLogits(logits: logits, targets: targets, count: 12,
                                                                   gradient: gradient ? workspace.outputGradients[1] : nil)
                if gradient { workspace.backward(layout.layout, parameters: parameters.baseAddress!, rows: 4, usedDropout: true) }
                return value
            }
        }
        _ = loss(layout.parameters, gradient: true)
        let analytic = Array(UnsafeBufferPointer(start: workspace.parameterGradients, count: workspace.parameterCount))
        let numeric = Self.numericGradient(layout.parameters, step: 1e-3) { loss($0, gradient: false) }
        Self.expectGradientsMatch(analytic, numeric, "MLP parameters")
    }
}
