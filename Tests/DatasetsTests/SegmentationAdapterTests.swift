import Datasets
import Foundation
import Imaging
import Testing
import TestSupport

/// What `scripts/fixtures/masks.py` wrote beside the small segmentation datasets: numpy's pixel
/// counts of the masks as written, skimage's polygon fills, torch's resampled planes.
struct SegmentationExpectations: Decodable {
    struct CSVCounts: Decodable {
        let lung: Int
        let heart: Int
        let labelmap: [String: Int]
        let bits: [String: Int]
    }

    struct Plane: Decodable {
        let height: Int
        let width: Int
        let lung: [UInt8]
        let heart: [UInt8]
        /// Padded to a square as images are, then resampled to `paddedSide` squared.
        let paddedSide: Int
        let paddedLung: [UInt8]
        let paddedHeart: [UInt8]
    }

    struct CSV: Decodable {
        let counts: [String: CSVCounts]
        let planes: [String: Plane]
    }

    struct Counts: Decodable {
        let counts: [String: [String: Int]]
    }

    struct Box: Decodable, Equatable {
        let minRow: Int, maxRow: Int, minColumn: Int, maxColumn: Int
    }

    struct SIIM: Decodable {
        let counts: [String: [String: Int]]
        let boxes: [String: Box]
    }

    struct VinDr: Decodable {
        let counts: [String: [String: Int]]
        let semantic: [String: [String: Int]]
    }

    let csv: CSV
    let jsrt: Counts
    let jsrtFolds: Counts
    let siim: SIIM
    let vindr: VinDr

    enum CodingKeys: String, CodingKey {
        case csv, jsrt, siim, vindr
        case jsrtFolds = "jsrt_folds"
    }

    static let folder = fixturesDirectory().appendingPathComponent("segmentation")

    static func load() throws -> SegmentationExpectations {
        try JSONDecoder().decode(SegmentationExpectations.self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
    }
}

/// A copy of a fixture dataset in a temporary folder, to break.
func copyOfSegmentationFixture(_ name: String) throws -> URL {
    let target = try makeTemporaryDirectory("xrbench-seg").appendingPathComponent(name)
    try FileManager.default.copyItem(at: SegmentationExpectations.folder.appendingPathComponent(name), to: target)
    return target
}

func csvSegmentationOptions(_ masks: CSVMasks) -> CSVManifestOptions {
    CSVManifestOptions(file: "labels.csv", imageColumn: "path", patientColumn: "patient", labels: [], masks: masks)
}

let perClassMasks = CSVMasks.perClass([CSVMaskColumn(column: "lung_mask", name: "lung"), CSVMaskColumn(column: "heart_mask", name: "heart")])

@Suite struct CSVSegmentationTests {
    let expected: SegmentationExpectations
    let root = SegmentationExpectations.folder.appendingPathComponent("csv")

    init() throws {
        expected = try SegmentationExpectations.load()
    }

    func stem(_ sample: Sample) -> String { URL(fileURLWithPath: sample.imagePath).deletingPathExtension().lastPathComponent }

    @Test func perClassMasksOfEveryPNGFlavourCountAsNumpy() throws {
        // 0/255, 0/1, 1-bit and RGB masks, and a blank cell (an empty heart).
        let manifest = try loadCSVManifest(root: root, options: csvSegmentationOptions(perClassMasks))
        #expect(manifest.segmentation == SegmentationSchema(classes: ["lung", "heart"], exclusive: false))
        #expect(manifest.samples.count == 6)
        for sample in manifest.samples {
            let reference = try #require(expected.csv.counts[stem(sample)])
            #expect(try manifest.maskPixelCounts(of: sample) == [reference.lung, reference.heart], "\(sample.id)")
            let masks = try manifest.masks(of: sample)
            #expect(masks.height == 20 && masks.width == 24)
            #expect(masks.pixelCounts == [reference.lung, reference.heart])
        }
        #expect(manifest.samples[2].masks?["heart"] == .empty)
    }

    @Test func planesAtAnotherSizeEqualTorchNearest() throws {
        let manifest = try loadCSVManifest(root: root, options: csvSegmentationOptions(perClassMasks))
        for (name, plane) in expected.csv.planes {
            let sample = try #require(manifest.samples.first { stem($0) == name })
            let masks = try manifest.masks(of: sample, size: MaskSize(width: plane.width, height: plane.height))
            #expect(masks.plane(0) == plane.lung && masks.plane(1) == plane.heart, "\(name)")
            #expect(masks.planes.count == 2 * plane.height * plane.width)
            let padded = try manifest.masks(of: sample, size: MaskSize(width: plane.paddedSide, height: plane.paddedSide), padToSquare: true)
            #expect(padded.plane(0) == plane.paddedLung && padded.plane(1) == plane.paddedHeart, "\(name) padded")
            let square = try manifest.masks(of: sample, padToSquare: true)
            let counts = try manifest.maskPixelCounts(of: sample)
            #expect(square.height == 24 && square.width == 24 && square.pixelCounts == counts, "padding adds and drops no pixel")
        }
    }

    @Test func labelMapsOfValuesAndOfBits() throws {
        let values = try loadCSVManifest(root: root, options: csvSegmentationOptions(.labelMap(column: "labelmap", classes: ["lung", "heart"], encoding: .values)))
        let bits = try loadCSVManifest(root: root, options: csvSegmentationOptions(.labelMap(column: "bitmap", classes: ["lung", "heart"], encoding: .bits)))
        #expect(values.segmentation?.exclusive == true && bits.segmentation?.exclusive == false)
        for (manifest, key) in [(values, \SegmentationExpectations.CSVCounts.labelmap), (bits, \.bits)] {
            for sample in manifest.samples {
                let reference = try #require(expected.csv.counts[stem(sample)])[keyPath: key]
                #expect(try manifest.maskPixelCounts(of: sample) == [reference["lung"]!, reference["heart"]!], "\(sample.id)")
            }
        }
        // A label map is decoded once for all its classes, and value 7 (no class) is background.
        let masks = try values.masks(of: values.samples[0])
        #expect(masks.plane(0)[0] == 0 && masks.plane(1)[0] == 0)
    }

    @Test func theDescriptionCountsImagesAndPixelsPerClass() throws {
        let manifest = try loadCSVManifest(root: root, options: csvSegmentationOptions(perClassMasks))
        let section = try DatasetDescription.maskSection(of: manifest, threads: 3)
        let counts = expected.csv.counts.values
        #expect(section.key == "masks" && section.columns == ["images with mask", "mask pixels"])
        #expect(section.rows.map(\.name) == ["lung", "heart", "(any class)"])
        #expect(section.rows[0].values == [.count(counts.filter { $0.lung > 0 }.count), .count(counts.reduce(0) { $0 + $1.lung })])
        #expect(section.rows[1].values == [.count(counts.filter { $0.heart > 0 }.count), .count(counts.reduce(0) { $0 + $1.heart })])
        var description = DatasetDescription(manifest)
        description.sections.append(section)
        #expect(description.text().contains("segmentation masks (2 classes, may overlap; pixels at the masks' own size)"))
        #expect(description.json().contains("\"masks\": {"))
    }

    @Test func aMissingMaskColumnNamesTheHeader() {
        let options = csvSegmentationOptions(.perClass([CSVMaskColumn(column: "lungs_mask")]))
        #expect(throws: DatasetError.missingColumn(file: root.appendingPathComponent("labels.csv").path, column: "lungs_mask",
                                                   available: ["path", "patient", "lung_mask", "heart_mask", "labelmap", "bitmap"])) {
            _ = try loadCSVManifest(root: root, options: options)
        }
        #expect(throws: DatasetError.self) {
            _ = try loadCSVManifest(root: root, options: csvSegmentationOptions(.labelMap(column: "labelmap", classes: ["a", "a"], encoding: .values)))
        }
    }

    @Test func brokenMaskFilesAreNamedWithSampleAndClass() throws {
        let copy = try copyOfSegmentationFixture("csv")
        let manifest = try loadCSVManifest(root: copy, options: csvSegmentationOptions(perClassMasks))
        let lung0 = copy.appendingPathComponent("masks/lung/img0.png")
        try FileManager.default.removeItem(at: lung0)
        #expect(throws: MaskError.missingFile(path: lung0.path, sampleID: "images/img0.png", className: "lung")) {
            _ = try manifest.masks(of: manifest.samples[0])
        }
        let heart1 = copy.appendingPathComponent("masks/heart/img1.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0]).write(to: heart1)
        #expect {
            _ = try manifest.maskPixelCounts(of: manifest.samples[1])
        } throws: { error in
            guard case MaskError.unreadableFile(let path, "images/img1.png", "heart", _) = error else { return false }
            return path == heart1.path && "\(error)".contains("Masks must be PNG files")
        }
        // A mask of another size than the sample's other masks.
        try DecodedImage(width: 5, height: 4, channels: 1, bitDepth: 8, samples: Array(repeating: 255, count: 20))
            .writePNG(to: copy.appendingPathComponent("masks/heart/img3.png"))
        #expect {
            _ = try manifest.masks(of: manifest.samples[3], size: MaskSize(width: 8, height: 8))
        } throws: { error in
            guard case MaskError.sizeMismatch(_, "heart", _, MaskSize(width: 5, height: 4), MaskSize(width: 24, height: 20), _) = error else { return false }
            return "\(error)".contains("must have one size")
        }
        #expect(throws: MaskError.invalidSize(height: 0, width: 3)) {
            _ = try manifest.masks(of: manifest.samples[4], size: MaskSize(width: 3, height: 0))
        }
        #expect(throws: MaskError.invalidSize(height: 1 << 20, width: 1 << 20)) {
            _ = try manifest.masks(of: manifest.samples[4], size: MaskSize(width: 1 << 20, height: 1 << 20))
        }
    }

    @Test func aColourLabelMapIsRefused() throws {
        let copy = try copyOfSegmentationFixture("csv")
        let manifest = try loadCSVManifest(root: copy, options: csvSegmentationOptions(.labelMap(column: "labelmap", classes: ["lung", "heart"], encoding: .values)))
        let map = copy.appendingPathComponent("labelmaps/img0.png")
        try DecodedImage(width: 24, height: 20, channels: 3, bitDepth: 8, samples: Array(repeating: 1, count: 24 * 20 * 3)).writePNG(to: map)
        #expect(throws: MaskError.colourLabelMap(path: map.path, className: "lung")) { _ = try manifest.masks(of: manifest.samples[0]) }
    }

    @Test func emptyMasksTakeTheImageSizeOrTheSizeAskedFor() throws {
        let copy = try copyOfSegmentationFixture("csv")
        let csv = "path,patient,lung_mask\nimages/img0.png,P0,\nimages/missing.png,P1,\n"
        try csv.write(to: copy.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
        let manifest = try loadCSVManifest(root: copy, options: csvSegmentationOptions(.perClass([CSVMaskColumn(column: "lung_mask")])))
        let native = try manifest.masks(of: manifest.samples[0])
        #expect(native.height == 20 && native.width == 24 && native.pixelCounts == [0])
        let sized = try manifest.masks(of: manifest.samples[1], size: MaskSize(width: 7, height: 5))
        #expect(sized.planes == Array(repeating: 0, count: 35))
        #expect(throws: MaskError.self) { _ = try manifest.masks(of: manifest.samples[1]) }
    }
}

@Suite struct JSRTAdapterTests {
    let expected: SegmentationExpectations

    init() throws {
        expected = try SegmentationExpectations.load()
    }

    func check(_ manifest: Manifest, against counts: [String: [String: Int]]) throws {
        #expect(manifest.segmentation?.classes == JSRTStructure.allCases.map(\.rawValue))
        #expect(manifest.samples.map(\.id) == ["JPCLN001", "JPCLN002", "JPCNN001"])
        #expect(manifest.samples.map { $0.label("nodule") } == [.positive, .positive, .negative])
        for sample in manifest.samples {
            let reference = try #require(counts[sample.id])
            #expect(try manifest.maskPixelCounts(of: sample) == JSRTStructure.allCases.map { reference[$0.rawValue]! }, "\(sample.id)")
            // SCR's masks have half the images' resolution; they are read at any size.
            let masks = try manifest.masks(of: sample, size: MaskSize(width: 32, height: 32))
            #expect(masks.pixelCounts == JSRTStructure.allCases.map { 4 * reference[$0.rawValue]! }, "\(sample.id) doubled")
        }
    }

    @Test func scrStructureFoldersBesideTheImages() throws {
        let root = SegmentationExpectations.folder.appendingPathComponent("jsrt")
        let manifest = try loadJSRTManifest(root: root, options: JSRTOptions())
        try check(manifest, against: expected.jsrt.counts)
        #expect(manifest.samples.allSatisfy { $0.attributes["fold"] == nil })
    }

    @Test func scrsOwnFoldLayout() throws {
        let root = SegmentationExpectations.folder.appendingPathComponent("jsrt_folds")
        let manifest = try loadJSRTManifest(root: root, options: JSRTOptions(masksFolder: "scratch"))
        try check(manifest, against: expected.jsrtFolds.counts)
        #expect(manifest.samples.map { $0.attributes["fold"] } == ["fold1", "fold2", "fold1"])
    }

    @Test func aSubsetOfStructures() throws {
        let root = SegmentationExpectations.folder.appendingPathComponent("jsrt")
        let manifest = try loadJSRTManifest(root: root, options: JSRTOptions(structures: [.heart, .leftClavicle]))
        #expect(manifest.segmentation?.classes == ["heart", "left_clavicle"])
        let reference = try #require(expected.jsrt.counts["JPCNN001"])
        #expect(try manifest.maskPixelCounts(of: manifest.samples[2]) == [reference["heart"]!, reference["left_clavicle"]!])
    }

    @Test func layoutProblemsNameTheFolderAndWhatToDo() throws {
        let copy = try copyOfSegmentationFixture("jsrt")
        try FileManager.default.removeItem(at: copy.appendingPathComponent("masks/heart/JPCLN002.png"))
        #expect {
            _ = try loadJSRTManifest(root: copy, options: JSRTOptions())
        } throws: { error in
            guard case DatasetError.invalidMasks(_, "JPCLN002", let reason) = error else { return false }
            return reason.contains("1 masks are missing: JPCLN002 (heart)")
        }
        try FileManager.default.removeItem(at: copy.appendingPathComponent("masks/heart"))
        #expect {
            _ = try loadJSRTManifest(root: copy, options: JSRTOptions())
        } throws: { error in
            guard case DatasetError.fileNotFound(_, let hint) = error else { return false }
            return hint.contains("No folder of the structure heart")
        }
        try Data("GIF89a".utf8).write(to: copy.appendingPathComponent("masks/left lung/JPCLN001.gif"))
        #expect {
            _ = try loadJSRTManifest(root: copy, options: JSRTOptions(structures: [.leftLung]))
        } throws: { error in
            guard case DatasetError.unreadable(let path, let reason) = error else { return false }
            return path.hasSuffix("JPCLN001.gif") && reason.contains("convert them to PNG")
        }
        #expect(throws: DatasetError.self) { _ = try loadJSRTManifest(root: copy, options: JSRTOptions(imagesFolder: "pictures")) }
    }
}
