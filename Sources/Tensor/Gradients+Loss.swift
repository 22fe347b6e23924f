import Foundation

extension Gradients {
    /// Mean binary cross-entropy on logits over all `count` elements, as
    /// `torch.nn.BCEWithLogitsLoss()` (reduction "mean"), with its gradient.
    ///
    /// Per element, in the overflow-free form PyTorch uses:
    /// `max(z, 0) − z·y + log(1 + exp(−|z|))`; gradient `(σ(z) − y) / count`.
    /// - Parameters:
    ///   - logits: `count` values.
    ///   - targets: `count` values in [0, 1].
    ///   - gradient: receives `∂loss/∂logits`, or nil for the loss only.
    /// - Returns: the mean loss, accumulated in Double.
    public static func binaryCrossEntropyWithLogits(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, count: Int,
        gradient: UnsafeMutablePointer<Float>?
    ) -> Double {
        var total = 0.0
        let scale = 1 / Float(count)
        for index in 0..<count {
            let z = logits[index], y = targets[index]
            total += Double(max(z, 0) - z * y + log1p(exp(-abs(z))))
            if let gradient { gradient[index] = (sigmoid(z) - y) * scale }
        }
        return total / Double(count)
    }

    /// Mean softmax cross-entropy over rows, as `torch.nn.CrossEntropyLoss()` with class-index
    /// targets, with its gradient `(softmax(z) − onehot(y)) / rows`.
    /// - Parameters:
    ///   - logits: `[rows, classes]`.
    ///   - targets: class index per row, in `0..<classes`.
    ///   - gradient: `[rows, classes]`, receives `∂loss/∂logits`, or nil.
    /// - Returns: the mean loss, accumulated in Double.
    public static func softmaxCrossEntropy(
        logits: UnsafePointer<Float>, rows: Int, classes: Int, targets: UnsafePointer<Int32>,
        gradient: UnsafeMutablePointer<Float>?
    ) -> Double {
        var total = 0.0
        let scale = 1 / Float(rows)
        for row in 0..<rows {
            let rowLogits = logits + row * classes
            let target = Int(targets[row])
            precondition(target >= 0 && target < classes, "class index \(target) outside 0..<\(classes)")
            var largest = rowLogits[0]
            for column in 1..<max(classes, 1) { largest = max(largest, rowLogits[column]) }
            var sum: Float = 0
            for column in 0..<classes { sum += exp(rowLogits[column] - largest) }
            let logSum = log(sum) + largest
            total += Double(logSum - rowLogits[target])
            if let gradient {
                let rowGradient = gradient + row * classes
                for column in 0..<classes {
                    let probability = exp(rowLogits[column] - logSum)
                    rowGradient[column] = (probability - (column == target ? 1 : 0)) * scale
                }
            }
        }
        return total / Double(rows)
    }

    /// The logistic function, split by sign so neither branch overflows.
    @inline(__always)
    public static func sigmoid(_ z: Float) -> Float {
        if z >= 0 { return 1 / (1 + exp(-z)) }
        let e = exp(z)
        return e / (1 + e)
    }
}
