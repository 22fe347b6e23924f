@testable import Datasets
import Foundation
import Imaging
import Testing
import TestSupport

/// Small, fast settings for tests (debug builds draw slowly).
private func smallOptions() -> PhantomOptions {
    var options = PhantomOptions()
    options.imageSize = 64
    return options
}

private func fileBytes(under directory: URL) throws -> [String: Data] {
    var result: [String: Data] = [:]
    let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
    while let url = enumerator?.nextObject() as? URL {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            result[String(url.path.dropFirst(directory.path.count))] = try Data(contentsOf: url)
        }
    }
    return result
}

struct PhantomGeneratorTests {
    @Test func twoGenerationsWithOneSeedAreByteIdentical() throws {
        let first = try makeTemporaryDirectory(), second = try makeTemporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: first)
            try? FileManager.default.removeItem(at: second)
        }
        let manifestA = try generatePhantomDataset(at: first, count: 24, seed: 42, options: smallOptions())
        let manifestB = try generatePhantomDataset(at: second, count: 24, seed: 42, options: smallOptions())
        let filesA = try fileBytes(under: first), filesB = try fileBytes(under: second)
        #expect(filesA.count == 24 + 2)
        #expect(filesA == filesB)
        #expect(manifestA.canonicalSerialization() == manifestB.canonicalSerialization())

        let third = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: third) }
        let manifestC = try generatePhantomDataset(at: third, count: 24, seed: 43, options: smallOptions())
        #expect(manifestC.canonicalSerialization() != manifestA.canonicalSerialization())
    }

    @Test func writtenImagesDecodeToTheRenderedPixelsAtBothBitDepths() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let options = smallOptions()
        let manifest = try generatePhantomDataset(at: directory, count: 16, seed: 5, options: options)
        let plans = planPhantomDataset(count: 16, seed: 5, options: options)
        #expect(manifest.samples.map(\.id) == plans.map(\.sampleID).sorted())
        var depths = Set<Int>()
        for plan in plans {
            let decoded = try decodeImage(at: directory.appendingPathComponent(plan.imagePath))
            #expect(decoded == renderPhantom(plan, size: options.imageSize))
            #expect(decoded.bitDepth == plan.bitDepth)
            depths.insert(decoded.bitDepth)
            // Exposure and windowing use most of the range: no blank or saturated images.
            let maximum = decoded.samples.max() ?? 0
            #expect(Double(maximum) > 0.6 * Double(decoded.maximumSampleValue))
        }
        #expect(depths == [8, 16])
    }

    @Test func manifestCarriesEveryLabelAndAttribute() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = try generatePhantomDataset(at: directory, count: 300, seed: 1, options: {
            var options = smallOptions()
            options.imageSize = 32
            return options
        }())
        #expect(manifest.samples.count == 300)
        #expect(manifest.dataset == "phantom")
        let samples = manifest.samples
        #expect(Set(samples.map { $0.label("anatomy") }) == Set(PhantomAnatomy.allCases.map { .category($0.rawValue) }))
        #expect(Set(samples.map { $0.label("view") }) == [.category("frontal"), .category("lateral")])
        #expect(Set(samples.map { $0.label("rotation") }) == Set(["0", "90", "180", "270"].map { LabelValue.category($0) }))
        #expect(Set(samples.map { $0.label("markerLetter") }) == [.category("none"), .category("L"), .category("R")])
        for name in ["mirrored", "marker"] {
            #expect(Set(samples.map { $0.label(name) }) == [.positive, .negative], "\(name)")
        }
        for sample in samples {
            let isChest = sample.label("anatomy") == .category("chest")
            for finding in ["nodule", "effusion", "cardiomegaly"] {
                #expect((sample.label(finding) != .missing) == isChest, "\(sample.id) \(finding)")
            }
            #expect(sample.sex != nil && sample.age != nil)
            #expect((sample.label("marker") == .positive) == (sample.label("markerLetter") != .category("none")))
        }
        let chest = samples.filter { $0.label("anatomy") == .category("chest") }
        for finding in ["nodule", "effusion", "cardiomegaly"] {
            #expect(chest.contains { $0.label(finding) == .positive } && chest.contains { $0.label(finding) == .negative })
        }
        // Patients have several images, and every image of a study shares its findings.
        let byPatient = Dictionary(grouping: samples, by: \.patientID)
        #expect(byPatient.values.contains { $0.count >= 3 })
        #expect(byPatient.count < 200)
        for study in Dictionary(grouping: chest, by: \.studyID).values {
            #expect(Set(study.map { $0.label("nodule") }).count == 1)
        }
    }

    @Test func rotationAndMirrorAreExactPixelPermutations() {
        let base = PhantomImagePlan(
            sampleID: "a", imagePath: "a.png", patientID: "p", studyID: "s", subject: PhantomSubject(sex: .male, age: 50),
            anatomy: .hand, view: .frontal, rotation: 0, mirrored: false, markerLetter: "L", markerCorner: 0,
            findings: PhantomFindings(), bitDepth: 8, imageSeed: 9)
        let size = 48
        let upright = renderPhantom(base, size: size)
        var mirroredPlan = base
        mirroredPlan.mirrored = true
        let mirrored = renderPhantom(mirroredPlan, size: size)
        for y in 0..<size {
            for x in 0..<size {
                #expect(mirrored[x, y, 0] == upright[size - 1 - x, y, 0])
            }
        }
        var rotatedPlan = base
        rotatedPlan.rotation = 90
        let rotated = renderPhantom(rotatedPlan, size: size)
        // A clockwise quarter turn sends (x, y) to (size-1-y, x).
        for y in 0..<size {
            for x in 0..<size {
                #expect(rotated[size - 1 - y, x, 0] == upright[x, y, 0])
            }
        }
        #expect(rotatedClockwise(rotatedClockwise(upright.samples, size: size, degrees: 180), size: size, degrees: 180) == upright.samples)
    }

    @Test func markerGlyphIsBrightAndConfinedToItsCorner() {
        var plan = PhantomImagePlan(
            sampleID: "a", imagePath: "a.png", patientID: "p", studyID: "s", subject: PhantomSubject(sex: .female, age: 30),
            anatomy: .knee, view: .lateral, rotation: 0, mirrored: false, markerLetter: nil, markerCorner: 3,
            findings: PhantomFindings(), bitDepth: 16, imageSeed: 3)
        let size = 128
        let without = renderPhantom(plan, size: size)
        plan.markerLetter = "R"
        let with = renderPhantom(plan, size: size)
        var changed: [(Int, Int)] = []
        for y in 0..<size {
            for x in 0..<size where with[x, y, 0] != without[x, y, 0] {
                changed.append((x, y))
                #expect(with[x, y, 0] > without[x, y, 0])
            }
        }
        #expect(changed.count >= 15)  // the strokes of an "R" at one pixel per cell or more
        #expect(changed.allSatisfy { $0.0 >= size * 3 / 4 && $0.1 >= size * 3 / 4 })  // bottom-right corner
    }

    @Test func subgroupEffectMakesFemaleNodulesFainterAndSmaller() {
        func meanNodule(_ sex: Sex, effect: Double) -> (amplitude: Double, sigma: Double) {
            var options = PhantomOptions()
            options.subgroupEffect = effect
            options.chestFraction = 1
            options.noduleProbability = 1
            let nodules = planPhantomDataset(count: 2000, seed: 8, options: options)
                .filter { $0.subject.sex == sex }.flatMap(\.findings.nodules)
            let count = Double(nodules.count)
            return (nodules.map(\.amplitude).reduce(0, +) / count, nodules.map(\.sigma).reduce(0, +) / count)
        }
        let male = meanNodule(.male, effect: 1), female = meanNodule(.female, effect: 1)
        // Contrast x (1 - 0.6), size x (1 - 0.3), up to sampling noise.
        #expect(abs(female.amplitude / male.amplitude - 0.4) < 0.03)
        #expect(abs(female.sigma / male.sigma - 0.7) < 0.03)
        let maleOff = meanNodule(.male, effect: 0), femaleOff = meanNodule(.female, effect: 0)
        #expect(abs(femaleOff.amplitude / maleOff.amplitude - 1) < 0.03)
    }

    @Test func chestFindingsChangeTheLungFields() {
        var plan = PhantomImagePlan(
            sampleID: "a", imagePath: "a.png", patientID: "p", studyID: "s", subject: PhantomSubject(sex: .male, age: 50),
            anatomy: .chest, view: .frontal, rotation: 0, mirrored: false, markerLetter: nil, markerCorner: 0,
            findings: PhantomFindings(), bitDepth: 16, imageSeed: 12)
        let size = 96
        func mean(_ image: DecodedImage, rows: Range<Int>, columns: Range<Int>) -> Double {
            var total = 0.0
            for y in rows { for x in columns { total += Double(image[x, y, 0]) } }
            return total / Double(rows.count * columns.count)
        }
        let clear = renderPhantom(plan, size: size)
        plan.findings.effusionLungs = [0]
        plan.findings.effusionHeight = 0.3
        let effusion = renderPhantom(plan, size: size)
        // The base of the patient's right lung (image left) turns white; the apex does not.
        let base = (Int(0.62 * Double(size))..<Int(0.72 * Double(size))), apex = (Int(0.25 * Double(size))..<Int(0.35 * Double(size)))
        let lungColumns = Int(0.25 * Double(size))..<Int(0.4 * Double(size))
        #expect(mean(effusion, rows: base, columns: lungColumns) > 1.3 * mean(clear, rows: base, columns: lungColumns))
        #expect(abs(mean(effusion, rows: apex, columns: lungColumns) - mean(clear, rows: apex, columns: lungColumns))
                < 0.02 * mean(clear, rows: apex, columns: lungColumns))
    }

    @Test func badOptionsAndCountsAreRejectedWithTheirNames() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = PhantomOptions()
        options.subgroupEffect = 1.5
        #expect(throws: DatasetError.invalidOption(name: "subgroupEffect", value: "1.5", reason: "must be between 0 and 1")) {
            try generatePhantomDataset(at: directory, count: 4, seed: 1, options: options)
        }
        #expect(throws: DatasetError.self) { try generatePhantomDataset(at: directory, count: 0, seed: 1) }
        options = PhantomOptions()
        options.imageSize = 8
        #expect(throws: DatasetError.self) { try generatePhantomDataset(at: directory, count: 1, seed: 1, options: options) }
    }

    @Test func phantomAdapterNamesTheBadCellAndTheMissingDataset() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            _ = try loadPhantomManifest(root: directory)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("xrbench phantom --out"))
        }
        try generatePhantomDataset(at: directory, count: 3, seed: 2, options: smallOptions())
        let url = directory.appendingPathComponent(phantomManifestFileName)
        var lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        var fields = lines[2].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[8] = "45"  // rotation
        lines[2] = fields.joined(separator: ",")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.badValue(file: url.path, line: 3, column: "rotation", value: "45",
                                              expected: "one of 0, 90, 180, 270")) {
            try loadPhantomManifest(root: directory)
        }
    }
}
