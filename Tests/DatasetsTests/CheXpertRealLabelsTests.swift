import Datasets
import Foundation
import Testing
import TestSupport

/// CheXpert's real 223,414-row training label file, as shipped by torchxrayvision and fetched
/// by `scripts/fixtures/chexpert_labels.sh` (run by `make test`). Override the location with
/// `XRBENCH_CHEXPERT_LABELS`.
let cheXpertRealLabelFile: URL = {
    let environment = ProcessInfo.processInfo.environment
    if let path = environment["XRBENCH_CHEXPERT_LABELS"] { return URL(fileURLWithPath: path) }
    let cache = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
    return cache.appendingPathComponent("xrbench/chexpert/chexpert_train.csv")
}()

/// Counts written by the script with Python's csv module: the independent reference.
private struct ReferenceCounts: Decodable {
    let rows: Int
    let frontal: Int
    let ageZero: Int
    let sex: [String: Int]
    let findings: [String]
    let counts: [String: [String: Int]]
    let frontalCounts: [String: [String: Int]]
}

private func loadReference() throws -> ReferenceCounts {
    let data = try Data(contentsOf: fixturesDirectory().appendingPathComponent("chexpert_train_counts.json"))
    return try JSONDecoder().decode(ReferenceCounts.self, from: data)
}

/// Label counts per finding in the fixture's vocabulary ("1.0", "0.0", "-1.0", "blank"), in
/// one pass over the samples' stored (non-missing) labels; blanks are the remainder.
private func counts(in samples: [Sample], findings: [String]) -> [String: [String: Int]] {
    var result: [String: [String: Int]] = [:]
    for finding in findings { result[finding] = ["1.0": 0, "0.0": 0, "-1.0": 0, "blank": samples.count] }
    for sample in samples {
        for (finding, value) in sample.labels {
            let key: String
            switch value {
            case .positive: key = "1.0"
            case .negative: key = "0.0"
            case .uncertain: key = "-1.0"
            case .missing, .category: continue
            }
            result[finding]?[key, default: 0] += 1
            result[finding]?["blank", default: 0] -= 1
        }
    }
    return result
}

private func loadReal(frontalOnly: Bool) throws -> Manifest {
    try loadCheXpertManifest(root: cheXpertRealLabelFile.deletingLastPathComponent(), options: CheXpertOptions(
        defaultUncertaintyPolicy: .keep, frontalOnly: frontalOnly,
        labelFiles: [.init(path: cheXpertRealLabelFile.lastPathComponent, split: .train)]))
}

@Suite(.enabled(if: FileManager.default.fileExists(atPath: cheXpertRealLabelFile.path),
                "run scripts/fixtures/chexpert_labels.sh to fetch CheXpert's real label file"))
struct CheXpertRealLabelsTests {
    @Test func allRowsMatchPythonCSVCounts() throws {
        let reference = try loadReference()
        let manifest = try loadReal(frontalOnly: false)
        #expect(manifest.samples.count == reference.rows)
        #expect(manifest.schema.names == reference.findings)
        #expect(manifest.samples.filter { $0.attributes["view"] == "frontal" }.count == reference.frontal)
        #expect(counts(in: manifest.samples, findings: reference.findings) == reference.counts)
        // Sex: Female/Male become attributes; Unknown rows are kept without one.
        #expect(manifest.samples.filter { $0.sex == .female }.count == reference.sex["Female"])
        #expect(manifest.samples.filter { $0.sex == .male }.count == reference.sex["Male"])
        #expect(manifest.samples.filter { $0.sex == nil }.count == reference.sex["Unknown", default: 0])
        #expect(manifest.samples.filter { $0.age == nil }.count == reference.ageZero)
        #expect(manifest.samples.allSatisfy { $0.officialSplit == .train })
        let frontal = manifest.samples.filter { $0.attributes["view"] == "frontal" }
        #expect(counts(in: frontal, findings: reference.findings) == reference.frontalCounts)
        let patients = Set(manifest.samples.map(\.patientID))
        #expect(patients.count > 60_000 && patients.allSatisfy { $0.hasPrefix("patient") })
        // The real file contradicts itself nowhere: no patient of two sexes, ages within a
        // study equal and across a patient's studies at most 14 years apart (Python, measured).
        #expect(manifest.issues.isEmpty, "\(manifest.issues.prefix(3))")
    }

    @Test func frontalFilterAndUncertaintyPoliciesMatchPythonCSVCounts() throws {
        let reference = try loadReference()
        let manifest = try loadCheXpertManifest(root: cheXpertRealLabelFile.deletingLastPathComponent(), options: CheXpertOptions(
            findings: ["Atelectasis", "Edema", "Cardiomegaly"], defaultUncertaintyPolicy: .ignore,
            uncertaintyPolicies: ["Atelectasis": .ones, "Edema": .zeros], frontalOnly: true,
            labelFiles: [.init(path: cheXpertRealLabelFile.lastPathComponent, split: .train)]))
        #expect(manifest.samples.count == reference.frontal)
        let atelectasis = try #require(reference.frontalCounts["Atelectasis"])
        let edema = try #require(reference.frontalCounts["Edema"])
        let cardiomegaly = try #require(reference.frontalCounts["Cardiomegaly"])
        let atelectasisCounts = manifest.valueCounts(of: "Atelectasis")
        #expect(atelectasisCounts[.positive] == atelectasis["1.0"]! + atelectasis["-1.0"]!)
        #expect(atelectasisCounts[.negative] == atelectasis["0.0"]!)
        let edemaCounts = manifest.valueCounts(of: "Edema")
        #expect(edemaCounts[.negative] == edema["0.0"]! + edema["-1.0"]!)
        #expect(edemaCounts[.positive] == edema["1.0"]!)
        let cardiomegalyCounts = manifest.valueCounts(of: "Cardiomegaly")
        #expect(cardiomegalyCounts[.missing] == cardiomegaly["blank"]! + cardiomegaly["-1.0"]!)
        #expect(cardiomegalyCounts[.positive] == cardiomegaly["1.0"]!)
        #expect(cardiomegalyCounts[.uncertain] == nil)
    }
}
