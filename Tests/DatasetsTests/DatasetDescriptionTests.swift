import Datasets
import Foundation
import Testing
import TestSupport

/// Four samples covering every counting rule: binary and multi-class labels with each value,
/// known and unknown attributes, a study name shared by two patients, three official splits; and
/// one consistency warning (patient p1's rows disagree on sex).
private func smallManifest() throws -> Manifest {
    try Manifest(dataset: "small", root: URL(fileURLWithPath: "/data/small"),
                 schema: LabelSchema([.binary("Edema"), .multiClass("site", classes: ["chest", "knee"])]), samples: [
        Sample(id: "a", patientID: "p1", studyID: "s1", imagePath: "a.png", labels: ["Edema": .positive, "site": .category("chest")],
               attributes: ["sex": "female", "age": "34", "view": "frontal", "note": "n1"], officialSplit: .train),
        Sample(id: "b", patientID: "p1", studyID: "s2", imagePath: "b.png", labels: ["Edema": .negative, "site": .category("knee")],
               attributes: ["sex": "male", "age": "35", "view": "lateral", "note": "n2"], officialSplit: .train),
        Sample(id: "c", patientID: "p2", studyID: "s1", imagePath: "c.png", labels: ["Edema": .uncertain],
               attributes: ["age": "60", "view": "AP", "note": "n3"], officialSplit: .test),
        Sample(id: "d", patientID: "p3", studyID: "s1", imagePath: "d.png", labels: ["site": .category("chest")],
               attributes: ["sex": "female"]),
    ])
}

private typealias Count = DatasetDescription.ValueCount

struct DatasetDescriptionTests {
    @Test func countsEveryLabelAndAttributeValue() throws {
        let description = DatasetDescription(try smallManifest(), attributeValueLimit: 2)
        #expect(description.summary.rows == 4 && description.summary.patients == 3 && description.summary.studies == 4)
        #expect(description.summary.labels == [
            .init(name: "Edema", kind: .binary, counts: [Count("1", 1), Count("0", 1), Count("uncertain", 1)], missing: 1),
            .init(name: "site", kind: .multiClass, counts: [Count("chest", 2), Count("knee", 1)], missing: 1),
        ])
        #expect(description.summary.attributes == [
            .init(name: "sex", known: 3, unknown: 1, distinct: 2, counts: [Count("female", 2), Count("male", 1)]),
            .init(name: "age", known: 3, unknown: 1, distinct: 3, counts: [Count("young", 1), Count("middle", 1), Count("elderly", 1)]),
            .init(name: "view", known: 3, unknown: 1, distinct: 3, counts: nil),  // three values over a limit of two
            .init(name: "note", known: 3, unknown: 1, distinct: 3, counts: nil),
        ])
        #expect(description.officialSplits.map(\.name) == ["train", "test", "none"])
        #expect(description.officialSplits.map(\.summary.rows) == [2, 1, 1])
        #expect(description.officialSplits.map(\.summary.patients) == [1, 1, 1])
        #expect(!description.isPerOfficialSplit)
        let perSplit = DatasetDescription(try smallManifest(), perOfficialSplit: true)
        #expect(perSplit.isPerOfficialSplit)
        #expect(perSplit.officialSplits[0].summary.labels[0].counts == [Count("1", 1), Count("0", 1), Count("uncertain", 0)])
        #expect(perSplit.summary.attributes[2].counts == [Count("AP", 1), Count("frontal", 1), Count("lateral", 1)])
    }

    @Test func aManifestWithoutOfficialSplitsHasNone() throws {
        let manifest = try smallManifest().filtered { $0.officialSplit == nil }
        let description = DatasetDescription(manifest, perOfficialSplit: true)
        #expect(description.officialSplits.isEmpty && !description.isPerOfficialSplit)
        #expect(description.text().contains("official split: none"))
    }

    @Test func textAndJSONMatchTheirGoldenFiles() throws {
        var description = DatasetDescription(try smallManifest(), perOfficialSplit: true, attributeValueLimit: 2)
        description.sections.append(DescriptionTable(key: "masks", title: "masks", columns: ["images", "mean area"], rows: [
            (name: "left lung", values: [.count(3), .number(0.25)]), (name: "heart", values: [.count(2), .none]),
        ]))
        try expectGolden(description.text(), file: "description_small.txt")
        try expectGolden(description.json(), file: "description_small.json")
        let parsed = try JSONSerialization.jsonObject(with: Data(description.json().utf8)) as? [String: Any]
        #expect(parsed?["rows"] as? Int == 4 && (parsed?["labels"] as? [Any])?.count == 2)
    }

}

/// The description of the real CheXpert and NIH label files against the counts of Python's
/// csv module (`scripts/fixtures/chexpert_labels.sh`, `nih_labels.sh`).
struct DatasetDescriptionRealLabelsTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: cheXpertRealLabelFile.path),
                   "run scripts/fixtures/chexpert_labels.sh to fetch CheXpert's real label file"))
    func realCheXpertLabelsMatchPythonCounts() throws {
        let file = cheXpertRealLabelFile
        let reference = try CheXpertDescriptionReference.load()
        let manifest = try loadCheXpertManifest(root: file.deletingLastPathComponent(), options: CheXpertOptions(
            defaultUncertaintyPolicy: .keep, labelFiles: [.init(path: file.lastPathComponent, split: .train)]))
        let description = DatasetDescription(manifest, perOfficialSplit: true)
        #expect(description.summary.rows == reference.rows)
        #expect(description.summary.patients == reference.patients)
        #expect(description.summary.studies == reference.studies)
        #expect(description.officialSplits.map(\.name) == ["train"] && description.officialSplits[0].summary.rows == reference.rows)
        for label in description.summary.labels {
            let counts = try #require(reference.counts[label.name])
            #expect(label.counts == [Count("1", counts["1.0"]!), Count("0", counts["0.0"]!), Count("uncertain", counts["-1.0"]!)], "\(label.name)")
            #expect(label.missing == counts["blank"], "\(label.name)")
        }
        let attributes = Dictionary(uniqueKeysWithValues: description.summary.attributes.map { ($0.name, $0) })
        #expect(attributes["sex"]?.counts == [Count("female", reference.sex["Female"]!), Count("male", reference.sex["Male"]!)])
        #expect(attributes["sex"]?.unknown == reference.sex["Unknown", default: 0])
        #expect(attributes["age"]?.counts == ["young", "middle", "elderly"].map { Count($0, reference.ageGroups[$0]!) })
        #expect(attributes["age"]?.unknown == reference.ageGroups["unknown"])
        #expect(attributes["view"]?.counts == [Count("frontal", reference.views["Frontal"]!), Count("lateral", reference.views["Lateral"]!)])
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: nihRealLabelFile.path),
                   "run scripts/fixtures/nih_labels.sh to fetch NIH ChestX-ray14's real label file"))
    func realNIHLabelsMatchPythonCounts() throws {
        let reference = try NIHReferenceCounts.load()
        let description = DatasetDescription(try loadRealNIH())
        #expect(description.summary.rows == reference.rows)
        #expect(description.summary.patients == reference.patients)
        #expect(description.summary.studies == reference.studies)
        #expect(description.officialSplits.isEmpty)
        for label in description.summary.labels {
            let positives = try #require(reference.positives[label.name])
            #expect(label.counts == [Count("1", positives), Count("0", reference.rows - positives), Count("uncertain", 0)], "\(label.name)")
            #expect(label.missing == 0)
        }
        let attributes = Dictionary(uniqueKeysWithValues: description.summary.attributes.map { ($0.name, $0) })
        #expect(attributes["sex"]?.counts == [Count("female", reference.sex["F"]!), Count("male", reference.sex["M"]!)])
        #expect(attributes["age"]?.counts == ["young", "middle", "elderly"].map { Count($0, reference.ageGroups[$0]!) })
        #expect(attributes["age"]?.unknown == reference.ageGroups["unknown"])
        #expect(attributes["view"]?.counts == [Count("frontal", reference.rows)])
        #expect(attributes["projection"]?.counts == [Count("PA", reference.view["PA"]!), Count("AP", reference.view["AP"]!)])
    }
}

/// The parts of `chexpert_train_counts.json` the description is checked against.
private struct CheXpertDescriptionReference: Decodable {
    let rows: Int
    let patients: Int
    let studies: Int
    let sex: [String: Int]
    let views: [String: Int]
    let ageGroups: [String: Int]
    let counts: [String: [String: Int]]

    static func load() throws -> CheXpertDescriptionReference {
        let data = try Data(contentsOf: fixturesDirectory().appendingPathComponent("chexpert_train_counts.json"))
        return try JSONDecoder().decode(CheXpertDescriptionReference.self, from: data)
    }
}

/// Compares `actual` with the golden file `Fixtures/<file>`; with `XRBENCH_RECORD_GOLDEN=1`
/// in the environment, writes it instead (then review the diff and commit it).
private func expectGolden(_ actual: String, file: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = fixturesDirectory().appendingPathComponent(file)
    if ProcessInfo.processInfo.environment["XRBENCH_RECORD_GOLDEN"] == "1" {
        try actual.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(actual == expected, "\(file) differs; run with XRBENCH_RECORD_GOLDEN=1 to re-record it", sourceLocation: sourceLocation)
}
