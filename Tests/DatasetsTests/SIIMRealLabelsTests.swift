import Datasets
import Foundation
import Testing
import TestSupport

/// SIIM-ACR's real run-length file (`train-rle.csv`: 12,954 rows of 12,047 images), as shipped by
/// torchxrayvision and fetched by `scripts/fixtures/siim_rle.sh` (run by `make test`). Override
/// the location with `XRBENCH_SIIM_RLE`.
let siimRealRLEFile: URL = {
    let environment = ProcessInfo.processInfo.environment
    if let path = environment["XRBENCH_SIIM_RLE"] { return URL(fileURLWithPath: path) }
    let cache = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
    return cache.appendingPathComponent("xrbench/siim/train-rle.csv")
}()

/// What numpy decoded (the script's `--write-fixture`): the independent reference.
struct SIIMReferenceCounts: Decodable {
    struct Example: Decodable {
        let pixels: Int
        let rows: Int
        let minRow: Int, maxRow: Int, minColumn: Int, maxColumn: Int
    }

    let rows: Int
    let images: Int
    let multiRowImages: Int
    let positiveImages: Int
    let maskPixels: Int
    let pixelsSummedOverRows: Int
    let rowIndexSum: Int
    let columnIndexSum: Int
    let examples: [String: Example]
}

@Suite(.enabled(if: FileManager.default.fileExists(atPath: siimRealRLEFile.path),
                "run scripts/fixtures/siim_rle.sh to fetch SIIM-ACR's real run-length file"))
struct SIIMRealLabelsTests {
    let reference: SIIMReferenceCounts
    let manifest: Manifest

    init() throws {
        reference = try JSONDecoder().decode(SIIMReferenceCounts.self,
                                             from: Data(contentsOf: fixturesDirectory().appendingPathComponent("siim_rle_counts.json")))
        manifest = try loadSIIMManifest(root: siimRealRLEFile.deletingLastPathComponent(),
                                        options: SIIMOptions(rleFile: siimRealRLEFile.lastPathComponent))
    }

    @Test func positiveImagesAndMaskPixelsEqualNumpysDecode() throws {
        #expect(manifest.samples.count == reference.images)
        var positive = 0, pixels = 0, rowSum = 0, columnSum = 0, runs = 0
        for sample in manifest.samples {
            guard case .runLength(let mask) = try #require(sample.masks?[SIIMOptions.className]) else {
                Issue.record("\(sample.id): not a run-length mask")
                continue
            }
            let count = mask.pixelCount
            #expect((count > 0) == (sample.label(SIIMOptions.className) == .positive))
            guard count > 0 else { continue }
            positive += 1
            pixels += count
            runs += mask.runs.count / 2
            // Offsets run down the columns: offset = column × 1024 + row; each range's rows are
            // summed column by column as arithmetic series.
            for range in mask.mergedRanges {
                for column in (range.lowerBound / 1024)...((range.upperBound - 1) / 1024) {
                    let first = max(range.lowerBound - column * 1024, 0), last = min(range.upperBound - column * 1024, 1024) - 1
                    rowSum += (first + last) * (last - first + 1) / 2
                    columnSum += column * (last - first + 1)
                }
            }
        }
        #expect(positive == reference.positiveImages)
        #expect(pixels == reference.maskPixels)
        #expect(rowSum == reference.rowIndexSum && columnSum == reference.columnIndexSum, "column-major order")
        #expect(manifest.samples.count - positive == manifest.valueCounts(of: SIIMOptions.className)[.negative])
    }

    @Test func decodedPlanesOfExamplesMatch() throws {
        #expect(!reference.examples.isEmpty)
        for (id, example) in reference.examples {
            let sample = try #require(manifest.samples.first { $0.id == id })
            let masks = try manifest.masks(of: sample)
            #expect(masks.pixelCounts == [example.pixels], "\(id)")
            let set = masks.planes.indices.filter { masks.planes[$0] == 1 }
            let rows = set.map { $0 / 1024 }, columns = set.map { $0 % 1024 }
            #expect([rows.min(), rows.max(), columns.min(), columns.max()] == [example.minRow, example.maxRow, example.minColumn, example.maxColumn], "\(id)")
        }
    }

    @Test func theDescriptionReportsPositiveImagesAndPixels() throws {
        let section = try DatasetDescription.maskSection(of: manifest, threads: 2)
        #expect(section.rows[0].name == "Pneumothorax")
        #expect(section.rows[0].values == [.count(reference.positiveImages), .count(reference.maskPixels)])
    }
}
