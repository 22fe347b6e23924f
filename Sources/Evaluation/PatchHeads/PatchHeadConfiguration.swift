import Foundation
import Tensor

/// How the last feature map becomes one vector: the paper's "adaptive pooling" does not say which.
public enum PatchPooling: String, Sendable, Equatable, Codable, CaseIterable {
    /// `adaptive_avg_pool2d(x, 1)`: the mean over the grid.
    case average
    /// `adaptive_max_pool2d(x, 1)`: the maximum over the grid per channel (ties: the first in
    /// row-major order, as PyTorch), what "is a small finding anywhere" asks.
    case max
}

/// The shape of a patch-token classification head (paper §3.2.2, Table 5): a stack of
/// convolution → BatchNorm → ReLU layers on the `[h, w, D]` token grid, adaptive pooling (average
/// or max) to one vector and a linear classifier; optionally a linear segmentation branch (a 1×1
/// convolution to mask logits, upsampled bilinearly to the mask size) on the same feature map.
///
/// - `peConv`: 1×1, 3×3, 1×1 (the paper's "bottleneck-style" PE-conv).
/// - `multitask`: the same stack plus the segmentation branch, BCE + w·Dice.
/// - `multitaskPlus`: five layers (1×1, 3×3, 3×3, 3×3, 1×1) of half the token width, Dice +
///   structure loss on the segmentation branch.
///
/// The backbone is frozen (tokens come from the embedding store), so the segmentation branch
/// reads the convolution stack's output rather than the tokens: that shared map is what the mask
/// supervision can shape for the classifier (a deviation from the paper, which fine-tunes the
/// backbone; docs/ARCHITECTURE.md, Patch-token heads).
public struct PatchHeadArchitecture: Sendable, Equatable, Codable {
    /// Output channels of each convolution layer.
    public var channels: [Int]
    /// Kernel size of each layer (odd; padding keeps the grid's size).
    public var kernels: [Int]
    /// Whether the segmentation branch is built and trained.
    public var segmentation: Bool
    /// The pooling before the classifier.
    public var pooling: PatchPooling

    /// - Precondition: as many kernels as layers.
    public init(channels: [Int], kernels: [Int], segmentation: Bool, pooling: PatchPooling = .max) {
        precondition(channels.count == kernels.count, "\(channels.count) widths for \(kernels.count) kernels")
        self.channels = channels
        self.kernels = kernels
        self.segmentation = segmentation
        self.pooling = pooling
    }

    /// Layer kernels for `layers` layers: 1×1 first and last, 3×3 between (three layers give the
    /// paper's 1×1, 3×3, 1×1 bottleneck).
    public static func kernels(layers: Int) -> [Int] {
        (0..<layers).map { $0 == 0 || $0 == layers - 1 ? 1 : 3 }
    }

    /// Checks widths and kernels.
    /// - Throws: `SegmentationError.invalidParameter` naming the setting.
    public func validate() throws {
        guard !channels.isEmpty else {
            throw SegmentationError.invalidParameter(name: "layers", value: "0", reason: "a patch head needs at least one convolution layer")
        }
        if let bad = channels.first(where: { $0 < 1 }) {
            throw SegmentationError.invalidParameter(name: "width", value: "\(bad)", reason: "must be at least 1")
        }
        if let bad = kernels.first(where: { $0 < 1 || $0 % 2 == 0 }) {
            throw SegmentationError.invalidParameter(name: "kernel", value: "\(bad)", reason: "must be odd (1, 3, ...) so the grid keeps its size")
        }
    }
}

/// What a patch head trains on and how (the probe's settings, with the losses of the heads that
/// also segment).
public struct PatchHeadTrainingConfiguration: Sendable, Equatable, Codable {
    /// The network.
    public var architecture: PatchHeadArchitecture
    /// Weight of the classification loss (BCE for multi-label, cross-entropy for multi-class).
    public var classificationWeight: Double = 1
    /// Weight of the soft Dice loss of the segmentation branch (MONAI's, sigmoid, per image and class).
    public var diceWeight: Double = 1
    /// Weight of the structure loss (`StructureLoss`) of the segmentation branch.
    public var structureWeight: Double = 0
    /// Side of the structure loss's averaging window, in mask pixels (odd).
    public var structureKernel: Int = 31
    /// Masks (and the upsampled segmentation logits) are compared at this square size.
    public var maskSize: Int = 64
    public var batchSize: Int = 16
    public var learningRate: Double = 1e-3
    public var weightDecay: Double = 1e-6
    public var maximumEpochs: Int = 100
    public var earlyStoppingPatience: Int = 10
    public var plateauPatience: Int = 2
    /// Seed of the initial weights and the batch order.
    public var seed: UInt64 = 0

    /// A configuration with the defaults above.
    public init(architecture: PatchHeadArchitecture, seed: UInt64 = 0) {
        self.architecture = architecture
        self.seed = seed
    }

    /// Checks every setting.
    /// - Throws: `SegmentationError.invalidParameter` naming the setting.
    public func validate() throws {
        try architecture.validate()
        for (name, value) in [("classification_weight", classificationWeight), ("dice_weight", diceWeight),
                              ("structure_weight", structureWeight), ("weight_decay", weightDecay)] where !(value >= 0 && value.isFinite) {
            throw SegmentationError.invalidParameter(name: name, value: "\(value)", reason: "must be a finite number ≥ 0")
        }
        guard learningRate > 0, learningRate.isFinite else {
            throw SegmentationError.invalidParameter(name: "learning_rate", value: "\(learningRate)", reason: "must be positive")
        }
        for (name, value) in [("batch_size", batchSize), ("max_epochs", maximumEpochs), ("mask_size", maskSize),
                              ("early_stop_patience", earlyStoppingPatience), ("plateau_patience", plateauPatience)] where value < 1 {
            throw SegmentationError.invalidParameter(name: name, value: "\(value)", reason: "must be at least 1")
        }
        guard structureKernel >= 1, structureKernel % 2 == 1 else {
            throw SegmentationError.invalidParameter(name: "structure_kernel", value: "\(structureKernel)", reason: "must be odd and positive")
        }
    }

    /// Whether any loss reads masks.
    public var needsMasks: Bool { architecture.segmentation && (diceWeight > 0 || structureWeight > 0) }
}
