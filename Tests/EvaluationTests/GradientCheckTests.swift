import Foundation
import Random
import Tensor
import Testing
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
        #expect(vectorSquareRoot(SIMD8(repeating: Float.leastNormalMagnitude / 1_000)).max() < 1e-14)
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

    /// One network to check through the whole training step.
    struct StepCase: Sendable, CustomTestStringConvertible {
        var sizes: [Int]
        var dropout: Float
        var multiClass: Bool
        var testDescription: String { "\(sizes)\(multiClass ? " multi-class" : "")" }
    }

    /// Finite differences through `ProbeStepper` itself, the code that trains: every product,
    /// ReLU, dropout, bias and loss gradient of the step, split over `threads`, for an MLP with
    /// dropout, a linear head (multi-label) and a one-hidden-layer multi-class head. Dropout
    /// masks are hashed from the key and the positions, so every evaluation sees the same ones.
    @Test(arguments: [1, 2, 3], [
        StepCase(sizes: [5, 7, 6, 3], dropout: 0.3, multiClass: false),
        StepCase(sizes: [5, 3], dropout: 0, multiClass: false),
        StepCase(sizes: [5, 6, 3], dropout: 0.2, multiClass: true),
    ])
    func wholeTrainingStep(threads: Int, testCase: StepCase) {
        let network = ProbeNetwork(layerSizes: testCase.sizes, dropout: testCase.dropout, seed: 9)
        var generator = SeededGenerator(seed: 5)
        let rows = 4, outputs = testCase.sizes.last!
        let features = Self.random(rows * testCase.sizes[0], &generator)
        let names = (0..<outputs).map { "c\($0)" }
        let stepper = ProbeStepper(layout: network.layout, task: testCase.multiClass ? .multiClass(names) : .multiLabel(names),
                                   initialParameters: network.parameters, capacity: rows, threads: threads,
                                   optimizer: AdamOptimizer(parameterCount: network.parameters.count, learningRate: 1e-3))
        for index in 0..<(rows * outputs) { stepper.floatTargets[index] = Float(index % 2) }
        for row in 0..<rows { stepper.classTargets[row] = Int32(row % outputs) }
        // Three dropout keys (three masks). A central difference that straddles a ReLU kink is
        // wrong by construction; with these masks and inputs no pre-activation lies within the
        // step of 0 (key 0x5EED, for one, puts one there in the first network).
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
            Self.expectGradientsMatch(analytic, numeric, "\(testCase.testDescription), \(threads) threads, dropout key \(key)")
        }
        stepper.setParameters(network.parameters)
        let plain = Array(0..<rows).withUnsafeBufferPointer { order in
            stepper.lossAndGradient(rows: order, features: features, dropoutKey: nil).gradient
        }
        if testCase.dropout > 0 {
            // Dropout did act: without it the gradient differs.
            #expect(plain != analytic)
        } else {
            #expect(plain == analytic)
        }
    }
}
