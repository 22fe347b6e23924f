import Datasets
import Foundation
import Testing

private let schema = LabelSchema([.binary("finding"), .multiClass("view", classes: ["frontal", "lateral"])])

private func sample(_ id: String, finding: LabelValue = .positive, attributes: [String: String] = [:]) -> Sample {
    Sample(id: id, patientID: "p-" + id, studyID: "s-" + id, imagePath: id + ".png",
           labels: ["finding": finding, "view": .category("frontal")], attributes: attributes)
}

struct ManifestTests {
    @Test func samplesAreSortedByIdWhateverTheInputOrder() throws {
        let a = try Manifest(dataset: "t", root: URL(fileURLWithPath: "/a"), schema: schema,
                             samples: [sample("b"), sample("a"), sample("c")])
        let b = try Manifest(dataset: "t", root: URL(fileURLWithPath: "/elsewhere"), schema: schema,
                             samples: [sample("c"), sample("b"), sample("a")])
        #expect(a.samples.map(\.id) == ["a", "b", "c"])
        // Same content, different root: same canonical bytes (the cache survives a move).
        #expect(a.canonicalSerialization() == b.canonicalSerialization())
        #expect(a.imageURL(of: a.samples[0]).path == "/a/a.png")
    }

    @Test func canonicalSerializationIsExactAndEscaped() throws {
        let manifest = try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: schema, samples: [
            Sample(id: "x\ty", patientID: "p\\1", studyID: "s", imagePath: "a\nb.png",
                   labels: ["finding": .uncertain, "view": .category("lateral")],
                   attributes: ["sex": "female", "age": "40"], officialSplit: .test),
            Sample(id: "a", patientID: "p", studyID: "s", imagePath: "a.png", labels: ["finding": .missing]),
        ])
        let text = String(decoding: manifest.canonicalSerialization(), as: UTF8.self)
        #expect(text == """
            xrbench-manifest\t1
            dataset\tt
            label\tfinding\tbinary
            label\tview\tmultiClass\tfrontal\tlateral
            sample\ta\tp\ts\ta.png\t\t\t\t0
            sample\tx\\ty\tp\\\\1\ts\ta\\nb.png\ttest\t-1\t=lateral\t2\tage\t40\tsex\tfemale

            """)
    }

    @Test func anyChangeToContentChangesTheSerialization() throws {
        let base = try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: schema, samples: [sample("a"), sample("b")])
        let variants = [
            try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: schema, samples: [sample("a"), sample("b", finding: .negative)]),
            try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: schema, samples: [sample("a"), sample("b", attributes: ["sex": "male"])]),
            try Manifest(dataset: "u", root: URL(fileURLWithPath: "/"), schema: schema, samples: [sample("a"), sample("b")]),
            try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: schema, samples: [sample("a")]),
        ]
        for variant in variants {
            #expect(variant.canonicalSerialization() != base.canonicalSerialization())
        }
    }

    @Test func duplicateIdsAndInvalidLabelsAreRejected() {
        #expect(throws: DatasetError.duplicateSampleID(file: "labels.csv", id: "a")) {
            try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: schema,
                         samples: [sample("a"), sample("b"), sample("a")], source: "labels.csv")
        }
        let badClass = Sample(id: "a", patientID: "p", studyID: "s", imagePath: "a.png", labels: ["view": .category("oblique")])
        #expect(throws: DatasetError.invalidLabelValue(file: "t", sampleID: "a", label: "view", value: "=oblique",
                                                       allowed: "frontal, lateral or missing")) {
            try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: schema, samples: [badClass])
        }
        let unknownLabel = Sample(id: "a", patientID: "p", studyID: "s", imagePath: "a.png", labels: ["other": .positive])
        #expect(throws: DatasetError.self) {
            try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: schema, samples: [unknownLabel])
        }
    }

    @Test func labelValuesRoundTripThroughTextAndCodable() throws {
        for value in [LabelValue.positive, .negative, .uncertain, .missing, .category("1"), .category("")] {
            #expect(LabelValue(canonicalText: value.canonicalText) == value)
        }
        #expect(LabelValue(canonicalText: "2") == nil)
        let manifest = try Manifest(dataset: "t", root: URL(fileURLWithPath: "/r"), schema: schema, samples: [sample("a"), sample("b")])
        let decoded = try JSONDecoder().decode(Manifest.self, from: JSONEncoder().encode(manifest))
        #expect(decoded == manifest)
    }

    @Test func subgroupHelpersFollowThePaperBins() {
        #expect(AgeGroup(age: 34) == .young && AgeGroup(age: 35) == .middle && AgeGroup(age: 59) == .middle && AgeGroup(age: 60) == .elderly)
        let known = sample("a", attributes: ["sex": "female", "age": "61"])
        #expect(known.sex == .female && known.age == 61 && known.ageGroup == .elderly)
        let unknown = sample("b", attributes: ["sex": "Unknown"])
        #expect(unknown.sex == nil && unknown.age == nil && unknown.ageGroup == nil)
    }
}
