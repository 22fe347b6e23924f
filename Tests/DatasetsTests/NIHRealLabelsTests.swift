import Datasets
import Foundation
import Testing
import TestSupport

/// NIH ChestX-ray14's real label file (`Data_Entry_2017_v2020.csv`, 112,120 rows), as shipped
/// by torchxrayvision and fetched by `scripts/fixtures/nih_labels.sh` (run by `make test`).
/// Override the location with `XRBENCH_NIH_LABELS`.
let nihRealLabelFile: URL = {
    let environment = ProcessInfo.processInfo.environment
    if let path = environment["XRBENCH_NIH_LABELS"] { return URL(fileURLWithPath: path) }
    let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
    return cache.appendingPathComponent("xrbench/nih/Data_Entry_2017_v2020.csv")
}()

/// Counts written by the script with Python's csv module: the independent reference.
struct NIHReferenceCounts: Decodable {
    let rows: Int
    let patients: Int
    let studies: Int
    let findings: [String]
    let positives: [String: Int]
    let sex: [String: Int]
    let view: [String: Int]
    let ageGroups: [String: Int]

    static func load() throws -> NIHReferenceCounts {
        let data = try Data(contentsOf: fixturesDirectory().appendingPathComponent("nih_counts.json"))
        return try JSONDecoder().decode(NIHReferenceCounts.self, from: data)
    }
}

/// The real file through the adapter, with `No Finding` as a label too; no images needed.
func loadRealNIH() throws -> Manifest {
    try loadNIHManifest(root: nihRealLabelFile.deletingLastPathComponent(), options: NIHOptions(
        dataEntry: nihRealLabelFile.lastPathComponent, findings: NIHOptions.allFindings + [NIHOptions.noFinding]))
}

@Suite(.enabled(if: FileManager.default.fileExists(atPath: nihRealLabelFile.path),
                "run scripts/fixtures/nih_labels.sh to fetch NIH ChestX-ray14's real label file"))
struct NIHRealLabelsTests {
    @Test func rowsPatientsAndFindingsMatchPythonCSVCounts() throws {
        let reference = try NIHReferenceCounts.load()
        let manifest = try loadRealNIH()
        #expect(manifest.samples.count == reference.rows)
        #expect(Set(manifest.samples.map(\.patientID)).count == reference.patients)
        #expect(Set(manifest.samples.map(\.studyID)).count == reference.studies)
        #expect(Array(manifest.schema.names.prefix(14)) == reference.findings)
        for finding in reference.findings + [NIHOptions.noFinding] {
            let positives = try #require(reference.positives[finding])
            #expect(manifest.valueCounts(of: finding) == [.positive: positives, .negative: reference.rows - positives], "\(finding)")
        }
        #expect(manifest.samples.filter { $0.sex == .female }.count == reference.sex["F"])
        #expect(manifest.samples.filter { $0.sex == .male }.count == reference.sex["M"])
        #expect(manifest.samples.filter { $0.attributes["projection"] == "PA" }.count == reference.view["PA"])
        #expect(manifest.samples.filter { $0.attributes["projection"] == "AP" }.count == reference.view["AP"])
        #expect(manifest.samples.allSatisfy { $0.attributes["view"] == "frontal" && $0.imagePath == $0.id })
        // No patient of two sexes; ages of one patient at most 14 years apart (Python, measured).
        #expect(manifest.issues.isEmpty, "\(manifest.issues.prefix(3))")
    }
}
