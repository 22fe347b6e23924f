import Datasets
import Foundation
import Testing
import TestSupport

/// The mask model: run-length and polygon masks, their JSON, and manifests carrying masks.
@Suite struct RunLengthMaskTests {
    @Test func siimRelativeRunsBecomeAbsoluteColumnMajorRuns() throws {
        // Skip 3, run 2; skip 1, run 4 in a 4 × 3 mask (12 pixels, offsets down the columns).
        let runs = try RunLengthMask.absoluteRuns(fromSIIM: " 3 2 1 4 ", pixelCount: 12)
        #expect(runs == [3, 2, 6, 4])
        let mask = try RunLengthMask(width: 4, height: 3, runs: runs)
        // Offsets 3, 4 (column 1, rows 0-1), 6-9 (column 2 rows 0-2, column 3 row 0).
        #expect(mask.plane() == [0, 1, 1, 1,
                                 0, 1, 1, 0,
                                 0, 0, 1, 0])
        #expect(mask.pixelCount == 6)
        #expect(try RunLengthMask.absoluteRuns(fromSIIM: "-1", pixelCount: 12).isEmpty)
    }

    @Test func overlappingRunsAreCountedOnce() throws {
        let mask = try RunLengthMask(width: 10, height: 10, runs: [5, 10, 8, 4, 40, 3, 0, 1])
        #expect(mask.mergedRanges == [0..<1, 5..<15, 40..<43])
        #expect(mask.pixelCount == 14)
        #expect(mask.plane().reduce(0) { $0 + Int($1) } == 14)
    }

    @Test(arguments: ["", "1 2 3", "a 2", "-2 3", "0 0", "10 3", "1.5 2", "-1 4"])
    func malformedCellsAreRejected(cell: String) {
        #expect(throws: MaskError.self, "\"\(cell)\"") { _ = try RunLengthMask.absoluteRuns(fromSIIM: Substring(cell), pixelCount: 12) }
    }

    @Test func runsOutsideTheMaskAreRejected() {
        #expect(throws: MaskError.self) { _ = try RunLengthMask(width: 2, height: 2, runs: [3, 2]) }
        #expect(throws: MaskError.self) { _ = try RunLengthMask(width: 2, height: 2, runs: [1]) }
        #expect(throws: MaskError.self) { _ = try RunLengthMask(width: 0, height: 2, runs: []) }
    }
}

@Suite struct PolygonMaskTests {
    struct Reference: Decodable {
        struct Case: Decodable {
            let name: String
            let width: Int
            let height: Int
            let polygons: [[Double]]
            let filled: [Int]
        }

        let cases: [Case]
    }

    @Test func fillsEqualSkimageDrawPolygon() throws {
        let url = fixturesDirectory().appendingPathComponent("segmentation/polygons.json")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        #expect(reference.cases.count > 40)
        for item in reference.cases {
            let mask = try PolygonMask(width: item.width, height: item.height, polygons: item.polygons)
            let plane = mask.plane()
            let filled = plane.indices.filter { plane[$0] == 1 }
            #expect(filled == item.filled, "\(item.name): \(filled.count) pixels filled, skimage \(item.filled.count)")
            #expect(mask.pixelCount == item.filled.count, "\(item.name)")
        }
    }

    @Test func invalidCoordinatesAreRejected() {
        #expect(throws: MaskError.self) { _ = try PolygonMask(width: 4, height: 4, polygons: [[1, 1, 2]]) }
        #expect(throws: MaskError.self) { _ = try PolygonMask(width: 4, height: 4, polygons: [[1, 1, 2, .nan, 3, 3]]) }
        #expect(throws: MaskError.self) { _ = try PolygonMask(width: 4, height: 0, polygons: []) }
    }

    @Test func farAwayCoordinatesAreClippedAndAbsurdOnesRejected() throws {
        let mask = try PolygonMask(width: 8, height: 8, polygons: [[-1e9, -1e9, 1e9, -1e9, 0, 1e9]])
        #expect(mask.pixelCount == 64)
        #expect(throws: MaskError.self) { _ = try PolygonMask(width: 8, height: 8, polygons: [[-1e300, 0, 1, 0, 0, 1]]) }
    }
}

@Suite struct ManifestMaskTests {
    static let schema = SegmentationSchema(classes: ["lung", "heart"], exclusive: false)

    func sample(_ id: String, masks: [String: MaskSource]?) -> Sample {
        Sample(id: id, patientID: id, studyID: id, imagePath: "\(id).png", labels: [:], masks: masks)
    }

    @Test func everySampleNeedsOneMaskPerClass() {
        let full: [String: MaskSource] = ["lung": .file(path: "a.png", pixels: .nonZero), "heart": .empty]
        #expect(throws: Never.self) {
            _ = try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: LabelSchema([]), samples: [sample("a", masks: full)],
                             segmentation: Self.schema)
        }
        #expect {
            _ = try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: LabelSchema([]),
                             samples: [sample("a", masks: ["lung": .empty, "liver": .empty])], segmentation: Self.schema, source: "x.csv")
        } throws: { error in
            "\(error)".contains("x.csv, sample \"a\": no mask for heart; masks of unknown classes liver")
        }
        #expect(throws: DatasetError.self) {
            _ = try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: LabelSchema([]), samples: [sample("a", masks: full)])
        }
    }

    @Test func masksSurviveJSONFilteringAndRelocation() throws {
        let sources: [MaskSource] = [
            .empty, .file(path: "m/a.png", pixels: .nonZero), .file(path: "m/b.png", pixels: .value(3)), .file(path: "m/c.png", pixels: .bit(5)),
            .runLength(try RunLengthMask(width: 4, height: 3, runs: [1, 2])),
            .polygons(try PolygonMask(width: 5, height: 6, polygons: [[0.5, 1, 4, 2.25, 2, 5], []])),
        ]
        let samples = sources.enumerated().map { sample("s\($0.offset)", masks: ["lung": $0.element, "heart": .empty]) }
        let manifest = try Manifest(dataset: "t", root: URL(fileURLWithPath: "/data"), schema: LabelSchema([]), samples: samples,
                                    segmentation: Self.schema)
        let decoded = try JSONDecoder().decode(Manifest.self, from: JSONEncoder().encode(manifest))
        #expect(decoded == manifest)
        #expect(manifest.filtered { $0.id != "s1" }.segmentation == Self.schema)
        #expect(manifest.relocated(to: URL(fileURLWithPath: "/elsewhere")).samples == manifest.samples)
        #expect(manifest.maskFilePaths == ["m/a.png", "m/b.png", "m/c.png"])
        #expect(manifest.maskURL("m/a.png").path == "/data/m/a.png")
        #expect(manifest.maskURL("/abs/m.png").path == "/abs/m.png")
    }

    @Test func manifestsWithoutMasksEncodeAsBefore() throws {
        let manifest = try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: LabelSchema([.binary("x")]),
                                    samples: [Sample(id: "a", patientID: "p", studyID: "s", imagePath: "a.png", labels: ["x": .positive])])
        let json = String(decoding: try JSONEncoder().encode(manifest), as: UTF8.self)
        #expect(!json.contains("mask") && !json.contains("segmentation"))
        #expect(!String(decoding: manifest.canonicalSerialization(), as: UTF8.self).contains("mask"))
    }

    @Test func canonicalSerialisationCoversMasks() throws {
        func manifest(_ lung: MaskSource) throws -> Manifest {
            try Manifest(dataset: "t", root: URL(fileURLWithPath: "/"), schema: LabelSchema([]),
                         samples: [sample("a", masks: ["lung": lung, "heart": .empty])], segmentation: Self.schema)
        }
        let variants: [MaskSource] = [.empty, .file(path: "a.png", pixels: .nonZero), .file(path: "a.png", pixels: .value(1)),
                                      .file(path: "a.png", pixels: .bit(1)), .runLength(try RunLengthMask(width: 2, height: 2, runs: [0, 1])),
                                      .polygons(try PolygonMask(width: 2, height: 2, polygons: [[0, 0, 1, 0, 1, 1]]))]
        let serialisations = try variants.map { try manifest($0).canonicalSerialization() }
        #expect(Set(serialisations).count == variants.count)
        let text = String(decoding: serialisations[3], as: UTF8.self)
        #expect(text.contains("segmentation\toverlapping\tlung\theart\n") && text.contains("mask\tlung\tfile\ta.png\tbit=1\n"))
    }

    @Test func readingMasksOfAManifestWithoutThemSaysSo() throws {
        let manifest = try Manifest(dataset: "plain", root: URL(fileURLWithPath: "/"), schema: LabelSchema([]),
                                    samples: [Sample(id: "a", patientID: "p", studyID: "s", imagePath: "a.png", labels: [:])])
        #expect(throws: MaskError.noSegmentation(dataset: "plain")) { _ = try manifest.masks(of: manifest.samples[0]) }
    }
}
