import Foundation

// Losses on class logit maps, `[N, C, pixels]` (an NCHW map with its spatial axes flattened), with
// their gradients: soft Dice (MONAI's `DiceLoss` definition) and cross-entropy, after a sigmoid
// per class (multi-label masks) or a softmax over classes (exclusive classes). These are the plain
// versions, on maps that already have mask resolution; decoders use `UpsampledSegmentationLoss`,
// which upsamples low-resolution logits on the fly and computes the same values.

/// How class logits become probabilities.
public enum SegmentationActivation: String, Sendable, CaseIterable, Codable {
    /// Independent classes (multi-label masks; a pixel may belong to several or none): σ per class.
    case sigmoid
    /// Exclusive classes (each pixel belongs to exactly one, background included): softmax over classes.
    case softmax
}

/// Soft Dice loss options, as MONAI's `DiceLoss(smooth_nr, smooth_dr, batch)`.
///
/// Per image `n` and class `c`, with probabilities `p` and targets `y` over the pixels:
/// `f = 1 − (2·Σ p·y + smoothNumerator) / (Σ p + Σ y + smoothDenominator)`; the loss is the mean
/// of `f` over images and classes. An image without any pixel of a class scores `f ≈ 1 − sn/(Σp + sd)`,
/// so the loss pushes its prediction to empty; with the default smoothing of 1e-5 an empty
/// prediction on an empty mask scores `f = 0`. With `sumsOverBatch`, the sums run over the whole
/// batch before the ratio (one `f` per class), which weighs large structures more and lets empty
/// masks in the batch cost nothing.
public struct DiceLossConfiguration: Sendable, Equatable, Codable {
    /// Added to the numerator `2·Σ p·y` (≥ 0).
    public var smoothNumerator: Double
    /// Added to the denominator `Σ p + Σ y` (> 0, so that an empty prediction on an empty mask is defined).
    public var smoothDenominator: Double
    /// Sum over the batch before the ratio (MONAI's `batch=True`).
    public var sumsOverBatch: Bool

    public init(smoothNumerator: Double = 1e-5, smoothDenominator: Double = 1e-5, sumsOverBatch: Bool = false) {
        precondition(smoothNumerator >= 0 && smoothDenominator > 0,
                     "Dice smoothing must be ≥ 0 (numerator) and > 0 (denominator), got \(smoothNumerator), \(smoothDenominator)")
        self.smoothNumerator = smoothNumerator
        self.smoothDenominator = smoothDenominator
        self.sumsOverBatch = sumsOverBatch
    }
}

/// Soft Dice and cross-entropy on logit maps, with gradients.
public enum SegmentationLoss {
    /// Probabilities from logits: σ(z) element-wise, or the softmax over classes at each pixel.
    /// - Parameters:
    ///   - logits, output: `[samples, classes, pixels]`; may be the same buffer.
    public static func probabilities(logits: UnsafePointer<Float>, samples: Int, classes: Int, pixels: Int,
                                     activation: SegmentationActivation, into output: UnsafeMutablePointer<Float>,
                                     team: WorkerTeam? = nil) {
        Parallel.forEachTask(count: samples, on: team) { sample in
            let base = sample * classes * pixels
            switch activation {
            case .sigmoid:
                for index in base..<(base + classes * pixels) { output[index] = Gradients.sigmoid(logits[index]) }
            case .softmax:
                for pixel in 0..<pixels {
                    var largest = -Float.infinity
                    for c in 0..<classes { largest = max(largest, logits[base + c * pixels + pixel]) }
                    var sum: Float = 0
                    for c in 0..<classes {
                        let e = Foundation.exp(logits[base + c * pixels + pixel] - largest)
                        output[base + c * pixels + pixel] = e
                        sum += e
                    }
                    for c in 0..<classes { output[base + c * pixels + pixel] /= sum }
                }
            }
        }
    }

    /// The mean soft Dice loss (see `DiceLossConfiguration`) and, when `gradient` is given, its
    /// gradient with respect to the logits, times `weight`.
    /// - Parameters:
    ///   - logits: `[samples, classes, pixels]`.
    ///   - targets: `[samples, classes, pixels]` in [0, 1] (one-hot over classes for softmax).
    ///   - gradient: `[samples, classes, pixels]`, overwritten (or added to, with `accumulate`).
    ///   - weight: scales the returned loss and the gradient (for a weighted sum of losses).
    /// - Returns: `weight ·` the loss, accumulated in Double.
    public static func dice(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, samples: Int, classes: Int,
                            pixels: Int, activation: SegmentationActivation,
                            configuration: DiceLossConfiguration = DiceLossConfiguration(),
                            gradient: UnsafeMutablePointer<Float>? = nil, accumulate: Bool = false, weight: Double = 1,
                            team: WorkerTeam? = nil) -> Double {
        let count = samples * classes * pixels
        let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        defer { probabilities.deallocate() }
        self.probabilities(logits: logits, samples: samples, classes: classes, pixels: pixels, activation: activation,
                           into: probabilities, team: team)
        // Per plane: Σ p·y, Σ p, Σ y.
        var sums = [DiceSums](repeating: DiceSums(), count: samples * classes)
        sums.withUnsafeMutableBufferPointer { sums in
            Parallel.forEachTask(count: samples * classes, on: team) { plane in
                var planeSums = DiceSums()
                for index in (plane * pixels)..<((plane + 1) * pixels) {
                    planeSums.add(probability: Double(probabilities[index]), target: Double(targets[index]))
                }
                sums[plane] = planeSums
            }
        }
        let terms = DiceTerms(sums: sums, samples: samples, classes: classes, configuration: configuration, weight: weight)
        guard let gradient else { return terms.loss }
        Parallel.forEachTask(count: samples, on: team) { sample in
            let base = sample * classes * pixels
            for pixel in 0..<pixels {
                // ∂loss/∂p = b − a·y per plane, then through the activation.
                var derivatives = [Float](repeating: 0, count: classes)
                for c in 0..<classes {
                    let (a, b) = terms.coefficients[sample * classes + c]
                    derivatives[c] = b - a * targets[base + c * pixels + pixel]
                }
                applyActivationJacobian(derivatives, probabilities + base + pixel, stride: pixels, activation: activation,
                                        into: gradient + base + pixel, accumulate: accumulate)
            }
        }
        return terms.loss
    }

    /// Mean cross-entropy and, when `gradient` is given, its gradient, times `weight`:
    /// for sigmoid, binary cross-entropy on logits averaged over every element (as
    /// `BCEWithLogitsLoss()`); for softmax, `−Σ_c y_c·log p_c` averaged over pixels (as
    /// `cross_entropy` with probability targets; a pixel with no class set costs nothing).
    /// - Parameters: as `dice`.
    public static func crossEntropy(logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, samples: Int, classes: Int,
                                    pixels: Int, activation: SegmentationActivation,
                                    gradient: UnsafeMutablePointer<Float>? = nil, accumulate: Bool = false,
                                    weight: Double = 1, team: WorkerTeam? = nil) -> Double {
        var totals = [Double](repeating: 0, count: samples)
        let elements = activation == .sigmoid ? samples * classes * pixels : samples * pixels
        let scale = Float(weight / Double(max(elements, 1)))
        totals.withUnsafeMutableBufferPointer { totals in
            Parallel.forEachTask(count: samples, on: team) { sample in
                let base = sample * classes * pixels
                var total = 0.0
                for pixel in 0..<pixels {
                    switch activation {
                    case .sigmoid:
                        for c in 0..<classes {
                            let index = base + c * pixels + pixel
                            let z = logits[index], y = targets[index]
                            total += Double(max(z, 0) - z * y + log1p(Foundation.exp(-abs(z))))
                            if let gradient {
                                let value = (Gradients.sigmoid(z) - y) * scale
                                gradient[index] = accumulate ? gradient[index] + value : value
                            }
                        }
                    case .softmax:
                        var largest = -Float.infinity
                        for c in 0..<classes { largest = max(largest, logits[base + c * pixels + pixel]) }
                        var sum: Float = 0
                        for c in 0..<classes { sum += Foundation.exp(logits[base + c * pixels + pixel] - largest) }
                        let logSum = Foundation.log(sum) + largest
                        var targetSum: Float = 0
                        for c in 0..<classes {
                            let y = targets[base + c * pixels + pixel]
                            targetSum += y
                            total += Double(y * (logSum - logits[base + c * pixels + pixel]))
                        }
                        if let gradient {
                            for c in 0..<classes {
                                let index = base + c * pixels + pixel
                                let value = (Foundation.exp(logits[index] - logSum) * targetSum - targets[index]) * scale
                                gradient[index] = accumulate ? gradient[index] + value : value
                            }
                        }
                    }
                }
                totals[sample] = total
            }
        }
        return totals.reduce(0, +) * weight / Double(max(elements, 1))
    }

    /// `gradient (+)= ∂loss/∂z` from `derivatives` = ∂loss/∂p at one pixel (one entry per class;
    /// `probabilities` and `gradient` step `stride` between classes).
    @inline(__always)
    static func applyActivationJacobian(_ derivatives: [Float], _ probabilities: UnsafePointer<Float>, stride: Int,
                                        activation: SegmentationActivation, into gradient: UnsafeMutablePointer<Float>,
                                        accumulate: Bool) {
        let classes = derivatives.count
        var dot: Float = 0
        if activation == .softmax {
            for c in 0..<classes { dot += probabilities[c * stride] * derivatives[c] }
        }
        for c in 0..<classes {
            let p = probabilities[c * stride]
            let value = activation == .sigmoid ? derivatives[c] * p * (1 - p) : p * (derivatives[c] - dot)
            gradient[c * stride] = accumulate ? gradient[c * stride] + value : value
        }
    }
}

/// Σ p·y, Σ p and Σ y over one plane (or over the batch), in Double.
public struct DiceSums: Sendable, Equatable {
    public var intersection = 0.0, prediction = 0.0, target = 0.0

    public init() {}

    @inline(__always)
    mutating func add(probability p: Double, target y: Double) {
        intersection += p * y
        prediction += p
        target += y
    }

    static func + (lhs: DiceSums, rhs: DiceSums) -> DiceSums {
        var sum = lhs
        sum.intersection += rhs.intersection
        sum.prediction += rhs.prediction
        sum.target += rhs.target
        return sum
    }
}

/// The loss and, per plane, the coefficients `(a, b)` of `∂loss/∂p = b − a·y`.
struct DiceTerms {
    let loss: Double
    let coefficients: [(Float, Float)]

    /// With `f = 1 − N/D`, `N = 2I + sn`, `D = P + Y + sd` and the loss `w·Σ f` (w = 1 over the
    /// number of ratios): `∂f/∂p_i = −(2y_i·D − N)/D²`, so `a = 2w/D` and `b = w·N/D²`.
    init(sums: [DiceSums], samples: Int, classes: Int, configuration: DiceLossConfiguration, weight: Double) {
        var loss = 0.0
        var coefficients = [(Float, Float)](repeating: (0, 0), count: samples * classes)
        let ratios = configuration.sumsOverBatch ? classes : samples * classes
        let w = weight / Double(max(ratios, 1))
        func terms(_ s: DiceSums) -> (f: Double, a: Float, b: Float) {
            let numerator = 2 * s.intersection + configuration.smoothNumerator
            let denominator = s.prediction + s.target + configuration.smoothDenominator
            return (1 - numerator / denominator, Float(2 * w / denominator), Float(w * numerator / (denominator * denominator)))
        }
        if configuration.sumsOverBatch {
            for c in 0..<classes {
                let total = (0..<samples).reduce(DiceSums()) { $0 + sums[$1 * classes + c] }
                let (f, a, b) = terms(total)
                loss += f
                for sample in 0..<samples { coefficients[sample * classes + c] = (a, b) }
            }
        } else {
            for plane in 0..<(samples * classes) {
                let (f, a, b) = terms(sums[plane])
                loss += f
                coefficients[plane] = (a, b)
            }
        }
        self.loss = loss * w
        self.coefficients = coefficients
    }
}
