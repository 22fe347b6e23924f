import Foundation
import Tensor

/// PyTorch's `torch.optim.Adam` (no AMSGrad) with L2 `weight_decay` added to the gradient,
/// element-wise over one flat parameter buffer with 8-wide SIMD:
///
///     g ← g + λ·p;  m ← m + (1 − β₁)(g − m);  v ← β₂·v + (1 − β₂)·g²
///     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// A step is split in two so that threads can update disjoint ranges as soon as their
/// gradients are ready: `nextStep()` advances the step count and fixes the step's constants,
/// `update(range:...)` applies them to one range. Every element goes through the same vector
/// arithmetic wherever a range starts or ends, so the result does not depend on the split.
final class AdamOptimizer {
    var learningRate: Double
    let beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double
    private(set) var step = 0
    let parameterCount: Int
    private let firstMoment: UnsafeMutablePointer<Float>
    private let secondMoment: UnsafeMutablePointer<Float>

    /// The constants of one step.
    struct StepConstants: Sendable {
        let stepSize: Float, decay: Float, keep1: Float, beta2: Float, keep2: Float, correction2Inverse: Float, epsilon: Float
    }

    init(parameterCount: Int, learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999,
         epsilon: Double = 1e-8, weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.parameterCount = parameterCount
        firstMoment = .allocate(capacity: max(parameterCount, 1))
        firstMoment.initialize(repeating: 0, count: max(parameterCount, 1))
        secondMoment = .allocate(capacity: max(parameterCount, 1))
        secondMoment.initialize(repeating: 0, count: max(parameterCount, 1))
    }

    deinit {
        firstMoment.deallocate()
        secondMoment.deallocate()
    }

    /// Advances the step count and returns the bias-corrected constants of the new step.
    func nextStep() -> StepConstants {
        step += 1
        let correction1 = 1 - pow(beta1, Double(step))
        let correction2Root = (1 - pow(beta2, Double(step))).squareRoot()
        return StepConstants(stepSize: Float(learningRate / correction1), decay: Float(weightDecay),
                             keep1: Float(1 - beta1), beta2: Float(beta2), keep2: Float(1 - beta2),
                             correction2Inverse: Float(1 / correction2Root), epsilon: Float(epsilon))
    }

    /// Applies a step's constants to the parameters in `range` (flat indices) and sets the
    /// gradients it read to 0 in the same pass (the next step's weight-gradient products add onto
    /// zeros). Ranges updated concurrently must be disjoint.
    func update(range: Range<Int>, parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                constants c: StepConstants) {
        precondition(range.lowerBound >= 0 && range.upperBound <= parameterCount, "range outside the parameters")
        typealias Vector = SIMD8<Float>
        @inline(__always)
        func apply(_ parameter: inout Vector, _ gradient: Vector, _ first: inout Vector, _ second: inout Vector) {
            let gradient = gradient.addingProduct(Vector(repeating: c.decay), parameter)
            first = first.addingProduct(Vector(repeating: c.keep1), gradient - first)
            second = (c.beta2 * second).addingProduct(Vector(repeating: c.keep2) * gradient, gradient)
            let denominator = Vector(repeating: c.epsilon).addingProduct(vectorSquareRoot(second), Vector(repeating: c.correction2Inverse))
            parameter -= (c.stepSize * first) / denominator
        }
        let m = firstMoment, v = secondMoment
        var offset = range.lowerBound
        while offset + 8 <= range.upperBound {
            let p = UnsafeMutableRawPointer(parameters + offset), mp = UnsafeMutableRawPointer(m + offset)
            let vp = UnsafeMutableRawPointer(v + offset)
            var parameter = p.loadUnaligned(as: Vector.self), first = mp.loadUnaligned(as: Vector.self)
            var second = vp.loadUnaligned(as: Vector.self)
            apply(&parameter, UnsafeRawPointer(gradients + offset).loadUnaligned(as: Vector.self), &first, &second)
            UnsafeMutableRawPointer(gradients + offset).storeBytes(of: Vector(), as: Vector.self)
            p.storeBytes(of: parameter, as: Vector.self)
            mp.storeBytes(of: first, as: Vector.self)
            vp.storeBytes(of: second, as: Vector.self)
            offset += 8
        }
        if offset < range.upperBound {
            // The tail through the same vector code, padded with zeros.
            var parameter = Vector(), gradient = Vector(), first = Vector(), second = Vector()
            for lane in 0..<(range.upperBound - offset) {
                parameter[lane] = parameters[offset + lane]
                gradient[lane] = gradients[offset + lane]
                first[lane] = m[offset + lane]
                second[lane] = v[offset + lane]
            }
            apply(&parameter, gradient, &first, &second)
            for lane in 0..<(range.upperBound - offset) {
                gradients[offset + lane] = 0
                parameters[offset + lane] = parameter[lane]
                m[offset + lane] = first[lane]
                v[offset + lane] = second[lane]
            }
        }
    }
}

/// `torch.optim.lr_scheduler.ReduceLROnPlateau(mode="max", factor, patience, threshold=1e-4,
/// threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8)`: after more than `patience`
/// consecutive epochs whose score is not above `best·(1 + 1e-4)`, multiply the rate by `factor`.
struct PlateauScheduler {
    let factor: Double, patience: Int
    private(set) var best = -Double.infinity
    private(set) var badEpochs = 0

    /// Records an epoch's validation score; returns the (possibly reduced) learning rate.
    mutating func record(score: Double, learningRate: Double) -> Double {
        if score > best * (1 + 1e-4) || best == -.infinity {
            best = score
            badEpochs = 0
        } else {
            badEpochs += 1
        }
        guard badEpochs > patience else { return learningRate }
        badEpochs = 0
        let reduced = learningRate * factor
        return learningRate - reduced > 1e-8 ? reduced : learningRate
    }
}

/// Square roots of eight non-negative floats, within about 2 ulp.
///
/// Swift's `Float.squareRoot()` keeps glibc's errno path on Linux, so `SIMD8.squareRoot()`
/// becomes eight scalar calls and dominated the Adam update; this is the reciprocal square root
/// from the classic bit-level estimate, refined by three Newton steps (error 2⁻²⁴ and below),
/// times x. Inputs under 1e-30 (whose roots vanish beside Adam's ε = 1e-8) are estimated from
/// 1e-30, which keeps every step finite; x = 0 gives exactly 0.
@inline(__always)
func vectorSquareRoot(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let safe = x.replacing(with: 1e-30, where: x .< 1e-30)
    let bits = unsafeBitCast(safe, to: SIMD8<UInt32>.self)
    var estimate = unsafeBitCast(SIMD8<UInt32>(repeating: 0x5F37_5A86) &- (bits &>> 1), to: SIMD8<Float>.self)
    let half = 0.5 * safe
    for _ in 0..<3 { estimate = estimate * (1.5 - half * estimate * estimate) }
    return x * estimate
}
