/// A part of a dataset split.
public enum SplitPart: String, Sendable, Codable, Equatable, CaseIterable {
    /// Rows the probe trains on.
    case train
    /// Rows that drive the learning-rate plateau, early stopping and weight selection.
    case validation
    /// Rows the reported metrics are computed on.
    case test
}

/// How a dataset's labels are encoded in `ManifestRow.labels`.
public enum LabelEncoding: Sendable, Codable, Equatable {
    /// One column per label name, each 0 or 1, NaN where unknown (never counted either way).
    case multiLabel([String])
    /// One column holding the class index into the class names.
    case multiClass([String])

    /// Names of the labels (multi-label) or classes (multi-class).
    public var names: [String] {
        switch self {
        case let .multiLabel(names), let .multiClass(names): return names
        }
    }

    /// Number of values each row carries.
    var columns: Int {
        switch self {
        case let .multiLabel(names): return names.count
        case .multiClass: return 1
        }
    }
}

/// The part of a manifest a split depends on: nothing about any backbone or embedding, so a
/// split is the same for every model by construction.
public struct ManifestRow: Sendable, Codable, Equatable {
    /// Unique sample (image) id.
    public var sampleID: String
    /// Patient id; all of a patient's samples land in the same part.
    public var patientID: String
    /// Label values as described by the dataset's `LabelEncoding`.
    public var labels: [Double]
    /// Attributes for subgroup filters: "sex", "age", "view", or anything else in the manifest.
    public var attributes: [String: String]
    /// The dataset's official part, when it has one.
    public var officialPart: SplitPart?

    /// Creates a manifest row.
    public init(sampleID: String, patientID: String, labels: [Double], attributes: [String: String] = [:], officialPart: SplitPart? = nil) {
        self.sampleID = sampleID
        self.patientID = patientID
        self.labels = labels
        self.attributes = attributes
        self.officialPart = officialPart
    }
}

/// What defines a split besides the manifest.
public struct SplitConfiguration: Sendable, Codable, Equatable {
    /// Seed for the generated split (when there is no official one) and for the fraction draw.
    public var seed: UInt64
    /// Fraction of training patients kept, in (0, 1]. Validation and test are never reduced.
    public var fraction: Double
    /// Subgroup the model is trained and validated on (e.g. `.sex("female")`).
    public var trainFilter: SubgroupFilter
    /// Subgroup the model is tested on.
    public var testFilter: SubgroupFilter
    /// Shares of patients for a generated split (train, validation, test); normalized to sum 1.
    /// Also used to carve a missing validation or test part out of an official training part.
    public var ratios: [Double]

    /// Creates a configuration; by default the whole training set, no subgroup, and a generated
    /// split of 70/10/20% of patients when the dataset has no official split.
    public init(seed: UInt64, fraction: Double = 1, trainFilter: SubgroupFilter = .all,
                testFilter: SubgroupFilter = .all, ratios: [Double] = [0.7, 0.1, 0.2]) {
        self.seed = seed
        self.fraction = fraction
        self.trainFilter = trainFilter
        self.testFilter = testFilter
        self.ratios = ratios
    }
}

/// Per-label counts of a training set, so a fraction too small to train a label is reported.
public struct LabelSupport: Sendable, Codable, Equatable {
    /// Label (or class) name.
    public var label: String
    /// Training samples positive for the label (of the class, for multi-class).
    public var positives: Int
    /// Training samples known negative for the label.
    public var negatives: Int
    /// Whether a patient was added beyond the fraction to give this label a positive or a negative.
    public var patientAdded: Bool
    /// Whether the training set has both classes for the label; when false, training for this
    /// label is not meaningful and results for it must be reported as not computable.
    public var isTrainable: Bool { positives > 0 && negatives > 0 }
}

/// Row indices of each part, ascending, plus what the training fraction holds.
public struct DatasetSplit: Sendable, Codable, Equatable {
    /// Training rows (after the fraction and the train filter).
    public var train: [Int]
    /// Validation rows (after the train filter).
    public var validation: [Int]
    /// Test rows (after the test filter).
    public var test: [Int]
    /// Training patients drawn by the fraction, before additions for label support.
    public var fractionPatientCount: Int
    /// Training patients available to the fraction (after the train filter).
    public var availablePatientCount: Int
    /// Label support of the training rows.
    public var support: [LabelSupport]
    /// Whether the parts came from the dataset's official split.
    public var usedOfficialSplit: Bool

    /// Labels the training set cannot train (one class only), with a sentence each.
    public var untrainableLabels: [(label: String, reason: String)] {
        support.filter { !$0.isTrainable }.map {
            ($0.label, "training set has \($0.positives) positive and \($0.negatives) negative samples for '\($0.label)'")
        }
    }
}
