import Foundation
import Tensor

/// The structure loss of F3Net (Wei, Wang, Huang, AAAI 2020, "F³Net: Fusion, Feedback and Focus
/// for Salient Object Detection", §3.4) as PraNet uses it (Fan et al., MICCAI 2020, reference [54]
/// of the XR-0 paper): a boundary-weighted binary cross-entropy plus a weighted IoU loss, per
/// image and class plane, averaged over planes.
///
/// For logits `z`, probabilities `p = σ(z)` and a binary mask `y` on one plane,
///
///     w    = 1 + 5·|avgpool_k(y) − y|              (k×k window, stride 1, zero padding k/2,
///                                                    divisor k² — count_include_pad=True)
///     wBCE = Σ w·bce(z, y) / Σ w                    bce(z, y) = max(z, 0) − z·y + log(1 + e^−|z|)
///     wIoU = 1 − (Σ w·p·y + 1) / (Σ w·(p + y) − Σ w·p·y + 1)
///     L    = mean over planes of (wBCE + wIoU)
///
/// The weight is large near the mask's boundary (where the window mixes fore- and background)
/// and 1 far from it; it is a constant of the mask, so no gradient flows through it. PraNet's
/// published code passes `reduce='none'` to `binary_cross_entropy_with_logits`, which PyTorch
/// reads as the legacy `reduce=True` and so averages the BCE before weighting (a plain BCE);
/// this implements the weighting the F3Net paper defines (`reduction='none'`).
public struct StructureLoss: Sendable, Equatable {
    /// Side of the averaging window (odd; PraNet: 31 at 352 px).
    public let kernel: Int

    /// - Precondition: `kernel` odd and positive.
    public init(kernel: Int = 31) {
        precondition(kernel >= 1 && kernel % 2 == 1, "structure loss window \(kernel) must be odd and positive")
        self.kernel = kernel
    }

    /// The boundary weights `1 + 5·|avgpool(y) − y|` of one `height × width` plane.
    func weights(mask: UnsafePointer<Float>, height: Int, width: Int) -> [Float] {
        let radius = kernel / 2
        // Summed-area table with a zero row and column in front.
        var table = [Double](repeating: 0, count: (height + 1) * (width + 1))
        for y in 0..<height {
            var row = 0.0
            for x in 0..<width {
                row += Double(mask[y * width + x])
                table[(y + 1) * (width + 1) + x + 1] = table[y * (width + 1) + x + 1] + row
            }
        }
        let area = Double(kernel * kernel)
        var weights = [Float](repeating: 1, count: height * width)
        for y in 0..<height {
            let top = max(0, y - radius), bottom = min(height, y + radius + 1)
            for x in 0..<width {
                let left = max(0, x - radius), right = min(width, x + radius + 1)
                let sum = table[bottom * (width + 1) + right] - table[top * (width + 1) + right]
                    - table[bottom * (width + 1) + left] + table[top * (width + 1) + left]
                weights[y * width + x] = Float(1 + 5 * abs(sum / area - Double(mask[y * width + x])))
            }
        }
        return weights
    }

    /// The loss and, when `gradient` is given, `weight · ∂L/∂logits` added to it.
    /// - Parameters:
    ///   - logits: `[planes, height, width]`.
    ///   - masks: `[planes, height, width]`, 0 or 1.
    ///   - gradient: `[planes, height, width]`, added to; nil for the loss only.
    ///   - weight: scales the gradient (the loss is returned unscaled).
    /// - Complexity: O(planes · height · width), planes split over the team.
    public func evaluate(logits: UnsafePointer<Float>, masks: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
                         gradient: UnsafeMutablePointer<Float>?, weight: Double = 1, team: WorkerTeam? = nil) -> Double {
        guard planes > 0 else { return 0 }
        let size = height * width
        var losses = [Double](repeating: 0, count: planes)
        losses.withUnsafeMutableBufferPointer { losses in
            Parallel.forEachTask(count: planes, on: team) { plane in
                let z = logits + plane * size, y = masks + plane * size
                let w = weights(mask: y, height: height, width: width)
                var weightSum = 0.0, bceSum = 0.0, intersection = 0.0, union = 0.0
                for index in 0..<size {
                    let zi = Double(z[index]), yi = Double(y[index]), wi = Double(w[index])
                    let p = 1 / (1 + Foundation.exp(-zi))
                    weightSum += wi
                    bceSum += wi * (max(zi, 0) - zi * yi + Foundation.log1p(Foundation.exp(-abs(zi))))
                    intersection += wi * p * yi
                    union += wi * (p + yi)
                }
                let denominator = union - intersection + 1
                losses[plane] = bceSum / weightSum + 1 - (intersection + 1) / denominator
                guard let gradient else { return }
                let scale = weight / Double(planes)
                let target = gradient + plane * size
                for index in 0..<size {
                    let zi = Double(z[index]), yi = Double(y[index]), wi = Double(w[index])
                    let p = 1 / (1 + Foundation.exp(-zi))
                    // ∂wBCE/∂z = w·(p − y)/Σw;  ∂wIoU/∂p = −w·(y·D − (I + 1)·(1 − y))/D²,  ∂p/∂z = p(1 − p)
                    let bce = wi * (p - yi) / weightSum
                    let iou = -wi * (yi * denominator - (intersection + 1) * (1 - yi)) / (denominator * denominator) * p * (1 - p)
                    target[index] += Float(scale * (bce + iou))
                }
            }
        }
        return losses.reduce(0, +) / Double(planes)
    }
}
