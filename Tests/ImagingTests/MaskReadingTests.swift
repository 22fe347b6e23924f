import Foundation
import Imaging
import Testing
import TestSupport

/// Masks are resampled as `torch.nn.functional.interpolate(mode="nearest")` does it, and read
/// from PNGs with their stored values (`scripts/fixtures/masks.py` writes the torch reference).
@Suite struct NearestResamplingTests {
    struct Reference: Decodable {
        struct Case: Decodable {
            let input: Int
            let output: Int
            let indices: [Int]
        }

        struct Plane: Decodable {
            let height: Int, width: Int, outputHeight: Int, outputWidth: Int
            let plane: [UInt8]
            let resampled: [UInt8]
        }

        let cases: [Case]
        let planes: [Plane]
    }

    let reference: Reference

    init() throws {
        reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: fixturesDirectory().appendingPathComponent("nearest.json")))
    }

    @Test func sourceIndicesEqualTorchForEverySizePair() {
        #expect(reference.cases.count > 400)
        for item in reference.cases {
            let indices = NearestResampling.sourceIndices(inputSize: item.input, outputSize: item.output)
            #expect(indices == item.indices, "\(item.input) → \(item.output)")
        }
    }

    @Test func planesEqualTorchDownAndUp() {
        for item in reference.planes {
            let resampled = NearestResampling.resample(item.plane, height: item.height, width: item.width,
                                                       outputHeight: item.outputHeight, outputWidth: item.outputWidth)
            #expect(resampled == item.resampled, "\(item.height)x\(item.width) → \(item.outputHeight)x\(item.outputWidth)")
        }
    }
}

@Suite struct MaskDecodingTests {
    let expected: FixtureTensors

    init() throws {
        expected = try FixtureTensors(contentsOf: fixturesDirectory().appendingPathComponent("decoded.safetensors"))
    }

    @Test func lowBitDepthGreyKeepsItsStoredValues() throws {
        // Decoding for display scales 1- and 4-bit values to 8 bits (×255, ×17); a label map must not.
        for (file, depth, scale) in [("grey1_9x7.png", 1, 255), ("grey4_11x6.png", 4, 17)] {
            let raster = try decodeMaskRaster(at: Fixtures.image(file))
            let display = try #require(expected.samples(file))
            #expect(raster.storedBitDepth == depth && !raster.isColour)
            #expect(raster.values == display.map { $0 / UInt16(scale) }, "\(file)")
            #expect(raster.values.contains(UInt16((1 << depth) - 1)))
        }
    }

    @Test func eightAndSixteenBitGreyAreUnchanged() throws {
        for file in ["grey8_23x17.png", "grey16_40x31.png", "grey_alpha8_12x10.png"] {
            let raster = try decodeMaskRaster(at: Fixtures.image(file))
            #expect(raster.values == expected.samples(file), "\(file)")
            #expect(!raster.isColour)
        }
    }

    @Test func colourFilesAreMarkedAndKeepTheirLargestChannel() throws {
        for file in ["rgb8_30x45.png", "palette4_19x14.png"] {
            let raster = try decodeMaskRaster(at: Fixtures.image(file))
            let samples = try #require(expected.samples(file))
            #expect(raster.isColour)
            #expect(raster.values == (0..<(raster.width * raster.height)).map { max(samples[3 * $0], samples[3 * $0 + 1], samples[3 * $0 + 2]) })
        }
    }

    @Test func jpegMasksAreRefusedNamingTheFile() {
        let url = Fixtures.image("baseline_grey_27x19.jpg")
        #expect {
            _ = try decodeMaskRaster(at: url)
        } throws: { error in
            guard case ImageError.unrecognisedFormat(let path, let bytes) = error else { return false }
            return path == url.path && bytes.contains("PNG mask")
        }
    }

    @Test func brokenMaskFilesThrowTypedErrors() {
        for file in ["truncated.png", "bad_crc.png", "empty.png", "not_an_image.png", "zero_width.png"] {
            #expect(throws: ImageError.self, "\(file)") { _ = try decodeMaskRaster(at: Fixtures.bad(file)) }
        }
        #expect(throws: ImageError.fileNotFound(path: "/no/such/mask.png")) {
            _ = try decodeMaskRaster(at: URL(fileURLWithPath: "/no/such/mask.png"))
        }
    }

    @Test func dimensionsComeFromTheHeaderOfPNGAndJPEG() throws {
        #expect(try imageDimensions(at: Fixtures.image("grey16_40x31.png")) == (40, 31))
        #expect(try imageDimensions(at: Fixtures.image("rgb8_30x45.png")) == (30, 45))
        #expect(try imageDimensions(at: Fixtures.image("progressive_rgb_32x24.jpg")) == (32, 24))
        #expect(try imageDimensions(at: Fixtures.image("baseline_grey_27x19.jpg")) == (27, 19))
        #expect(throws: ImageError.self) { _ = try imageDimensions(at: Fixtures.bad("not_an_image.png")) }
        #expect(throws: ImageError.self) { _ = try imageDimensions(at: Fixtures.bad("huge_dimensions.png")) }
    }
}
