import Foundation
import Imaging
import Testing
import TestSupport

/// `xrbench phantom --masks` and `xrbench dataset` on segmentation datasets, through the binary.
@Suite struct SegmentationCommandTests {
    static let segmentationFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("DatasetsTests/Fixtures/segmentation")

    @Test func phantomMasksAddLabelMapsAndLeaveTheImages() throws {
        let folder = try makeTemporaryDirectory()
        let plain = try CLI.run(["phantom", "--out", "a", "--count", "6", "--seed", "3", "--size", "48"], in: folder)
        let masked = try CLI.run(["phantom", "--out", "b", "--count", "6", "--seed", "3", "--size", "48", "--masks"], in: folder)
        #expect(plain.status == 0 && masked.status == 0, "\(masked.errorOutput)")
        #expect(masked.output.contains("their label maps to "))
        let images = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("a/images").path).sorted()
        for name in images {
            #expect(try Data(contentsOf: folder.appendingPathComponent("a/images/\(name)")) == Data(contentsOf: folder.appendingPathComponent("b/images/\(name)")))
            let map = try decodeImage(at: folder.appendingPathComponent("b/masks/\(name)"))
            #expect(map.width == 48 && map.bitDepth == 8 && map.samples.allSatisfy { $0 < 128 })
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("a/masks").path))
        let header = try String(contentsOf: folder.appendingPathComponent("b/manifest.csv"), encoding: .utf8).prefix { $0 != "\n" }
        #expect(header.hasSuffix(",bit_depth,mask"))
    }

    @Test func datasetReportsImagesWithAMaskAndPixelsPerClass() throws {
        let folder = try makeTemporaryDirectory()
        let root = Self.segmentationFixtures.appendingPathComponent("csv").path
        try """
            experiment: seg
            backbones: {pixels: {kind: pixels}}
            datasets:
              organs: {kind: csv, manifest: \(root)/labels.csv, patient_column: patient, mask_columns: [lung_mask, heart_mask], mask_classes: [lung, heart]}
              phantom: {kind: phantom, count: 12, seed: 2, size: 32, masks: true}
            tasks:
              - {name: f, kind: classification, labels: [marker], metric: auroc, matrix: {backbone: [pixels], dataset: [phantom]}}
            """.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let text = try CLI.run(["dataset", "spec.yaml", "organs"], in: folder)
        #expect(text.status == 0, "\(text.errorOutput)")
        #expect(text.output.contains("segmentation masks (2 classes, may overlap; pixels at the masks' own size)"), "\(text.output)")
        let json = try CLI.run(["dataset", "spec.yaml", "organs", "--format", "json"], in: folder)
        #expect(json.status == 0, "\(json.errorOutput)")
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        let masks = try #require((decoded["sections"] as? [String: Any])?["masks"] as? [String: Any])
        let rows = try #require(masks["rows"] as? [[Any]])
        // The counts numpy made of the files the fixture script wrote.
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.segmentationFixtures.appendingPathComponent("expected.json"))) as? [String: Any])
        let counts = try #require(((expected["csv"] as? [String: Any])?["counts"] as? [String: [String: Any]]))
        for (index, name) in ["lung", "heart"].enumerated() {
            let perImage = counts.values.compactMap { $0[name] as? Int }
            #expect(rows[index][0] as? String == name)
            #expect(rows[index][1] as? Int == perImage.filter { $0 > 0 }.count && rows[index][2] as? Int == perImage.reduce(0, +), "\(rows[index])")
        }
        #expect(rows.last?.first as? String == "(any class)")

        let phantom = try CLI.run(["dataset", "spec.yaml", "phantom"], in: folder)
        #expect(phantom.status == 0, "\(phantom.errorOutput)")
        for name in ["lungs", "heart", "bones", "ribs", "clavicles", "marker", "nodules"] {
            #expect(phantom.output.contains("\n\(name) "), "\(name) missing from \(phantom.output)")
        }
    }

    @Test func aBrokenMaskIsAnErrorNamingTheFile() throws {
        let folder = try makeTemporaryDirectory()
        let copy = folder.appendingPathComponent("csv")
        try FileManager.default.copyItem(at: Self.segmentationFixtures.appendingPathComponent("csv"), to: copy)
        try Data("broken".utf8).write(to: copy.appendingPathComponent("masks/heart/img4.png"))
        try """
            experiment: seg
            backbones: {pixels: {kind: pixels}}
            datasets:
              organs: {kind: csv, manifest: csv/labels.csv, patient_column: patient, attribute_columns: [patient], mask_columns: [lung_mask, heart_mask]}
            tasks:
              - {name: f, kind: retrieval, k: [1], relevance: [patient], matrix: {backbone: [pixels], dataset: [organs]}}
            """.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["dataset", "spec.yaml", "organs"], in: folder)
        #expect(result.status != 0 && !result.crashed)
        #expect(result.errorOutput.contains("masks/heart/img4.png: cannot read the mask of sample images/img4.png, class heart_mask"), "\(result.errorOutput)")
    }
}
