import Datasets
import Foundation
import Testing
import TestSupport

/// The `siim-acr` adapter on its small fixture (`scripts/fixtures/masks.py`); the real file is in `SIIMRealLabelsTests`.
@Suite struct SIIMAdapterTests {
    let expected: SegmentationExpectations
    let root = SegmentationExpectations.folder.appendingPathComponent("siim")

    init() throws {
        expected = try SegmentationExpectations.load()
    }

    @Test func rowsOfAnImageAreUnitedInColumnMajorOrder() throws {
        let manifest = try loadSIIMManifest(root: root, options: SIIMOptions(rleFile: "train-rle.csv"))
        #expect(manifest.samples.count == 4)
        for sample in manifest.samples {
            let count = try #require(expected.siim.counts[sample.id]?["Pneumothorax"])
            #expect(try manifest.maskPixelCounts(of: sample) == [count], "\(sample.id)")
            #expect(sample.label("Pneumothorax") == (count > 0 ? .positive : .negative))
            #expect(sample.imagePath == sample.id + ".png" && sample.patientID == sample.id)
            guard let box = expected.siim.boxes[sample.id] else { continue }
            let masks = try manifest.masks(of: sample)
            #expect(masks.height == 1024 && masks.width == 1024 && masks.pixelCounts == [count])
            let set = masks.planes.indices.filter { masks.planes[$0] == 1 }
            let rows = set.map { $0 / 1024 }, columns = set.map { $0 % 1024 }
            #expect(SegmentationExpectations.Box(minRow: rows.min()!, maxRow: rows.max()!, minColumn: columns.min()!, maxColumn: columns.max()!) == box)
        }
    }

    @Test func aTestFileSetsTheOfficialSplit() throws {
        let copy = try copyOfSegmentationFixture("siim")
        try "ImageId,EncodedPixels\nX.1,-1\nX.2,5 3\n".write(to: copy.appendingPathComponent("test.csv"), atomically: true, encoding: .utf8)
        let manifest = try loadSIIMManifest(root: copy, options: SIIMOptions(rleFile: "train-rle.csv", testRLEFile: "test.csv"))
        #expect(manifest.samples.filter { $0.officialSplit == .test }.map(\.id) == ["X.1", "X.2"])
        #expect(manifest.samples.filter { $0.officialSplit == .train }.count == 4)
        try "ImageId,EncodedPixels\n1.2.276.0.7230010.3.1.4.8323329.1,-1\n".write(to: copy.appendingPathComponent("test.csv"), atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.self) {
            _ = try loadSIIMManifest(root: copy, options: SIIMOptions(rleFile: "train-rle.csv", testRLEFile: "test.csv"))
        }
    }

    @Test func badCellsNameFileLineAndColumn() throws {
        let copy = try copyOfSegmentationFixture("siim")
        let file = copy.appendingPathComponent("bad.csv")
        try "ImageId, EncodedPixels\nA,-1\nB,10 3 x 2\n".write(to: file, atomically: true, encoding: .utf8)
        #expect {
            _ = try loadSIIMManifest(root: copy, options: SIIMOptions(rleFile: "bad.csv"))
        } throws: { error in
            guard case DatasetError.badValue(file.path, 3, " EncodedPixels", _, let expected) = error else { return false }
            return expected.contains("\"x\" is not a whole number")
        }
        try "ImageId,EncodedPixels\nA,1048570 10\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.self) { _ = try loadSIIMManifest(root: copy, options: SIIMOptions(rleFile: "bad.csv")) }
        try "Image,EncodedPixels\nA,-1\n".write(to: file, atomically: true, encoding: .utf8)
        #expect {
            _ = try loadSIIMManifest(root: copy, options: SIIMOptions(rleFile: "bad.csv"))
        } throws: { error in
            guard case DatasetError.missingColumn(_, "ImageId", _) = error else { return false }
            return true
        }
        #expect {
            _ = try loadSIIMManifest(root: copy, options: SIIMOptions(rleFile: "train-rle.csv", checkImages: true))
        } throws: { error in
            guard case DatasetError.missingImages(_, _, let missing, 4) = error else { return false }
            return missing.count == 4
        }
    }
}
