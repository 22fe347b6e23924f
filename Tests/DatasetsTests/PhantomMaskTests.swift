@testable import Datasets
import Foundation
import Imaging
import Testing
import TestSupport

/// The phantom's label maps: written only on request, the images unchanged, and each class
/// where the drawing put it.
@Suite struct PhantomMaskTests {
    static let size = 64

    static func options() -> PhantomOptions {
        var options = PhantomOptions()
        options.imageSize = size
        options.markerProbability = 0.6
        return options
    }

    /// Every file under a folder, by relative path.
    func files(under directory: URL) throws -> [String: Data] {
        var result: [String: Data] = [:]
        for path in FileManager.default.subpaths(atPath: directory.path) ?? [] {
            var isDirectory: ObjCBool = false
            let url = directory.appendingPathComponent(path)
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[path] = try Data(contentsOf: url)
            }
        }
        return result
    }

    @Test func masksChangeNoImageAndOnlyAddFiles() throws {
        let plain = try makeTemporaryDirectory(), masked = try makeTemporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: plain)
            try? FileManager.default.removeItem(at: masked)
        }
        let without = try generatePhantomDataset(at: plain, count: 30, seed: 21, options: Self.options())
        let with = try generatePhantomDataset(at: masked, count: 30, seed: 21, options: Self.options(), masks: true)
        let plainFiles = try files(under: plain), maskedFiles = try files(under: masked)
        for (path, data) in plainFiles where path.hasPrefix("images/") {
            #expect(maskedFiles[path] == data, "\(path) differs when masks are drawn")
        }
        #expect(maskedFiles.keys.filter { $0.hasPrefix("masks/") }.count == 30)
        #expect(plainFiles.keys.filter { $0.hasPrefix("masks/") }.isEmpty)
        #expect(!String(decoding: plainFiles["phantom.json"]!, as: UTF8.self).contains("masks"))
        #expect(String(decoding: maskedFiles["phantom.json"]!, as: UTF8.self).contains("\"masks\" : true"))
        #expect(without.segmentation == nil && without.samples.allSatisfy { $0.masks == nil })
        #expect(with.segmentation == SegmentationSchema(classes: phantomMaskClasses, exclusive: false))
        #expect(with.samples.map(\.labels) == without.samples.map(\.labels))
        // The manifest read back from the folder is the one generation returned.
        #expect(try loadPhantomManifest(root: masked) == with)
    }

    @Test func eachClassIsWhereTheDrawingPutIt() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = try generatePhantomDataset(at: directory, count: 60, seed: 4, options: Self.options(), masks: true)
        let index = Dictionary(uniqueKeysWithValues: phantomMaskClasses.enumerated().map { ($1, $0) })
        var seen = Set<String>()
        for sample in manifest.samples {
            let counts = try manifest.maskPixelCounts(of: sample)
            func has(_ name: String) -> Bool { counts[index[name]!] > 0 }
            let chest = sample.label("anatomy") == .category("chest")
            let frontal = sample.label("view") == .category("frontal")
            #expect(has("bones"), "\(sample.id): every anatomy has bones")
            #expect(has("lungs") == chest && has("heart") == chest, "\(sample.id)")
            if chest { #expect(has("ribs"), "\(sample.id)") }
            #expect(has("clavicles") == (chest && frontal), "\(sample.id)")
            #expect(has("marker") == (sample.label("marker") == .positive), "\(sample.id)")
            if chest { #expect(has("nodules") == (sample.label("nodule") == .positive), "\(sample.id)") } else { #expect(!has("nodules")) }
            for name in phantomMaskClasses where has(name) { seen.insert(name) }
            // Ribs and clavicles are bones.
            let masks = try manifest.masks(of: sample)
            for part in ["ribs", "clavicles"] {
                let plane = masks.plane(index[part]!), bones = masks.plane(index["bones"]!)
                #expect(zip(plane, bones).allSatisfy { $0.0 <= $0.1 }, "\(sample.id): \(part) outside bones")
            }
        }
        #expect(seen == Set(phantomMaskClasses), "the 60 images show every class")
    }

    @Test func labelMapsAreMirroredAndRotatedWithTheImage() {
        let base = PhantomImagePlan(
            sampleID: "a", imagePath: "a.png", patientID: "p", studyID: "s", subject: PhantomSubject(sex: .female, age: 50),
            anatomy: .chest, view: .frontal, rotation: 0, mirrored: false, markerLetter: "R", markerCorner: 1,
            findings: PhantomFindings(nodules: [PhantomNodule(lung: 1, u: 0.2, v: -0.3, sigma: 0.03, amplitude: 0.8)]),
            bitDepth: 8, imageSeed: 3)
        let upright = renderPhantomWithMasks(base, size: Self.size)
        #expect(upright.image == renderPhantom(base, size: Self.size))
        var turned = base
        turned.mirrored = true
        turned.rotation = 270
        let other = renderPhantomWithMasks(turned, size: Self.size)
        let expected = rotatedClockwise(mirrored(upright.labelMap.samples), size: Self.size, degrees: 270)
        #expect(other.labelMap.samples == expected)
        #expect(other.image.samples == rotatedClockwise(mirrored(upright.image.samples), size: Self.size, degrees: 270))
        #expect(upright.labelMap.samples.contains { $0 & 2 != 0 } && upright.labelMap.samples.contains { $0 & 64 != 0 })
    }

    func mirrored(_ samples: [UInt16]) -> [UInt16] {
        var samples = samples
        for y in 0..<Self.size { samples[(y * Self.size)..<((y + 1) * Self.size)].reverse() }
        return samples
    }

    @Test func aMissingMaskCellIsAnError() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try generatePhantomDataset(at: directory, count: 3, seed: 1, options: Self.options(), masks: true)
        let file = directory.appendingPathComponent(phantomManifestFileName)
        let text = try String(contentsOf: file, encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        lines[2] = String(lines[2][..<lines[2].lastIndex(of: ",")!]) + ","
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        #expect {
            _ = try loadPhantomManifest(root: directory)
        } throws: { error in
            guard case DatasetError.badValue(_, 3, "mask", "", _) = error else { return false }
            return true
        }
    }
}
