import Foundation
import Tensor

/// PyTorch's `torch.optim.Adam` (no AMSGrad) with L2 `weight_decay` added to the gradient,
/// fused over one flat parameter buffer with 8-wide SIMD:
///
///     g ← g + λ·p;  m ← m + (1 − β₁)(g − m);  v ← β₂·v + (1 − β₂)·g²
///     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
struct AdamOptimizer {
    var learningRate: Double
    let beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double
    private(set) var step = 0
    private(set) var firstMoment: [Float]
    private(set) var secondMoment: [Float]

    init(parameterCount: Int, learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999,
         epsilon: Double = 1e-8, weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        firstMoment = [Float](repeating: 0, count: parameterCount)
        secondMoment = [Float](repeating: 0, count: parameterCount)
    }

    /// One update of `parameters` from `gradients` (both `count` long).
    mutating func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, count: Int) {
        precondition(count == firstMoment.count, "parameter count changed")
        step += 1
        let correction1 = 1 - pow(beta1, Double(step))
        let correction2Root = (1 - pow(beta2, Double(step))).squareRoot()
        let stepSize = Float(learningRate / correction1)
        let decay = Float(weightDecay), keep1 = Float(1 - beta1), b2 = Float(beta2), keep2 = Float(1 - beta2)
        let correction2 = Float(correction2Root), eps = Float(epsilon)
        firstMoment.withUnsafeMutableBufferPointer { m in
            secondMoment.withUnsafeMutableBufferPointer { v in
                let m = m.baseAddress!, v = v.baseAddress!
                Parallel.forEachChunk(count: count / 8, minimumChunk: 16_384) { range in
                    typealias Vector = SIMD8<Float>
                    for block in range {
                        let offset = block * 8
                        let p = UnsafeMutableRawPointer(parameters + offset), g = UnsafeRawPointer(gradients + offset)
                        let mp = UnsafeMutableRawPointer(m + offset), vp = UnsafeMutableRawPointer(v + offset)
                        var parameter = p.loadUnaligned(as: Vector.self)
                        let gradient = g.loadUnaligned(as: Vector.self) + decay * parameter
                        var first = mp.loadUnaligned(as: Vector.self)
                        first += keep1 * (gradient - first)
                        var second = vp.loadUnaligned(as: Vector.self)
                        second = b2 * second + keep2 * gradient * gradient
                        let denominator = vectorSquareRoot(second) / correction2 + eps
                        parameter -= stepSize * first / denominator
                        p.storeBytes(of: parameter, as: Vector.self)
                        mp.storeBytes(of: first, as: Vector.self)
                        vp.storeBytes(of: second, as: Vector.self)
                    }
                }
                for index in (count / 8 * 8)..<count {
                    let gradient = gradients[index] + decay * parameters[index]
                    m[index] += keep1 * (gradient - m[index])
                    v[index] = b2 * v[index] + keep2 * gradient * gradient
                    parameters[index] -= stepSize * m[index] / (v[index].squareRoot() / correction2 + eps)
                }
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
