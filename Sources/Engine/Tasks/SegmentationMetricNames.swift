import Evaluation

/// The metrics a `segmentation` task records (`segmentation-metric`), registered so that table
/// declarations (`metric: dice`) and `xrbench kinds` know them. Their values come from the
/// per-image scores of Evaluation/SegmentationMetrics.swift.
public enum SegmentationMetricName: String, Metric, CaseIterable {
    /// Dice similarity coefficient (DSC), mean over test images.
    case dice
    /// Intersection over union, mean over test images.
    case iou
    /// Dice over the test images whose ground truth has the class (the paper's Table 6 "DicePos").
    case dicePositive = "dice-pos"

    public var name: String { rawValue }
    public var displayName: String {
        switch self {
        case .dice: "DSC"
        case .iou: "IoU"
        case .dicePositive: "DicePos"
        }
    }
    public var direction: MetricDirection { .higherIsBetter }
    public var input: String { "segmentation" }
}
