import Datasets
import Foundation
import Testing
import TestSupport

/// Rows that contradict each other: the same image twice (an error naming both places), one
/// patient with two sexes or ages too far apart (warnings naming file, line and patient).
@Suite struct ConsistencyTests {
    private let header = "Path,Sex,Age,Frontal/Lateral,AP/PA,Edema"

    private func cheXpertFolder(train: [String], valid: [String]? = nil) throws -> URL {
        let folder = try makeTemporaryDirectory()
        try ([header] + train).joined(separator: "\n").write(to: folder.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        if let valid {
            try ([header] + valid).joined(separator: "\n").write(to: folder.appendingPathComponent("valid.csv"), atomically: true, encoding: .utf8)
        }
        return folder
    }

    private func options(valid: Bool = false) -> CheXpertOptions {
        CheXpertOptions(findings: ["Edema"], labelFiles: [.init(path: "train.csv", split: .train)]
                        + (valid ? [.init(path: "valid.csv", split: .validation)] : []))
    }

    private func row(_ patient: Int, study: Int = 1, view: Int = 1, sex: String = "Female", age: Int = 50) -> String {
        "CheXpert-v1.0-small/train/patient\(patient)/study\(study)/view\(view)_frontal.jpg,\(sex),\(age),Frontal,AP,1.0"
    }

    @Test func anImageListedTwiceNamesTheFileAndBothLines() throws {
        let folder = try cheXpertFolder(train: [row(1), row(2), row(1, view: 2), row(1)])
        let error = try #require(throws: DatasetError.self) { try loadCheXpertManifest(root: folder, options: options()) }
        let train = folder.appendingPathComponent("train.csv").path
        #expect(error == .listedTwice(id: "CheXpert-v1.0-small/train/patient1/study1/view1_frontal.jpg",
                                      first: SourceLine(file: train, line: 2), second: SourceLine(file: train, line: 5)))
        #expect(error.description.hasPrefix("\(train), line 5: \"CheXpert-v1.0-small/train/patient1/study1/view1_frontal.jpg\" is listed again (first at line 2)"))
    }

    @Test func anImageInBothLabelFilesNamesBothFiles() throws {
        let folder = try cheXpertFolder(train: [row(1), row(2)], valid: [row(3), row(2)])
        let error = try #require(throws: DatasetError.self) { try loadCheXpertManifest(root: folder, options: options(valid: true)) }
        #expect(error.description.contains("valid.csv, line 3: "))
        #expect(error.description.contains("(first at \(folder.appendingPathComponent("train.csv").path), line 3)"))
    }

    @Test func oneImageUnderTwoPrefixesIsTheSameImage() throws {
        // CheXpert ids keep the first path component; the image path drops it: two ids, one file.
        let other = row(1).replacingOccurrences(of: "CheXpert-v1.0-small/", with: "CheXpert-v1.0/")
        let folder = try cheXpertFolder(train: [row(1), row(2), other])
        let manifest = try loadCheXpertManifest(root: folder, options: options())
        #expect(manifest.issues.count == 1)
        let issue = try #require(manifest.issues.first)
        #expect(issue.line == 4 && issue.patientID == "patient1" && issue.file.hasSuffix("train.csv"))
        #expect(issue.message.contains("is also listed as \"CheXpert-v1.0-small/train/patient1/study1/view1_frontal.jpg\" (\(issue.file), line 2); it counts twice"))
    }

    @Test func aPatientOfTwoSexesIsAWarningWithFileLineAndPatient() throws {
        let folder = try cheXpertFolder(train: [row(1, sex: "Female"), row(2, sex: "Male"), row(1, study: 2, sex: "Male"),
                                                row(1, study: 3, sex: "Unknown"), row(1, study: 4, sex: "Male")])
        let manifest = try loadCheXpertManifest(root: folder, options: options())
        #expect(manifest.samples.count == 5)  // the rows stay, each in the subgroup its own cells give
        #expect(manifest.issues.count == 1)   // one warning per patient
        let issue = try #require(manifest.issues.first)
        let train = folder.appendingPathComponent("train.csv").path
        #expect(issue == DatasetIssue(sampleID: "CheXpert-v1.0-small/train/patient1/study2/view1_frontal.jpg", patientID: "patient1",
                                      file: train, line: 4,
                                      message: "patient patient1 is male in this row but female in \(train), line 2; "
                                          + "the patient's images fall into both sex subgroups"))
    }

    @Test func relocatingWithoutOriginsIsWhatTheCheckedInitializerMakes() throws {
        // The manifest stage's content facet is hashed from this: issues that name no file.
        let folder = try cheXpertFolder(train: [row(3, sex: "Female"), row(1, sex: "Female"), row(2, age: 30), row(1, study: 2, sex: "Male"),
                                                row(2, study: 2, age: 60)])
        let manifest = try loadCheXpertManifest(root: folder, options: options())
        #expect(manifest.issues.count == 2 && manifest.issues.allSatisfy { $0.file.hasSuffix("train.csv") })
        let root = URL(fileURLWithPath: "/")
        let checked = try Manifest(dataset: manifest.dataset, root: root, schema: manifest.schema, samples: manifest.samples,
                                   segmentation: manifest.segmentation, imagePolicy: manifest.imagePolicy)
        let relocated = try manifest.relocatedWithoutOrigins(to: root)
        #expect(relocated == checked)
        #expect(relocated.issues.count == 2 && relocated.issues != manifest.issues)
    }

    @Test func agesFurtherApartThanTheTolerancesAreWarnings() throws {
        let folder = try cheXpertFolder(train: [
            row(1, study: 1, age: 40), row(1, study: 2, age: 54), row(1, study: 3, age: 60),   // 20 years: within tolerance
            row(2, study: 1, age: 30), row(2, study: 2, age: 51),                              // 21 years across studies
            row(3, study: 1, view: 1, age: 70), row(3, study: 1, view: 2, age: 72),            // 2 years within one study
            row(4, study: 1, view: 1, age: 70), row(4, study: 1, view: 2, age: 71),            // 1 year within one study: fine
        ])
        let manifest = try loadCheXpertManifest(root: folder, options: options())
        #expect(manifest.issues.map(\.patientID) == ["patient3", "patient2"])
        #expect(manifest.issues.map(\.line) == [8, 6])
        #expect(manifest.issues[0].message.contains("patient patient3 is 72 in this row but 70 in "))
        #expect(manifest.issues[0].message.contains("in the same study patient3/study1 (more than 1 year apart)"))
        #expect(manifest.issues[1].message.contains("21 years apart, more than the 20 one patient's studies are expected to span"))
    }

    @Test func oneImageOfTwoPatientsIsAnError() throws {
        let folder = try makeTemporaryDirectory()
        try """
            id,path,patient,finding
            a,images/x.png,p1,1
            b,images/y.png,p2,0
            c,images/x.png,p3,0
            """.write(to: folder.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
        let options = CSVManifestOptions(file: "labels.csv", imageColumn: "path", idColumn: "id", patientColumn: "patient",
                                         labels: [.binary("finding")])
        let error = try #require(throws: DatasetError.self) { try loadCSVManifest(root: folder, options: options) }
        let file = folder.appendingPathComponent("labels.csv").path
        #expect(error == .imageOfTwoPatients(imagePath: "images/x.png", first: "\"a\" of patient p1 (\(file), line 2)",
                                             second: "\"c\" of patient p3 (\(file), line 4)"))
    }

    @Test func withoutOriginsTheSourceAndSampleAreNamed() throws {
        let samples = [Sample(id: "a", patientID: "p", studyID: "s", imagePath: "a.png", labels: [:], attributes: ["sex": "female"]),
                       Sample(id: "b", patientID: "p", studyID: "s", imagePath: "b.png", labels: [:], attributes: ["sex": "male"])]
        let manifest = try Manifest(dataset: "toy", root: URL(fileURLWithPath: "/data"), schema: LabelSchema([]), samples: samples)
        #expect(manifest.issues.map(\.description) == ["toy: patient p is male in this row but female in toy, sample \"a\"; "
                                                       + "the patient's images fall into both sex subgroups"])
        // Issues survive the manifest's JSON (the manifest artifact) and filtering.
        let decoded = try JSONDecoder().decode(Manifest.self, from: JSONEncoder().encode(manifest))
        #expect(decoded.issues == manifest.issues && decoded.filtered { $0.id == "a" }.issues == manifest.issues)
    }
}
