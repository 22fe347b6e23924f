import Foundation
import Imaging
import Testing
import TestSupport

@Suite struct DecodingTests {
    let expected: FixtureTensors

    init() throws {
        expected = try FixtureTensors(contentsOf: fixturesDirectory().appendingPathComponent("decoded.safetensors"))
    }

    /// (file, channels, bit depth, had alpha) for every PNG fixture whose samples are recorded.
    static let pngCases: [(String, Int, Int, Bool)] = [
        ("grey8_23x17.png", 1, 8, false),
        ("grey16_40x31.png", 1, 16, false),
        ("grey16_gamma_13x9.png", 1, 16, false),
        ("grey16_srgb_13x9.png", 1, 16, false),
        ("grey_alpha8_12x10.png", 1, 8, true),
        ("rgb8_30x45.png", 3, 8, false),
        ("rgba16_7x5.png", 3, 16, true),
        ("palette4_19x14.png", 3, 8, true),
        ("grey1_9x7.png", 1, 8, false),
        ("grey4_11x6.png", 1, 8, false),
        ("grey8_interlaced_15x11.png", 1, 8, false),
    ]

    @Test(arguments: pngCases)
    func pngSamplesAreExact(file: String, channels: Int, bitDepth: Int, hadAlpha: Bool) throws {
        let image = try decodeImage(at: Fixtures.image(file))
        let reference = try #require(expected.entries[file])
        #expect(image.height == reference.shape[0] && image.width == reference.shape[1])
        #expect(image.channels == channels && reference.shape[2] == channels)
        #expect(image.bitDepth == bitDepth)
        #expect(image.hadAlpha == hadAlpha)
        #expect(image.samples == expected.samples(file), "\(file): decoded samples differ from the written ones")
    }

    @Test func sixteenBitSamplesIgnoreGammaAndSRGBChunks() throws {
        for file in ["grey16_gamma_13x9.png", "grey16_srgb_13x9.png"] {
            let data = try Data(contentsOf: Fixtures.image(file))
            #expect(data.range(of: Data("gAMA".utf8)) != nil, "\(file) should carry a gAMA chunk")
            let image = try decodeImage(at: Fixtures.image(file))
            #expect(image.samples == expected.samples(file))
            #expect(image.samples.contains { $0 & 0xFF != 0 }, "low bytes must survive (no 8-bit reduction)")
        }
    }

    @Test(arguments: ["baseline_rgb_32x24.jpg", "progressive_rgb_32x24.jpg",
                      "baseline_grey_27x19.jpg", "progressive_grey_27x19.jpg"])
    func jpegMatchesPillow(file: String) throws {
        let image = try decodeImage(at: Fixtures.image(file))
        let reference = try #require(expected.entries[file])
        #expect([image.height, image.width, image.channels] == reference.shape)
        #expect(image.bitDepth == 8)
        let pillow = try #require(expected.samples(file))
        let worst = zip(image.samples, pillow).map { abs(Int($0) - Int($1)) }.max() ?? 0
        // Both are libjpeg-turbo with the accurate integer IDCT and fancy upsampling.
        #expect(worst <= 1, "\(file): max |TurboJPEG - Pillow| = \(worst)")
    }

    @Test func formatComesFromMagicBytesNotExtension() throws {
        let image = try decodeImage(at: Fixtures.image("jpeg_named_as.png"))
        let jpeg = try decodeImage(at: Fixtures.image("baseline_rgb_32x24.jpg"))
        #expect(image == jpeg)
        #expect(ImageFormat.detect(leadingBytes: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) == .png)
        #expect(ImageFormat.detect(leadingBytes: [0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(ImageFormat.detect(leadingBytes: Array("GIF89a".utf8)) == nil)
    }
}

@Suite struct EncodingTests {
    @Test func sixteenBitGreyRoundTripsWithGamma() throws {
        let original = try decodeImage(at: Fixtures.image("grey16_gamma_13x9.png"))
        let folder = try makeTemporaryDirectory()
        let url = folder.appendingPathComponent("round-trip.png")
        try original.writePNG(to: url, gamma: 1 / 2.2)
        let data = try Data(contentsOf: url)
        let gammaChunk = try #require(data.range(of: Data("gAMA".utf8)))
        let stored = data[gammaChunk.upperBound..<(gammaChunk.upperBound + 4)].reduce(0) { $0 << 8 | Int($1) }
        #expect(stored == 45455, "gAMA holds gamma * 100000")
        let reread = try decodeImage(at: url)
        #expect(reread == original)
    }

    @Test func eightBitGreyAndRGBRoundTrip() throws {
        for file in ["grey8_23x17.png", "rgb8_30x45.png", "rgba16_7x5.png"] {
            let original = try decodeImage(at: Fixtures.image(file))
            let data = try original.pngData()
            #expect(data.range(of: Data("gAMA".utf8)) == nil)
            let reread = try decodeImage(data: data, path: "\(file) re-encoded")
            #expect(reread.samples == original.samples && reread.channels == original.channels
                    && reread.bitDepth == original.bitDepth, "\(file) did not survive a round trip")
        }
    }

    @Test func extremeSixteenBitValuesRoundTrip() throws {
        let samples: [UInt16] = [0, 1, 255, 256, 32767, 32768, 65534, 65535]
        let image = DecodedImage(width: 4, height: 2, channels: 1, bitDepth: 16, samples: samples)
        let reread = try decodeImage(data: try image.pngData(gamma: 1.0), path: "extremes")
        #expect(reread.samples == samples)
    }
}
