// Dice (and cross-entropy) of low-resolution class logits upsampled to mask resolution, as a
// decoder's "resize logits to the label size, then the loss" (mmsegmentation's decode head), in
// two passes that never store a full-resolution map:
//
// 1. per image, each output row of every class is blended from two horizontally resized logit
//    rows, turned into probabilities and summed against the mask row (Σ p·y, Σ p, Σ y per class,
//    and the cross-entropy);
// 2. with the Dice ratios known, the same rows are recomputed, the gradient with respect to the
//    full-resolution logits formed, and pushed through the adjoint of the resize straight into the
//    low-resolution logit gradient.
//
// A batch of eight 518-px masks of 4 classes is 8.6 M values; the plain ops (upsample, then
// `SegmentationLoss`) would write and re-read several maps of that size.

/// The loss of a decoder's logits against masks at a higher resolution, with its gradient.
public struct UpsampledSegmentationLoss: Sendable {
    /// From the logits' size to the masks' size.
    public let resize: BilinearResize
    public let classes: Int
    public let activation: SegmentationActivation
    public let dice: DiceLossConfiguration
    /// Weights of the two terms in the total (`diceWeight·Dice + crossEntropyWeight·CE`).
    public let diceWeight: Double, crossEntropyWeight: Double

    /// The total and its parts (each unweighted).
    public struct Value: Sendable, Equatable {
        public let total: Double, dice: Double, crossEntropy: Double
    }

    /// - Precondition: `classes > 0`; weights ≥ 0.
    public init(resize: BilinearResize, classes: Int, activation: SegmentationActivation,
                dice: DiceLossConfiguration = DiceLossConfiguration(), diceWeight: Double = 1, crossEntropyWeight: Double = 0) {
        precondition(classes > 0 && diceWeight >= 0 && crossEntropyWeight >= 0,
                     "loss over \(classes) classes with weights \(diceWeight), \(crossEntropyWeight)")
        self.resize = resize
        self.classes = classes
        self.activation = activation
        self.dice = dice
        self.diceWeight = diceWeight
        self.crossEntropyWeight = crossEntropyWeight
    }

    /// The loss and, when `logitGradient` is given, `∂total/∂logits` written into it.
    /// - Parameters:
    ///   - logits: `[samples, classes, h, w]` at the resize's input size.
    ///   - masks: `[samples, classes, H, W]` at its output size, each value 0 or 1.
    ///   - logitGradient: `[samples, classes, h, w]`, overwritten; nil for the loss only.
    /// - Complexity: two passes over `samples · classes · H · W` values, samples split over the team.
    public func evaluate(logits: UnsafePointer<Float>, masks: UnsafePointer<UInt8>, samples: Int,
                         logitGradient: UnsafeMutablePointer<Float>?, team: WorkerTeam? = nil) -> Value {
        var sums = [DiceSums](repeating: DiceSums(), count: samples * classes)
        var crossEntropySums = [Double](repeating: 0, count: samples)
        sums.withUnsafeMutableBufferPointer { sums in
            crossEntropySums.withUnsafeMutableBufferPointer { crossEntropySums in
                Parallel.forEachTask(count: samples, on: team) { sample in
                    let workspace = RowWorkspace(classes: classes, resize: resize)
                    let (planeSums, crossEntropy) = accumulate(sample: sample, logits: logits, masks: masks, workspace: workspace)
                    for c in 0..<classes { sums[sample * classes + c] = planeSums[c] }
                    crossEntropySums[sample] = crossEntropy
                }
            }
        }
        let pixels = resize.outputHeight * resize.outputWidth
        let crossEntropyElements = Double(activation == .sigmoid ? samples * classes * pixels : samples * pixels)
        let crossEntropy = crossEntropySums.reduce(0, +) / max(crossEntropyElements, 1)
        let terms = DiceTerms(sums: sums, samples: samples, classes: classes, configuration: dice, weight: 1)
        let value = Value(total: diceWeight * terms.loss + crossEntropyWeight * crossEntropy, dice: terms.loss,
                          crossEntropy: crossEntropy)
        guard let logitGradient else { return value }
        let gradientTerms = DiceTerms(sums: sums, samples: samples, classes: classes, configuration: dice, weight: diceWeight)
        let crossEntropyScale = Float(crossEntropyWeight / max(crossEntropyElements, 1))
        Parallel.forEachTask(count: samples, on: team) { sample in
            let workspace = RowWorkspace(classes: classes, resize: resize)
            backward(sample: sample, logits: logits, masks: masks, coefficients: gradientTerms.coefficients,
                     crossEntropyScale: crossEntropyScale, workspace: workspace, into: logitGradient)
        }
        return value
    }
}

/// Per-task scratch: horizontally resized logits, and one output row of logits, probabilities,
/// targets and gradients per class (rows padded to whole vectors).
final class RowWorkspace {
    let width: Int, paddedWidth: Int, classes: Int
    let horizontal: UnsafeMutablePointer<Float>      // [C, h, W]
    let vertical: UnsafeMutablePointer<Float>        // [C, h, W] (backward)
    let logits: UnsafeMutablePointer<Float>          // [C, Wp]
    let probabilities: UnsafeMutablePointer<Float>   // [C, Wp]
    let targets: UnsafeMutablePointer<Float>         // [C, Wp]
    let gradient: UnsafeMutablePointer<Float>        // [C, Wp]
    let logSumExp: UnsafeMutablePointer<Float>       // [Wp]: log Σ_c e^z_c (softmax)

    init(classes: Int, resize: BilinearResize) {
        self.classes = classes
        width = resize.outputWidth
        paddedWidth = (width + 15) / 16 * 16
        let planeCount = classes * resize.inputHeight * resize.outputWidth
        horizontal = .allocate(capacity: planeCount)
        vertical = .allocate(capacity: planeCount)
        let rowCount = classes * paddedWidth
        logits = .allocate(capacity: rowCount)
        probabilities = .allocate(capacity: rowCount)
        targets = .allocate(capacity: rowCount)
        gradient = .allocate(capacity: rowCount)
        for buffer in [logits, probabilities, targets, gradient] { buffer.initialize(repeating: 0, count: rowCount) }
        logSumExp = .allocate(capacity: paddedWidth)
        logSumExp.initialize(repeating: 0, count: paddedWidth)
    }

    deinit {
        for buffer in [horizontal, vertical, logits, probabilities, targets, gradient, logSumExp] { buffer.deallocate() }
    }
}

extension UpsampledSegmentationLoss {
    /// Fills the workspace's rows for output row `y` of `sample`: logits, probabilities, targets.
    private func prepareRow(sample: Int, y: Int, masks: UnsafePointer<UInt8>, workspace w: RowWorkspace) {
        let width = w.width, height = resize.outputHeight, lowPlane = resize.inputHeight * width
        for c in 0..<classes {
            resize.blendRows(w.horizontal + c * lowPlane, resize.rows[y], into: w.logits + c * w.paddedWidth)
            let maskRow = masks + ((sample * classes + c) * height + y) * width
            let targetRow = w.targets + c * w.paddedWidth
            for x in 0..<width { targetRow[x] = Float(maskRow[x]) }
        }
        var x = 0
        while x < width {
            switch activation {
            case .sigmoid:
                for c in 0..<classes {
                    let offset = c * w.paddedWidth + x
                    storeVector(VectorMath.sigmoid(loadVector(w.logits + offset)), w.probabilities + offset)
                }
            case .softmax:
                var largest = loadVector(w.logits + x)
                for c in 1..<max(classes, 1) { largest = VectorMath.maximum(largest, loadVector(w.logits + c * w.paddedWidth + x)) }
                var total = Vector()
                for c in 0..<classes {
                    let offset = c * w.paddedWidth + x
                    let e = VectorMath.exp(loadVector(w.logits + offset) - largest)
                    storeVector(e, w.probabilities + offset)
                    total += e
                }
                storeVector(largest + VectorMath.log(total), w.logSumExp + x)
                let inverse = 1 / total
                for c in 0..<classes {
                    let offset = c * w.paddedWidth + x
                    storeVector(loadVector(w.probabilities + offset) * inverse, w.probabilities + offset)
                }
            }
            x += 16
        }
    }

    /// Lanes of the vector at `x` that are real pixels (1) or padding (0).
    @inline(__always)
    private func validLanes(_ x: Int, width: Int) -> Vector {
        let remaining = width - x
        if remaining >= 16 { return Vector(repeating: 1) }
        var lanes = Vector()
        for lane in 0..<remaining { lanes[lane] = 1 }
        return lanes
    }

    /// Pass 1 for one image: per class Σ p·y, Σ p, Σ y, and the summed cross-entropy.
    private func accumulate(sample: Int, logits: UnsafePointer<Float>, masks: UnsafePointer<UInt8>,
                            workspace w: RowWorkspace) -> ([DiceSums], Double) {
        let lowPlane = resize.inputHeight * resize.inputWidth
        for c in 0..<classes {
            resize.resizeRows(logits + (sample * classes + c) * lowPlane, into: w.horizontal + c * resize.inputHeight * w.width)
        }
        var sums = [DiceSums](repeating: DiceSums(), count: classes)
        var crossEntropy = 0.0
        let needsCrossEntropy = crossEntropyWeight > 0
        for y in 0..<resize.outputHeight {
            prepareRow(sample: sample, y: y, masks: masks, workspace: w)
            var rowCrossEntropy = Vector()
            for c in 0..<classes {
                var intersection = Vector(), prediction = Vector(), target = Vector()
                var x = 0
                while x < w.width {
                    let offset = c * w.paddedWidth + x
                    let valid = validLanes(x, width: w.width)
                    let p = loadVector(w.probabilities + offset) * valid, t = loadVector(w.targets + offset) * valid
                    intersection = intersection.addingProduct(p, t)
                    prediction += p
                    target += t
                    if needsCrossEntropy {
                        let z = loadVector(w.logits + offset)
                        switch activation {
                        case .sigmoid:
                            let term = VectorMath.maximum(z, Vector()) - z * t + VectorMath.softplusOfNegativeMagnitude(z)
                            rowCrossEntropy = rowCrossEntropy.addingProduct(term, valid)
                        case .softmax:
                            // y_c·(−log p_c) = y_c·(log Σ e^z − z_c), finite even where p_c underflows.
                            rowCrossEntropy = rowCrossEntropy.addingProduct(t, loadVector(w.logSumExp + x) - z)
                        }
                    }
                    x += 16
                }
                sums[c].intersection += Double(intersection.sum())
                sums[c].prediction += Double(prediction.sum())
                sums[c].target += Double(target.sum())
            }
            crossEntropy += Double(rowCrossEntropy.sum())
        }
        return (sums, crossEntropy)
    }

    /// Pass 2 for one image: the full-resolution logit gradient, row by row, through the resize's adjoint.
    private func backward(sample: Int, logits: UnsafePointer<Float>, masks: UnsafePointer<UInt8>,
                          coefficients: [(Float, Float)], crossEntropyScale: Float, workspace w: RowWorkspace,
                          into logitGradient: UnsafeMutablePointer<Float>) {
        let lowPlane = resize.inputHeight * resize.inputWidth, verticalPlane = resize.inputHeight * w.width
        for c in 0..<classes {
            resize.resizeRows(logits + (sample * classes + c) * lowPlane, into: w.horizontal + c * verticalPlane)
        }
        w.vertical.update(repeating: 0, count: classes * verticalPlane)
        for y in 0..<resize.outputHeight {
            prepareRow(sample: sample, y: y, masks: masks, workspace: w)
            var x = 0
            while x < w.width {
                // ∂/∂p from Dice: b − a·y per class; then through the activation; plus cross-entropy.
                var dot = Vector()
                for c in 0..<classes {
                    let offset = c * w.paddedWidth + x
                    let (a, b) = coefficients[sample * classes + c]
                    let derivative = Vector(repeating: b) - Vector(repeating: a) * loadVector(w.targets + offset)
                    storeVector(derivative, w.gradient + offset)
                    if activation == .softmax { dot = dot.addingProduct(loadVector(w.probabilities + offset), derivative) }
                }
                var targetSum = Vector()
                if activation == .softmax && crossEntropyScale > 0 {
                    for c in 0..<classes { targetSum += loadVector(w.targets + c * w.paddedWidth + x) }
                }
                for c in 0..<classes {
                    let offset = c * w.paddedWidth + x
                    let p = loadVector(w.probabilities + offset), t = loadVector(w.targets + offset)
                    let derivative = loadVector(w.gradient + offset)
                    var value: Vector
                    switch activation {
                    case .sigmoid:
                        value = derivative * p * (1 - p)
                        if crossEntropyScale > 0 { value = value.addingProduct(p - t, Vector(repeating: crossEntropyScale)) }
                    case .softmax:
                        value = p * (derivative - dot)
                        if crossEntropyScale > 0 { value = value.addingProduct(p * targetSum - t, Vector(repeating: crossEntropyScale)) }
                    }
                    storeVector(value * validLanes(x, width: w.width), w.gradient + offset)
                }
                x += 16
            }
            for c in 0..<classes {
                resize.scatterRow(w.gradient + c * w.paddedWidth, resize.rows[y], into: w.vertical + c * verticalPlane)
            }
        }
        for c in 0..<classes {
            resize.gatherColumns(w.vertical + c * verticalPlane, into: logitGradient + (sample * classes + c) * lowPlane,
                                 accumulate: false)
        }
    }
}
