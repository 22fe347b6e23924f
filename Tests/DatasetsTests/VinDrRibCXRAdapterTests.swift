import Datasets
import Foundation
import Testing
import TestSupport

/// The `vindr-ribcxr` adapter on its small fixture, filled as `skimage.draw.polygon` (`scripts/fixtures/masks.py`).
@Suite struct VinDrRibCXRAdapterTests {
    let expected: SegmentationExpectations
    let root = SegmentationExpectations.folder.appendingPathComponent("vindr")
    let options = VinDrRibOptions(trainJSON: "Vindr_RibCXR_train_mask.json", validationJSON: "Vindr_RibCXR_val_mask.json")

    init() throws {
        expected = try SegmentationExpectations.load()
    }

    @Test func everyRibIsFilledAsSkimage() throws {
        let manifest = try loadVinDrRibCXRManifest(root: root, options: options)
        #expect(manifest.segmentation?.classes == VinDrRibOptions.ribs)
        #expect(manifest.samples.map(\.officialSplit) == [.train, .train, .test])
        for sample in manifest.samples {
            let reference = try #require(expected.vindr.counts[sample.id])
            #expect(try manifest.maskPixelCounts(of: sample) == VinDrRibOptions.ribs.map { reference[$0]! }, "\(sample.id)")
            // Found by name: the JSON says data/<split>/img/, the copy is in img/.
            #expect(sample.imagePath == "img/\(sample.id).png")
            let masks = try manifest.masks(of: sample)
            #expect(masks.pixelCounts == VinDrRibOptions.ribs.map { reference[$0]! })
        }
        #expect(manifest.samples[0].masks?["L1"] == .empty)
    }

    @Test func theSemanticVariantUnitesTheRibs() throws {
        var semantic = options
        semantic.semantic = true
        semantic.validationSplit = .validation
        let manifest = try loadVinDrRibCXRManifest(root: root, options: semantic)
        #expect(manifest.segmentation?.classes == ["ribs"])
        #expect(manifest.samples.last?.officialSplit == .validation)
        for sample in manifest.samples {
            #expect(try manifest.maskPixelCounts(of: sample) == [expected.vindr.semantic[sample.id]!["ribs"]!], "\(sample.id)")
        }
    }

    @Test func malformedJSONNamesTheKey() throws {
        let copy = try copyOfSegmentationFixture("vindr")
        let file = copy.appendingPathComponent("Vindr_RibCXR_train_mask.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        var rib = try #require(object["R2"] as? [String: Any])
        rib["1"] = [["x": 3.0, "y": 4.0], ["x": 5.0]]
        object["R2"] = rib
        try JSONSerialization.data(withJSONObject: object).write(to: file)
        #expect(throws: DatasetError.malformedJSON(file: file.path, key: "R2[\"1\"][1]", reason: "expected a point {\"x\": number, \"y\": number}")) {
            _ = try loadVinDrRibCXRManifest(root: copy, options: options)
        }
        object.removeValue(forKey: "L7")
        try JSONSerialization.data(withJSONObject: object).write(to: file)
        #expect(throws: DatasetError.self) { _ = try checkVinDrRibJSON(at: file) }
        try Data("{".utf8).write(to: file)
        #expect(throws: DatasetError.self) { _ = try checkVinDrRibJSON(at: file) }
    }

    @Test func missingImagesAreListedAtOnce() throws {
        let copy = try copyOfSegmentationFixture("vindr")
        try FileManager.default.removeItem(at: copy.appendingPathComponent("img"))
        #expect {
            _ = try loadVinDrRibCXRManifest(root: copy, options: options)
        } throws: { error in
            guard case DatasetError.missingImages(_, _, let missing, 3) = error else { return false }
            return missing == ["data/train/img/VinDr_RibCXR_train_000.png", "data/train/img/VinDr_RibCXR_train_001.png",
                               "data/val/img/VinDr_RibCXR_val_000.png"]
        }
    }
}
