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
        Gradients.fillDropoutMask(&mask, rows: 0..<1, columns: 0..<count, leading: count, probability: 0.2, key: 2)
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
        var mask = [Float](repeating: -1, count: 100_001)
        Gradients.fillDropoutMask(&mask, rows: 0..<1, columns: 0..<mask.count, leading: mask.count, probability: 0.2, key: 6)
        let dropped = mask.filter { $0 == 0 }.count
        #expect(abs(Double(dropped) / Double(mask.count) - 0.2) < 0.01)
        #expect(mask.allSatisfy { $0 == 0 || $0 == 1.25 })
        // Another key gives another mask, with about the expected overlap of independent draws.
        var other = [Float](repeating: -1, count: mask.count)
        Gradients.fillDropoutMask(&other, rows: 0..<1, columns: 0..<other.count, leading: other.count, probability: 0.2, key: 7)
        let bothDropped = zip(mask, other).filter { $0 == 0 && $1 == 0 }.count
        #expect(abs(Double(bothDropped) / Double(mask.count) - 0.04) < 0.005)
        // Neighbouring entries are not correlated: pairs (i, i+1) both dropped about p² of the time.
        let adjacent = zip(mask, mask.dropFirst()).filter { $0 == 0 && $1 == 0 }.count
        #expect(abs(Double(adjacent) / Double(mask.count - 1) - 0.04) < 0.005)
    }

    @Test func dropoutMaskDoesNotDependOnHowItIsSplit() {
        // Threads fill blocks of one mask; the result must equal one fill of everything.
        let rows = 7, width = 37
        var whole = [Float](repeating: -1, count: rows * width)
        Gradients.fillDropoutMask(&whole, rows: 0..<rows, columns: 0..<width, leading: width, probability: 0.3, key: 0xDEAD_BEEF_1234)
        var pieces = [Float](repeating: -1, count: rows * width)
        for columns in [0..<5, 5..<21, 21..<37] {
            Gradients.fillDropoutMask(&pieces, rows: 0..<3, columns: columns, leading: width, probability: 0.3, key: 0xDEAD_BEEF_1234)
            Gradients.fillDropoutMask(&pieces, rows: 3..<rows, columns: columns, leading: width, probability: 0.3, key: 0xDEAD_BEEF_1234)
        }
        #expect(whole == pieces)
        #expect(Set(whole) == [0, Float(1) / 0.7])
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

    @Test(arguments: [1, 2, 3])
    func wholeNetworkWithDropout(threads: Int) {
        // The composed backward of ProbeStepper (linear → ReLU → dropout → linear → ReLU →
        // dropout → linear → BCE), split over `threads`, with fixed dropout masks: the masks are
        // hashed from the key and the positions, so every evaluation sees the same ones.
        let network = ProbeNetwork(layerSizes: [5, 7, 6, 3], dropout: 0.3, seed: 9)
        var generator = SeededGenerator(seed: 5)
        let rows = 4
        let features = Self.random(rows * 5, &generator)
        let stepper = ProbeStepper(layout: network.layout, task: .multiLabel(["a", "b", "c"]),
                                   initialParameters: network.parameters, capacity: rows, threads: threads,
                                   optimizer: AdamOptimizer(parameterCount: network.parameters.count, learningRate: 1e-3))
        for index in 0..<(rows * 3) { stepper.floatTargets[index] = Float(index % 2) }
        // Three dropout keys (three masks). A central difference that straddles a ReLU kink is
        // wrong by construction; with these masks and inputs no pre-activation lies within the
        // step of 0 (key 0x5EED, for one, puts one there and the check fails on that entry).
        var analytic: [Float] = []
        for key: UInt64 in [1, 2, 3] {
            func evaluate(_ parameters: [Float]) -> (loss: Double, gradient: [Float]) {
                stepper.setParameters(parameters)
                return Array(0..<rows).withUnsafeBufferPointer { order in
                    stepper.lossAndGradient(rows: order, features: features, dropoutKey: key)
                }
            }
            analytic = evaluate(network.parameters).gradient
            let numeric = Self.numericGradient(network.parameters, step: 1e-3) { evaluate($0).loss }
            Self.expectGradientsMatch(analytic, numeric, "MLP parameters, \(threads) threads, dropout key \(key)")
        }
        stepper.setParameters(network.parameters)
        // Dropout did act: without it the gradient differs.
        let plain = Array(0..<rows).withUnsafeBufferPointer { order in
            stepper.lossAndGradient(rows: order, features: features, dropoutKey: nil).gradient
        }
        #expect(plain != analytic)
    }
}
