import Datasets
import Foundation
import Testing
import TestSupport

private let fixtures = fixturesDirectory()
private let small = fixtures.appendingPathComponent("nih_small")
private let edge = fixtures.appendingPathComponent("nih_edge")

/// The NIH ChestX-ray14 adapter on `nih_small` (the original 2017 layout: a trailing comma
/// on every line, images in `images_NNN/images/`) and on the broken files in `nih_edge`.
struct NIHAdapterTests {
    private let options = NIHOptions(dataEntry: "Data_Entry_2017.csv")

    @Test func findingListsBecomeFourteenBinaryLabels() throws {
        let manifest = try loadNIHManifest(root: small, options: options)
        #expect(manifest.dataset == "nih")
        #expect(manifest.schema.names == NIHOptions.allFindings)
        #expect(manifest.samples.count == 8)
        let byID = Dictionary(uniqueKeysWithValues: manifest.samples.map { ($0.id, $0) })
        let two = try #require(byID["00000001_001.png"])
        #expect(two.labels.filter { $0.value == .positive }.keys.sorted() == ["Cardiomegaly", "Emphysema"])
        #expect(two.labels.count == 14 && two.label("Effusion") == .negative)  // absent from the list: negative
        let normal = try #require(byID["00000002_000.png"])
        #expect(normal.labels.values.allSatisfy { $0 == .negative } && normal.labels.count == 14)
        let spaced = try #require(byID["00000003_001.png"])  // "Hernia | Mass"
        #expect(spaced.label("Hernia") == .positive && spaced.label("Mass") == .positive)
        let three = try #require(byID["00000004_000.png"])
        #expect(["Mass", "Nodule", "Infiltration"].allSatisfy { three.label($0) == .positive })
        // Python reference for this file: Cardiomegaly 3, Hernia 2, Mass 2, No Finding 2.
        #expect(manifest.valueCounts(of: "Cardiomegaly") == [.positive: 3, .negative: 5])
        #expect(manifest.valueCounts(of: "Hernia") == [.positive: 2, .negative: 6])
    }

    @Test func patientsStudiesAndAttributes() throws {
        let manifest = try loadNIHManifest(root: small, options: options)
        let byID = Dictionary(uniqueKeysWithValues: manifest.samples.map { ($0.id, $0) })
        let first = try #require(byID["00000001_002.png"])
        #expect(first.patientID == "1" && first.studyID == "1/2")
        #expect(first.attributes == ["sex": "male", "age": "58", "view": "frontal", "projection": "PA"])
        let infant = try #require(byID["00000003_000.png"])
        #expect(infant.age == 0 && infant.sex == .female && infant.attributes["projection"] == "AP")  // age 0 is real here
        #expect(byID["00000003_001.png"]?.age == nil)  // 412: a recording error of the 2017 release
        #expect(byID["00000004_000.png"]?.sex == .female)  // lower-case f
        #expect(byID["00000005_000.png"]?.age == nil)  // blank
        #expect(Set(manifest.samples.map(\.patientID)).count == 5)
        #expect(manifest.samples.allSatisfy { $0.officialSplit == nil })
    }

    @Test func noFindingIsALabelOnlyWhenAskedFor() throws {
        let manifest = try loadNIHManifest(root: small, options: NIHOptions(
            dataEntry: "Data_Entry_2017.csv", findings: ["Mass", NIHOptions.noFinding]))
        #expect(manifest.schema.names == ["Mass", "No Finding"])
        #expect(manifest.valueCounts(of: "No Finding") == [.positive: 2, .negative: 6])
        #expect(manifest.valueCounts(of: "Mass") == [.positive: 2, .negative: 6])
        #expect(throws: DatasetError.self) {
            try loadNIHManifest(root: small, options: NIHOptions(dataEntry: "Data_Entry_2017.csv", findings: ["Pleural Thickening"]))
        }
        do {
            _ = try loadNIHManifest(root: small, options: NIHOptions(dataEntry: "Data_Entry_2017.csv", findings: ["Pleural Thickening"]))
        } catch {
            #expect(error.description.contains("did you mean Pleural_Thickening?"))
        }
    }

    @Test func imagesAreFoundInNestedFoldersAndFlatFolders() throws {
        let manifest = try loadNIHManifest(root: small, options: options)
        let paths = Dictionary(uniqueKeysWithValues: manifest.samples.map { ($0.id, $0.imagePath) })
        #expect(paths["00000001_000.png"] == "images_001/images/00000001_000.png")
        #expect(paths["00000004_000.png"] == "images_002/images/00000004_000.png")
        #expect(paths["00000005_000.png"] == "00000005_000.png")  // absent: its name, as in a flat folder
        // A flat folder, and a label file outside the image root.
        let flat = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: flat) }
        for sample in manifest.samples {
            _ = FileManager.default.createFile(atPath: flat.appendingPathComponent(sample.id).path, contents: Data())
        }
        let flatManifest = try loadNIHManifest(root: flat, options: NIHOptions(
            dataEntry: small.appendingPathComponent("Data_Entry_2017.csv").path, checkImages: true))
        #expect(flatManifest.samples.allSatisfy { $0.imagePath == $0.id })
    }

    @Test func checkingImagesReportsEveryMissingImageAtOnce() throws {
        var checking = options
        checking.checkImages = true
        #expect(throws: DatasetError.missingImages(root: small.path, labelFile: small.appendingPathComponent("Data_Entry_2017.csv").path,
                                                   missing: ["00000005_000.png"], total: 8)) {
            try loadNIHManifest(root: small, options: checking)
        }
        let empty = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        checking.dataEntry = small.appendingPathComponent("Data_Entry_2017.csv").path
        do {
            _ = try loadNIHManifest(root: empty, options: checking)
            Issue.record("expected an error")
        } catch {
            guard case .missingImages(_, _, let missing, 8) = error else { Issue.record("wrong error \(error)"); return }
            #expect(missing.count == 8)
            #expect(error.description.contains("8 of the 8 images listed in"))
        }
        // Without the check, the label file alone loads, even when the root does not exist.
        checking.checkImages = false
        #expect(try loadNIHManifest(root: URL(fileURLWithPath: "/nonexistent/nih"), options: checking).samples.count == 8)
    }

    @Test func officialListsSetTrainAndTest() throws {
        let both = try loadNIHManifest(root: small, options: NIHOptions(
            dataEntry: "Data_Entry_2017.csv", trainValList: "train_val_list.txt", testList: "test_list.txt"))
        let splits = Dictionary(uniqueKeysWithValues: both.samples.map { ($0.id, $0.officialSplit) })
        #expect(splits["00000001_000.png"] == .train && splits["00000004_000.png"] == .train)
        #expect(splits["00000003_001.png"] == .test && splits["00000005_000.png"] == .test)
        #expect(!both.samples.contains { $0.officialSplit == .validation })  // NIH has no validation list
        // One list: the rest is the other split.
        let testOnly = try loadNIHManifest(root: small, options: NIHOptions(dataEntry: "Data_Entry_2017.csv", testList: "test_list.txt"))
        #expect(testOnly.samples.map(\.officialSplit) == both.samples.map(\.officialSplit))
    }

    @Test func officialListsThatDoNotFitTheFileAreErrors() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataEntry = small.appendingPathComponent("Data_Entry_2017.csv").path
        try "00000001_000.png\n00000003_000.png\n".write(to: directory.appendingPathComponent("train.txt"), atomically: true, encoding: .utf8)
        try "00000003_000.png\n".write(to: directory.appendingPathComponent("test.txt"), atomically: true, encoding: .utf8)
        try "00000001_000.png\n".write(to: directory.appendingPathComponent("train2.txt"), atomically: true, encoding: .utf8)
        try "99999999_000.png\n".write(to: directory.appendingPathComponent("other.txt"), atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.badValue(file: directory.appendingPathComponent("test.txt").path, line: 1,
                                              column: "image (first column)", value: "00000003_000.png",
                                              expected: "an image in only one of train_val_list and test_list")) {
            try loadNIHManifest(root: directory, options: NIHOptions(dataEntry: dataEntry, trainValList: "train.txt", testList: "test.txt"))
        }
        do {
            _ = try loadNIHManifest(root: directory, options: NIHOptions(dataEntry: dataEntry, trainValList: "train2.txt",
                                                                        testList: small.appendingPathComponent("test_list.txt").path))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("4 images of \(dataEntry) are in neither list"))
        }
        #expect(throws: DatasetError.self) {
            try loadNIHManifest(root: directory, options: NIHOptions(dataEntry: dataEntry, testList: "other.txt"))
        }
    }

    @Test func badCellsAreNamedWithFileLineAndColumn() {
        func error(_ file: String) -> DatasetError? {
            do {
                _ = try loadNIHManifest(root: edge, options: NIHOptions(dataEntry: file))
                return nil
            } catch {
                return error
            }
        }
        let findingsExpected = "findings separated by | from " + NIHOptions.allFindings.joined(separator: ", ") + ", or No Finding alone"
        #expect(error("bad_gender.csv") == .badValue(file: edge.appendingPathComponent("bad_gender.csv").path, line: 3,
                                                     column: "Patient Gender", value: "O", expected: "M, F or blank"))
        #expect(error("blank_findings.csv") == .badValue(file: edge.appendingPathComponent("blank_findings.csv").path, line: 3,
                                                         column: "Finding Labels", value: "", expected: findingsExpected))
        #expect(error("unknown_finding.csv") == .badValue(file: edge.appendingPathComponent("unknown_finding.csv").path, line: 2,
                                                          column: "Finding Labels", value: "Mass|Pleural Thickening", expected: findingsExpected))
        #expect(error("no_finding_with_finding.csv") == .badValue(file: edge.appendingPathComponent("no_finding_with_finding.csv").path,
                                                                  line: 2, column: "Finding Labels", value: "No Finding|Mass",
                                                                  expected: findingsExpected))
        let missing = error("missing_column.csv")
        #expect(missing == .missingColumn(file: edge.appendingPathComponent("missing_column.csv").path, column: "Patient Gender",
                                          available: ["Image Index", "Finding Labels", "Follow-up #", "Patient ID", "Patient Age",
                                                      "Gender", "View Position"]))
        #expect(missing?.description.contains("did you mean \"Gender\"?") == true)
    }

    @Test func otherBadCells() throws {
        func load(_ row: String) throws(DatasetError) -> [Sample] {
            let text = "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position\n\(row)\n"
            return try nihSamples(from: try CSVTable(parsing: Array(text.utf8), file: "rows.csv"), findings: NIHOptions.allFindings)
        }
        #expect(try load("a.png,Mass,0,1,58,,").first?.attributes == ["age": "58"])  // blank sex and view: unknown
        #expect(throws: DatasetError.badValue(file: "rows.csv", line: 2, column: "View Position", value: "LL", expected: "PA, AP or blank")) {
            try load("a.png,Mass,0,1,58,M,LL")
        }
        #expect(throws: DatasetError.badValue(file: "rows.csv", line: 2, column: "Patient Age", value: "58Y",
                                              expected: "an age in whole years, or blank")) {
            try load("a.png,Mass,0,1,58Y,M,PA")
        }
        #expect(throws: DatasetError.badValue(file: "rows.csv", line: 2, column: "Follow-up #", value: "",
                                              expected: "the follow-up number (0, 1, 2, …)")) {
            try load("a.png,Mass,,1,58,M,PA")
        }
        #expect(throws: DatasetError.badValue(file: "rows.csv", line: 2, column: "Finding Labels", value: "Mass||Nodule",
                                              expected: "findings separated by | from " + NIHOptions.allFindings.joined(separator: ", ")
                                                  + ", or No Finding alone")) {
            try load("a.png,Mass||Nodule,0,1,58,M,PA")
        }
        #expect(throws: DatasetError.invalidOption(name: "findings", value: "Mass, Mass", reason: "a finding is listed twice")) {
            let text = "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position\na.png,Mass,0,1,5,M,PA\n"
            return try nihSamples(from: try CSVTable(parsing: Array(text.utf8), file: "rows.csv"), findings: ["Mass", "Mass"])
        }
        #expect(throws: DatasetError.self) {
            let text = "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position\na.png,Mass,0,1,5,M,PA\na.png,Mass,1,1,5,M,PA\n"
            return try nihSamples(from: try CSVTable(parsing: Array(text.utf8), file: "rows.csv"), findings: ["Mass"])
        }
    }
}
