/// The split a dataset's publishers assigned a sample to, when they did.
public enum OfficialSplit: String, Sendable, Hashable, Codable, CaseIterable {
    /// Training data.
    case train
    /// Validation data (CheXpert's `valid.csv`, MURA's `valid/`).
    case validation
    /// Held-out test data.
    case test
}

/// One image of a dataset with everything the evaluation needs to know about it.
public struct Sample: Sendable, Hashable, Codable {
    /// Unique within its manifest; stable across runs (usually the relative image path).
    public let id: String
    /// The patient the image belongs to; splits never separate a patient's images.
    public let patientID: String
    /// The study (examination) within the patient; MURA labels and aggregates by study.
    public let studyID: String
    /// The image file relative to the manifest's root directory, with `/` separators.
    public let imagePath: String
    /// Label values by label name. Absent keys mean `.missing`; `.missing` values are never
    /// stored, so equal samples have equal dictionaries.
    public let labels: [String: LabelValue]
    /// Descriptive attributes by name: `sex` (`female`/`male`, absent when unknown), `age`
    /// (whole years, absent when unknown), `view`, and dataset-specific ones.
    public let attributes: [String: String]
    /// The publishers' split, if the dataset has one.
    public let officialSplit: OfficialSplit?
    /// Segmentation masks by class name, one per class of the manifest's `segmentation`; nil
    /// in a manifest without masks (and then absent from its JSON, so manifests without masks
    /// encode as they always have).
    public let masks: [String: MaskSource]?

    /// Creates a sample; `.missing` label values are dropped (absence means missing), and an
    /// empty `masks` is nil.
    public init(id: String, patientID: String, studyID: String, imagePath: String,
                labels: [String: LabelValue], attributes: [String: String] = [:],
                officialSplit: OfficialSplit? = nil, masks: [String: MaskSource]? = nil) {
        self.id = id
        self.patientID = patientID
        self.studyID = studyID
        self.imagePath = imagePath
        // Filtering rebuilds the dictionary, so only pay for it when there is something to drop.
        self.labels = labels.values.contains(.missing) ? labels.filter { $0.value != .missing } : labels
        self.attributes = attributes
        self.officialSplit = officialSplit
        self.masks = masks?.isEmpty == true ? nil : masks
    }

    /// `sample` with `labels` and `attributes` equal to its own (shared storage), as it is:
    /// nothing dropped or checked again.
    init(sharing sample: Sample, labels: [String: LabelValue], attributes: [String: String]) {
        self.id = sample.id
        self.patientID = sample.patientID
        self.studyID = sample.studyID
        self.imagePath = sample.imagePath
        self.labels = labels
        self.attributes = attributes
        self.officialSplit = sample.officialSplit
        self.masks = sample.masks
    }

    /// The value of label `name`, `.missing` when the sample has none.
    public func label(_ name: String) -> LabelValue {
        labels[name] ?? .missing
    }

    /// The patient's sex when known.
    public var sex: Sex? { attributes[AttributeName.sex].flatMap(Sex.init(rawValue:)) }

    /// The patient's age in whole years when known.
    public var age: Int? { attributes[AttributeName.age].flatMap { Int($0) } }

    /// The paper's age subgroup when the age is known.
    public var ageGroup: AgeGroup? { age.map(AgeGroup.init(age:)) }
}

/// Attribute names shared by every adapter, so fairness specs work on any dataset.
public enum AttributeName {
    /// `female` or `male`; absent when the source says Unknown or nothing.
    public static let sex = "sex"
    /// Age in whole years; absent when the source gives none (CheXpert's age 0 included).
    public static let age = "age"
    /// The projection: `frontal` or `lateral`.
    public static let view = "view"
}

/// Patient sex as used for fairness subgroups.
public enum Sex: String, Sendable, Hashable, Codable, CaseIterable {
    /// Female patients.
    case female
    /// Male patients.
    case male
}

/// The paper's age subgroups: young 0–35, middle 35–60, elderly 60 and over.
public enum AgeGroup: String, Sendable, Hashable, Codable, CaseIterable {
    /// Younger than 35.
    case young
    /// 35 to 59.
    case middle
    /// 60 and older.
    case elderly

    /// The group of an age in whole years (the paper's bins, lower bound inclusive).
    public init(age: Int) {
        precondition(age >= 0, "age must not be negative")
        switch age {
        case ..<35: self = .young
        case ..<60: self = .middle
        default: self = .elderly
        }
    }
}
