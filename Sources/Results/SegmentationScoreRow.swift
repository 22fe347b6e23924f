import GRDB

/// One image's score for one segmentation class; one row of `segmentation_score`.
///
/// Dice and IoU follow SIIM's convention for empty masks: an empty prediction on an empty
/// ground truth scores 1 (see Evaluation/SegmentationMetrics.swift). `positive` says whether
/// the ground truth had a pixel of the class, so DicePos is the mean of `dice` over positive rows.
public struct SegmentationScoreRow: Codable, Sendable, Hashable {
    /// The sample's id from the manifest.
    public var sampleID: String
    /// The patient it belongs to (the bootstrap's resampling unit).
    public var patientID: String
    /// The segmentation class.
    public var className: String
    /// Dice of the hard prediction against the ground truth, in [0, 1].
    public var dice: Double
    /// Intersection over union, in [0, 1].
    public var iou: Double
    /// Whether the ground truth has at least one pixel of the class.
    public var positive: Bool

    /// Creates a row.
    public init(sampleID: String, patientID: String, className: String, dice: Double, iou: Double, positive: Bool) {
        self.sampleID = sampleID
        self.patientID = patientID
        self.className = className
        self.dice = dice
        self.iou = iou
        self.positive = positive
    }
}

/// A `segmentation_score` row as read back.
struct SegmentationScoreTableRecord: FetchableRecord, TableRecord {
    static let databaseTableName = "segmentation_score"
    var stageKey: String
    var row: SegmentationScoreRow

    init(row: Row) {
        stageKey = row["stage_key"]
        self.row = SegmentationScoreRow(sampleID: row["sample_id"], patientID: row["patient_id"], className: row["class"],
                                        dice: row["dice"], iou: row["iou"], positive: row["positive"])
    }
}
