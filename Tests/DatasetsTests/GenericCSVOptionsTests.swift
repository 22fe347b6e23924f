import Datasets
import Foundation
import Testing
import TestSupport

private let fixtures = fixturesDirectory()
private let renamedFile = fixtures.appendingPathComponent("generic_renamed.csv").path

/// The `csv` adapter's id column, attribute renames and value maps, on `generic_renamed.csv`.
struct GenericCSVOptionsTests {
    private let options = CSVManifestOptions(
        file: "generic_renamed.csv", imageColumn: "image", idColumn: "uid", patientColumn: "subject",
        labels: [.binary("finding")],
        attributeColumns: ["sex": "gender", "age": "age_years", "view": "projection"],
        valueMaps: ["sex": CSVValueMap(spec: ["F": "female", "M": "male", "U": nil]),
                    "view": CSVValueMap(spec: ["PA": "frontal", "AP": "frontal", "LL": "lateral"])])

    @Test func renamedColumnsAndValueMapsGiveTheSharedAttributes() throws {
        let manifest = try loadCSVManifest(root: fixtures, options: options)
        let samples = manifest.samples
        #expect(samples.map(\.id) == ["A1", "A2", "A3", "A4"])
        #expect(samples.map(\.imagePath) == ["img/a.png", "img/b.png", "img/c.png", "img/d.png"])
        #expect(samples.map(\.patientID) == ["s1", "s1", "s2", "s3"])
        #expect(samples.map(\.sex) == [.female, .female, .male, nil])  // U maps to unknown
        #expect(samples.map(\.age) == [34, 61, nil, 90])
        #expect(samples.map { $0.attributes["view"] } == ["frontal", "frontal", "lateral", "frontal"])
        #expect(samples.allSatisfy { $0.attributes["gender"] == nil && $0.attributes["projection"] == nil })
    }

    @Test func anUnmappedValueNamesFileLineColumnAndValue() {
        var strict = options
        strict.valueMaps["sex"] = CSVValueMap(["F": "female", "M": "male"])
        do {
            _ = try loadCSVManifest(root: fixtures, options: strict)
            Issue.record("expected an error")
        } catch {
            guard case .badValue(let file, let line, let column, let value, let expected) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(file == renamedFile && line == 5 && column == "gender" && value == "U")
            #expect(expected.contains("(F, M)") && expected.contains("values.sex"))
            #expect(error.description.contains("line 5, column \"gender\": cannot use \"U\""))
        }
    }

    @Test func theStarEntrySaysWhatOtherValuesBecome() throws {
        func views(_ spec: [String: String?]) throws -> [String?] {
            var changed = options
            changed.valueMaps["view"] = CSVValueMap(spec: spec)
            return try loadCSVManifest(root: fixtures, options: changed).samples.map { $0.attributes["view"] }
        }
        #expect(try views(["PA": "frontal", "*": "*"]) == ["frontal", "AP", "LL", "frontal"])
        #expect(try views(["PA": "frontal", "*": nil]) == ["frontal", nil, nil, "frontal"])
        #expect(try views(["PA": "frontal", "*": ""]) == ["frontal", nil, nil, "frontal"])
        #expect(try views(["LL": "lateral", "*": "frontal"]) == ["frontal", "frontal", "lateral", "frontal"])
        #expect(CSVValueMap(spec: ["*": "*"]).otherwise == .keep)
        #expect(CSVValueMap(spec: ["a": "b"]).map("") == .unknown)  // blank cells are unknown…
        #expect(CSVValueMap(spec: ["": "none"]).map("") == .value("none"))  // …unless the map lists them
    }

    @Test func aMapThatCannotGiveASexOrAgeFailsBeforeReading() {
        var badSex = options
        badSex.valueMaps["sex"] = CSVValueMap(["F": "woman", "M": "male"])
        #expect(throws: DatasetError.invalidOption(name: "values.sex.F", value: "woman",
                                                   reason: "sex values must be female or male (or empty / ~ for unknown)")) {
            try loadCSVManifest(root: fixtures, options: badSex)
        }
        var badAge = options
        badAge.valueMaps["age"] = CSVValueMap(["34": "thirty-four"], otherwise: .keep)
        #expect(throws: DatasetError.self) { try loadCSVManifest(root: fixtures, options: badAge) }
        // A kept cell that is not a sex is an error once a map says what the cells mean.
        var kept = options
        kept.valueMaps["sex"] = CSVValueMap(["F": "female"], otherwise: .keep)
        // (M is kept and reads as male; U is kept and is not a sex.)
        #expect(throws: DatasetError.badValue(file: renamedFile, line: 5, column: "gender", value: "U",
                                              expected: "a cell the value map turns into female or male (it gave \"U\")")) {
            try loadCSVManifest(root: fixtures, options: kept)
        }
        var unread = options
        unread.valueMaps["site"] = CSVValueMap(["x": "y"])
        do {
            _ = try loadCSVManifest(root: fixtures, options: unread)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("values.site") && error.description.contains("no attribute site is read"))
        }
    }

    @Test func anAbsentColumnListsTheHeaderAndSuggestsTheClosest() {
        var wrong = options
        wrong.attributeColumns["sex"] = "Gender"
        do {
            _ = try loadCSVManifest(root: fixtures, options: wrong)
            Issue.record("expected an error")
        } catch {
            #expect(error == .missingColumn(file: renamedFile, column: "Gender",
                                            available: ["image", "uid", "subject", "gender", "age_years", "projection", "finding"]))
            #expect(error.description.contains("no column \"Gender\" in the header (did you mean \"gender\"?)"))
            #expect(error.description.contains("\"image\", \"uid\", \"subject\", \"gender\", \"age_years\", \"projection\", \"finding\""))
        }
        var far = options
        far.idColumn = "accession"
        do {
            _ = try loadCSVManifest(root: fixtures, options: far)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("no column \"accession\" in the header. The header's columns"))
        }
    }

    @Test func idsMustBePresentAndUnique() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func load(_ text: String) throws(DatasetError) -> Manifest {
            try? text.write(to: directory.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
            return try loadCSVManifest(root: directory, options: CSVManifestOptions(
                file: "labels.csv", imageColumn: "path", idColumn: "id", patientColumn: "patient", labels: [.binary("y")]))
        }
        let file = directory.appendingPathComponent("labels.csv").path
        #expect(try load("path,id,patient,y\na.png,x1,p1,1\nb.png,x2,p1,0\n").samples.map(\.id) == ["x1", "x2"])
        #expect(throws: DatasetError.badValue(file: file, line: 4, column: "id", value: "x1",
                                              expected: "a unique sample id; line 2 has the same")) {
            try load("path,id,patient,y\na.png,x1,p1,1\nb.png,x2,p1,0\nc.png,x1,p2,0\n")
        }
        #expect(throws: DatasetError.badValue(file: file, line: 3, column: "id", value: "", expected: "a sample id")) {
            try load("path,id,patient,y\na.png,x1,p1,1\nb.png,,p1,0\n")
        }
        #expect(throws: DatasetError.badValue(file: file, line: 2, column: "patient", value: "", expected: "a patient id")) {
            try load("path,id,patient,y\na.png,x1,,1\n")
        }
        // Without an id column the image path is the id, and must be unique too.
        #expect(throws: DatasetError.badValue(file: file, line: 3, column: "path", value: "a.png",
                                              expected: "a unique image path (the sample id); line 2 has the same")) {
            try? "path,y\na.png,1\na.png,0\n".write(to: directory.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
            return try loadCSVManifest(root: directory, options: CSVManifestOptions(file: "labels.csv", imageColumn: "path", labels: []))
        }
    }

    @Test func plainAndRenamedAttributeColumnsMerge() throws {
        #expect(try CSVManifestOptions.attributeColumns(plain: ["Sex", "site"], renamed: ["age": "age_years", "view": "projection"])
            == ["sex": "Sex", "site": "site", "age": "age_years", "view": "projection"])
        #expect(throws: DatasetError.self) { try CSVManifestOptions.attributeColumns(plain: ["Sex"], renamed: ["sex": "gender"]) }
        #expect(throws: DatasetError.self) { try CSVManifestOptions.attributeColumns(plain: ["Sex", "sex"], renamed: [:]) }
    }

    @Test func aLabelNamedTwiceIsAnOptionError() {
        #expect(throws: DatasetError.invalidOption(name: "label_columns", value: "finding", reason: "the label is named twice; name each label once")) {
            try loadCSVManifest(root: fixtures, options: CSVManifestOptions(
                file: "generic_renamed.csv", imageColumn: "image", labels: [.binary("finding"), .inferred("gender", name: "finding")]))
        }
    }

    @Test func closestNamesAreLikelyTypos() {
        let header = ["Image Index", "Finding Labels", "Patient ID", "Patient Gender", "View Position"]
        #expect(closestName(to: "image index", in: header) == "Image Index")
        #expect(closestName(to: "Finding Label", in: header) == "Finding Labels")
        #expect(closestName(to: "gender", in: header) == "Patient Gender")
        #expect(closestName(to: "id", in: header) == nil)
        #expect(closestName(to: "accession", in: header) == nil)
    }
}
