import Datasets
import Foundation
import Testing
import TestSupport

private let fixtures = fixturesDirectory()

struct CheXpertAdapterTests {
    @Test func smallFilesGiveSamplesWithSplitsPatientsAndAttributes() throws {
        let manifest = try loadCheXpertManifest(root: fixtures.appendingPathComponent("chexpert_small"),
                                                options: CheXpertOptions(defaultUncertaintyPolicy: .keep))
        #expect(manifest.dataset == "chexpert")
        #expect(manifest.samples.count == 6)
        #expect(manifest.schema.names == CheXpertOptions.allFindings)
        let byID = Dictionary(uniqueKeysWithValues: manifest.samples.map { ($0.id, $0) })
        let lateral = try #require(byID["CheXpert-v1.0-small/train/patient00002/study1/view2_lateral.jpg"])  // a quoted path
        #expect(lateral.patientID == "patient00002" && lateral.studyID == "patient00002/study1")
        #expect(lateral.imagePath == "train/patient00002/study1/view2_lateral.jpg")
        #expect(lateral.attributes == ["view": "lateral", "sex": "male"])  // age 0 is unknown; blank AP/PA is absent
        #expect(lateral.officialSplit == .train)
        #expect(lateral.label("Lung Opacity") == .positive && lateral.label("Consolidation") == .uncertain)
        #expect(lateral.label("No Finding") == .missing)
        let unknownSex = try #require(byID["CheXpert-v1.0-small/train/patient00003/study1/view1_frontal.jpg"])
        #expect(unknownSex.sex == nil && unknownSex.age == 45 && unknownSex.attributes["projection"] == "PA")
        let valid = manifest.samples.filter { $0.officialSplit == .validation }
        #expect(valid.map(\.patientID) == ["patient64541", "patient64542"])
    }

    @Test func frontalOnlyAndFindingSubsetsApply() throws {
        let manifest = try loadCheXpertManifest(root: fixtures.appendingPathComponent("chexpert_small"), options: CheXpertOptions(
            findings: CheXpertOptions.competitionFindings, defaultUncertaintyPolicy: .zeros,
            uncertaintyPolicies: ["Edema": .ones], frontalOnly: true))
        #expect(manifest.samples.count == 5)
        #expect(manifest.samples.allSatisfy { $0.attributes["view"] == "frontal" })
        #expect(manifest.schema.names == CheXpertOptions.competitionFindings)
        let patient2 = try #require(manifest.samples.first { $0.id.contains("patient00002/study2") })
        #expect(patient2.label("Edema") == .positive)  // -1.0 under U-Ones
        #expect(patient2.label("Atelectasis") == .negative)  // -1.0 under U-Zeros
        #expect(patient2.label("Cardiomegaly") == .negative)
    }

    @Test func missingColumnIsNamedWithTheFile() {
        do {
            _ = try loadCheXpertManifest(root: fixtures.appendingPathComponent("chexpert_missing_column"),
                                         options: CheXpertOptions(labelFiles: [.init(path: "train.csv", split: .train)]))
            Issue.record("expected an error")
        } catch {
            guard case .missingColumn(let file, let column, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(file.hasSuffix("chexpert_missing_column/train.csv") && column == "Age")
        }
    }

    @Test func badCellIsNamedWithLineAndColumn() {
        do {
            _ = try loadCheXpertManifest(root: fixtures.appendingPathComponent("chexpert_bad_value"),
                                         options: CheXpertOptions(labelFiles: [.init(path: "train.csv", split: .train)]))
            Issue.record("expected an error")
        } catch {
            guard case .badValue(let file, let line, let column, let value, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(file.hasSuffix("train.csv") && line == 3 && column == "Edema" && value == "maybe")
            #expect(error.description.contains("line 3, column \"Edema\""))
        }
    }

    @Test func ageCellsAreWholeYearsAndZeroIsUnknown() throws {
        func age(_ cell: String) throws(DatasetError) -> Int? {
            let text = "Path,Sex,Age,Frontal/Lateral,AP/PA,Edema\ntrain/patient1/study1/view1_frontal.jpg,Male,\(cell),Frontal,AP,1.0\n"
            let table = try CSVTable(parsing: Array(text.utf8), file: "ages.csv")
            return try cheXpertSamples(from: table, split: nil, options: CheXpertOptions(findings: ["Edema"]))[0].age
        }
        #expect(try age("68") == 68)
        #expect(try age("68.0") == 68)
        #expect(try age("0") == nil)
        #expect(try age("") == nil)
        for bad in ["abc", "131", "-5", "6 8", ".0", "68.5"] {
            #expect(throws: DatasetError.badValue(file: "ages.csv", line: 2, column: "Age", value: bad,
                                                  expected: "a whole number of years from 0 to 130"), "\(bad)") {
                try age(bad)
            }
        }
    }

    @Test func missingLabelFileSaysWhereTheDataComesFrom() {
        do {
            _ = try loadCheXpertManifest(root: URL(fileURLWithPath: "/nonexistent/chexpert"))
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("/nonexistent/chexpert/train.csv: file not found"))
            #expect(error.description.contains("CHEXPERT_ROOT"))
        }
    }
}

struct MURAAdapterTests {
    @Test func studyLabelsComeFromTheListOrTheFolderName() throws {
        let manifest = try loadMURAManifest(root: fixtures.appendingPathComponent("mura_small"))
        #expect(manifest.samples.count == 5)
        let shoulder = manifest.samples.filter { $0.attributes["bodyPart"] == "XR_SHOULDER" }
        #expect(shoulder.count == 2 && shoulder.allSatisfy { $0.label("abnormal") == .positive })
        #expect(shoulder.allSatisfy { $0.studyID == "train/XR_SHOULDER/patient00001/study1_positive" })
        #expect(shoulder[0].imagePath == "train/XR_SHOULDER/patient00001/study1_positive/image1.png")
        // patient00002/study2 is not in the labeled-studies list: its folder name decides.
        let unlisted = try #require(manifest.samples.first { $0.id.contains("study2_positive") })
        #expect(unlisted.label("abnormal") == .positive && unlisted.label("bodyPart") == .category("XR_WRIST"))
        #expect(manifest.samples.filter { $0.officialSplit == .validation }.map(\.patientID) == ["patient11185"])
        // Study aggregation: four studies, the shoulder study with two images.
        let studies = manifest.studies
        #expect(studies.count == 4)
        #expect(studies.first { $0.studyID.hasSuffix("patient00001/study1_positive") }?.sampleIndices.count == 2)
    }

    @Test func badStudyLabelNamesTheLine() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "MURA-v1.1/train/XR_HAND/patient1/study1_positive/image1.png\n".write(
            to: directory.appendingPathComponent("train_image_paths.csv"), atomically: true, encoding: .utf8)
        try "MURA-v1.1/train/XR_HAND/patient1/study1_positive/,1\nMURA-v1.1/train/XR_HAND/patient2/study1_positive/,yes\n".write(
            to: directory.appendingPathComponent("train_labeled_studies.csv"), atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.badValue(file: directory.appendingPathComponent("train_labeled_studies.csv").path, line: 2,
                                              column: "label (second column)", value: "yes", expected: "1 (abnormal) or 0 (normal)")) {
            try loadMURAManifest(root: directory, options: MURAOptions(splits: [.init(prefix: "train", split: .train)]))
        }
    }
}

struct GenericCSVAdapterTests {
    private let options = CSVManifestOptions(
        file: "generic.csv", imageColumn: "file", patientColumn: "subject", studyColumn: "exam",
        labels: [.binary("finding"), .multiClass("site", name: "bodySite")],
        attributeColumns: ["sex": "sex", "age": "age", "note": "note"], splitColumn: "split", datasetName: "mine")

    @Test func columnsBecomeLabelsAttributesAndSplits() throws {
        let manifest = try loadCSVManifest(root: fixtures, options: options)
        #expect(manifest.dataset == "mine")
        #expect(manifest.schema == LabelSchema([.binary("finding"), .multiClass("bodySite", classes: ["chest, upper", "chest", "knee"].sorted())]))
        let samples = manifest.samples
        #expect(samples.map(\.id) == ["img/a.png", "img/b.png", "img/c.png", "img/d.png"])
        #expect(samples.map { $0.label("finding") } == [.positive, .negative, .uncertain, .missing])
        #expect(samples.map(\.sex) == [.female, .female, .male, nil])
        #expect(samples.map(\.age) == [34, nil, nil, 61])
        #expect(samples.map(\.officialSplit) == [.train, .validation, .test, nil])
        #expect(samples[0].attributes["note"] == "says \"hello\"" && samples[1].attributes["note"] == "multi\nline note")
        #expect(samples[0].patientID == "s1" && samples[1].patientID == "s1" && samples[1].studyID == "e2")
    }

    @Test func classOutsideTheGivenListNamesTheCell() {
        var strict = options
        strict.labels = [.multiClass("site", classes: ["chest", "knee"])]
        #expect(throws: DatasetError.badValue(file: fixtures.appendingPathComponent("generic.csv").path, line: 2, column: "site",
                                              value: "chest, upper", expected: "one of the classes chest, knee")) {
            try loadCSVManifest(root: fixtures, options: strict)
        }
        var missing = options
        missing.patientColumn = "patient"
        #expect(throws: DatasetError.self) { try loadCSVManifest(root: fixtures, options: missing) }
    }
}

struct AdapterOptionTests {
    @Test func inferredLabelKindsFollowTheCells() throws {
        let manifest = try loadCSVManifest(root: fixtures, options: CSVManifestOptions(
            file: fixtures.appendingPathComponent("generic.csv").path, imageColumn: "file",
            labels: [.inferred("finding"), .inferred("site")]))
        #expect(manifest.schema["finding"]?.kind == .binary)
        #expect(manifest.schema["site"] == .multiClass("site", classes: ["chest", "chest, upper", "knee"]))
        #expect(manifest.samples[0].patientID == "img/a.png")  // no patient column: each image its own patient
    }

    @Test func muraSplitFilesFromEitherFileAndWithoutStudyList() throws {
        let root = fixtures.appendingPathComponent("mura_small")
        #expect(MURAOptions.SplitFiles(eitherFile: "train_labeled_studies.csv", split: .train) == .init(prefix: "train", split: .train))
        #expect(MURAOptions.SplitFiles(eitherFile: "/x/valid_image_paths.csv", split: .validation) == .init(prefix: "/x/valid", split: .validation))
        let fromFolders = try loadMURAManifest(root: root, options: MURAOptions(splits: [
            .init(imagePaths: root.appendingPathComponent("train_image_paths.csv").path, labeledStudies: nil, split: .train)]))
        #expect(fromFolders.samples.map { $0.label("abnormal") } == [.positive, .positive, .negative, .positive])
    }

    @Test func cheXpertLabelFilesMayBeAbsolute() throws {
        let file = fixtures.appendingPathComponent("chexpert_small/valid.csv").path
        let manifest = try loadCheXpertManifest(root: URL(fileURLWithPath: "/data/CheXpert-v1.0-small"),
                                                options: CheXpertOptions(labelFiles: [.init(path: file, split: .validation)]))
        #expect(manifest.samples.count == 2)
        #expect(manifest.imageURL(of: manifest.samples[0]).path == "/data/CheXpert-v1.0-small/valid/patient64541/study1/view1_frontal.jpg")
    }
}

struct RetrievalSetTests {
    @Test func rolesAndClassesAreRead() throws {
        let manifest = try loadRetrievalSetManifest(root: URL(fileURLWithPath: "/data/chexpert"),
                                                    file: fixtures.appendingPathComponent("retrieval.csv").path)
        #expect(manifest.schema == LabelSchema([.multiClass("class", classes: ["Atelectasis", "Edema"])]))
        #expect(manifest.samples[0].imagePath == "train/patient00001/study1/view1_frontal.jpg")
        #expect(manifest.samples[2].patientID == "patient00003" && manifest.samples[2].studyID == "patient00003/study2")
        let roles = manifest.retrievalRoles
        #expect(roles.queries == [0, 3])  // the query and the row with a blank role
        #expect(roles.candidates == [1, 2, 3])
    }
}
