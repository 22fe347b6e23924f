import Foundation

/// What a researcher checks before trusting a run on a dataset, computed from its manifest
/// alone (no images): sizes, official split sizes, the counts of every label value and of
/// every attribute value, optionally per official split.
///
/// Render it with `text()` (aligned tables) or `json()` (keys in a fixed order). Adapters with
/// statistics of their own (masks, for segmentation datasets) append `sections`, which both
/// renderings show after the attributes.
public struct DatasetDescription: Sendable, Hashable {
    /// The manifest's dataset name (`nih`, `chexpert`, the spec's csv name, …).
    public let dataset: String
    /// The folder image paths are relative to.
    public let root: String
    /// The whole dataset.
    public let summary: Summary
    /// Each official split present, in the order train, validation, test, then samples without
    /// one (`split` nil); empty when no sample has an official split. Their `labels` and
    /// `attributes` are filled only when the description was made per official split.
    public let officialSplits: [SplitSummary]
    /// Further statistics, shown after the attributes.
    public var sections: [DescriptionTable]
    /// The manifest's consistency warnings (rows that contradict each other, see
    /// `ManifestConsistency`), shown last.
    public let issues: [DatasetIssue]

    /// Sizes and counts of a set of samples.
    public struct Summary: Sendable, Hashable {
        /// Samples (images).
        public let rows: Int
        /// Distinct patient ids.
        public let patients: Int
        /// Distinct (patient, study) pairs.
        public let studies: Int
        /// One entry per label, in schema order.
        public let labels: [LabelCounts]
        /// `sex`, `age` and `view` (always, since fairness and view filters rely on them), then
        /// every other attribute some sample has, by name.
        public let attributes: [AttributeCounts]
    }

    /// A `Summary` of the samples of one official split.
    public struct SplitSummary: Sendable, Hashable {
        /// The split; nil for samples without one.
        public let split: OfficialSplit?
        /// Its samples' summary (labels and attributes empty unless described per split).
        public let summary: Summary

        /// The split's name: `train`, `validation`, `test`, or `none`.
        public var name: String { split?.rawValue ?? "none" }
    }

    /// How often each value of one label occurs.
    public struct LabelCounts: Sendable, Hashable {
        /// The label's name.
        public let name: String
        /// Binary or multi-class.
        public let kind: LabelKind
        /// Binary: `1`, `0`, `uncertain`; multi-class: each class in schema order. Zeros included.
        public let counts: [ValueCount]
        /// Samples without a value.
        public let missing: Int

        /// Creates the counts of one label.
        public init(name: String, kind: LabelKind, counts: [ValueCount], missing: Int) {
            self.name = name
            self.kind = kind
            self.counts = counts
            self.missing = missing
        }
    }

    /// How often each value of one attribute occurs.
    public struct AttributeCounts: Sendable, Hashable {
        /// The attribute's name.
        public let name: String
        /// Samples with a value.
        public let known: Int
        /// Samples without one (unknown).
        public let unknown: Int
        /// Distinct values.
        public let distinct: Int
        /// `sex`: female, male; `age`: the paper's bins young (0–34), middle (35–59), elderly
        /// (60+) by `AgeGroup`; others: each value, most frequent first (ties by value). Nil
        /// when an attribute has more distinct values than the description's limit.
        public let counts: [ValueCount]?

        /// Creates the counts of one attribute.
        public init(name: String, known: Int, unknown: Int, distinct: Int, counts: [ValueCount]?) {
            self.name = name
            self.known = known
            self.unknown = unknown
            self.distinct = distinct
            self.counts = counts
        }
    }

    /// A value and how many samples have it.
    public struct ValueCount: Sendable, Hashable {
        /// The value (a label value, a class, an attribute value, an age bin).
        public let value: String
        /// Samples with it.
        public let count: Int

        /// Creates a count.
        public init(_ value: String, _ count: Int) {
            self.value = value
            self.count = count
        }
    }

    /// The default limit on distinct values listed for an attribute.
    public static let defaultAttributeValueLimit = 20

    /// Describes a manifest.
    ///
    /// - Parameters:
    ///   - manifest: the dataset as its adapter read it.
    ///   - perOfficialSplit: also count labels and attributes within each official split.
    ///   - attributeValueLimit: attributes with more distinct values than this show only
    ///     their distinct count (`sex` and `age` always show theirs).
    /// - Complexity: O(samples × (labels + attributes)).
    public init(_ manifest: Manifest, perOfficialSplit: Bool = false,
                attributeValueLimit: Int = DatasetDescription.defaultAttributeValueLimit) {
        dataset = manifest.dataset
        root = manifest.root.path
        let whole = Summary(manifest.samples[...], schema: manifest.schema, attributeNames: nil,
                            attributeValueLimit: attributeValueLimit, counting: true)
        summary = whole
        var members: [OfficialSplit?: [Sample]] = [:]
        for sample in manifest.samples { members[sample.officialSplit, default: []].append(sample) }
        let order: [OfficialSplit?] = OfficialSplit.allCases.map { $0 } + [nil]
        officialSplits = members.count == 1 && members[nil] != nil ? [] : order.compactMap { split in
            members[split].map {
                SplitSummary(split: split, summary: Summary($0[...], schema: manifest.schema, attributeNames: whole.attributes.map(\.name),
                                                            attributeValueLimit: attributeValueLimit, counting: perOfficialSplit))
            }
        }
        sections = []
        issues = manifest.issues
    }

    /// Whether `officialSplits` carry label and attribute counts.
    public var isPerOfficialSplit: Bool {
        officialSplits.contains { !$0.summary.labels.isEmpty || !$0.summary.attributes.isEmpty }
    }
}

extension DatasetDescription.Summary {
    /// Counts over `samples`; with `counting` false only the sizes. `attributeNames` fixes the
    /// attributes counted (a split's are the whole dataset's); nil takes the samples'.
    init(_ samples: ArraySlice<Sample>, schema: LabelSchema, attributeNames: [String]?, attributeValueLimit: Int, counting: Bool) {
        rows = samples.count
        var patientSet = Set<String>(minimumCapacity: samples.count)
        var studySet = Set<StudyKey>(minimumCapacity: samples.count)
        for sample in samples {
            patientSet.insert(sample.patientID)
            studySet.insert(StudyKey(patient: sample.patientID, study: sample.studyID))
        }
        patients = patientSet.count
        studies = studySet.count
        guard counting else {
            labels = []
            attributes = []
            return
        }
        labels = Self.labelCounts(samples, schema: schema)
        attributes = Self.attributeCounts(samples, names: attributeNames, limit: attributeValueLimit)
    }

    private struct StudyKey: Hashable {
        let patient: String
        let study: String
    }

    private static func labelCounts(_ samples: ArraySlice<Sample>, schema: LabelSchema) -> [DatasetDescription.LabelCounts] {
        var indexOfLabel: [String: Int] = [:]
        for (index, definition) in schema.labels.enumerated() { indexOfLabel[definition.name] = index }
        // Per label: value text → count, over the stored (non-missing) values only.
        var tallies = [[String: Int]](repeating: [:], count: schema.labels.count)
        for sample in samples {
            for (name, value) in sample.labels {
                guard let index = indexOfLabel[name] else { continue }
                let key: String
                switch value {
                case .positive: key = "1"
                case .negative: key = "0"
                case .uncertain: key = "uncertain"
                case .missing: continue
                case .category(let name): key = name
                }
                tallies[index][key, default: 0] += 1
            }
        }
        return schema.labels.enumerated().map { index, definition in
            let keys = definition.kind == .binary ? ["1", "0", "uncertain"] : definition.classes
            let counts = keys.map { DatasetDescription.ValueCount($0, tallies[index][$0] ?? 0) }
            return DatasetDescription.LabelCounts(name: definition.name, kind: definition.kind, counts: counts,
                                                  missing: samples.count - counts.reduce(0) { $0 + $1.count })
        }
    }

    private static func attributeCounts(_ samples: ArraySlice<Sample>, names: [String]?, limit: Int) -> [DatasetDescription.AttributeCounts] {
        var tallies: [String: [String: Int]] = [AttributeName.sex: [:], AttributeName.age: [:], AttributeName.view: [:]]
        for sample in samples {
            for (name, value) in sample.attributes { tallies[name, default: [:]][value, default: 0] += 1 }
        }
        let shared = [AttributeName.sex, AttributeName.age, AttributeName.view]
        let names = names ?? shared + tallies.keys.filter { !shared.contains($0) }.sorted()
        return names.map { name in
            let values = tallies[name] ?? [:]
            var known = values.values.reduce(0, +)
            let counts: [DatasetDescription.ValueCount]?
            switch name {
            case AttributeName.sex:
                // Only the two values the rest of xrbench reads as a sex are known.
                counts = Sex.allCases.map { DatasetDescription.ValueCount($0.rawValue, values[$0.rawValue] ?? 0) }
                known = counts!.reduce(0) { $0 + $1.count }
            case AttributeName.age:
                var bins = [AgeGroup: Int]()
                for (text, count) in values {
                    guard let age = Int(text), age >= 0 else { continue }
                    bins[AgeGroup(age: age), default: 0] += count
                }
                counts = AgeGroup.allCases.map { DatasetDescription.ValueCount($0.rawValue, bins[$0] ?? 0) }
                known = counts!.reduce(0) { $0 + $1.count }
            default:
                counts = values.count > limit ? nil : values
                    .sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                    .map { DatasetDescription.ValueCount($0.key, $0.value) }
            }
            return DatasetDescription.AttributeCounts(name: name, known: known, unknown: samples.count - known,
                                                      distinct: values.count, counts: counts)
        }
    }
}

/// A titled table of further statistics in a `DatasetDescription` (such as mask statistics of
/// a segmentation dataset): named rows of values under named columns.
public struct DescriptionTable: Sendable, Hashable {
    /// The table's key in the JSON rendering (`masks`).
    public var key: String
    /// Its heading in the text rendering.
    public var title: String
    /// Column names, after the row-name column.
    public var columns: [String]
    /// The rows: a name and one value per column.
    public var rows: [(name: String, values: [Value])] {
        get { storedRows.map { ($0.name, $0.values) } }
        set { storedRows = newValue.map { Row(name: $0.name, values: $0.values) } }
    }
    private var storedRows: [Row]

    /// One cell.
    public enum Value: Sendable, Hashable {
        /// A count.
        case count(Int)
        /// A measurement.
        case number(Double)
        /// Text.
        case text(String)
        /// No value.
        case none
    }

    private struct Row: Sendable, Hashable {
        let name: String
        let values: [Value]
    }

    /// Creates a table; every row must have one value per column.
    public init(key: String, title: String, columns: [String], rows: [(name: String, values: [Value])]) {
        precondition(rows.allSatisfy { $0.values.count == columns.count }, "every row needs one value per column")
        self.key = key
        self.title = title
        self.columns = columns
        self.storedRows = rows.map { Row(name: $0.name, values: $0.values) }
    }
}
