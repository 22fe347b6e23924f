import Foundation
import Imaging
import Random
import Testing
import TestSupport

@Suite struct BadInputTests {
    private func error(decoding url: URL, maximumPixelCount: Int = defaultMaximumPixelCount) -> ImageError? {
        do {
            _ = try decodeImage(at: url, maximumPixelCount: maximumPixelCount)
            return nil
        } catch let error as ImageError {
            return error
        } catch {
            Issue.record("\(url.lastPathComponent): untyped error \(error)")
            return nil
        }
    }

    @Test func missingFile() {
        let url = Fixtures.images.appendingPathComponent("no-such-image.png")
        #expect(error(decoding: url) == .fileNotFound(path: url.path))
    }

    @Test func directoryIsUnreadable() {
        guard case .unreadable(let path, _)? = error(decoding: Fixtures.images) else {
            Issue.record("a directory should be unreadable")
            return
        }
        #expect(path == Fixtures.images.path)
    }

    @Test func zeroByteFile() {
        #expect(error(decoding: Fixtures.bad("empty.png")) == .emptyFile(path: Fixtures.bad("empty.png").path))
    }

    @Test func textFileNamedPNG() {
        guard case .unrecognisedFormat(_, let leadingBytes)? = error(decoding: Fixtures.bad("not_an_image.png")) else {
            Issue.record("a text file should be rejected as not an image")
            return
        }
        #expect(leadingBytes.contains("This is "))
    }

    @Test(arguments: ["bad_crc.png", "flipped_idat_byte.png", "corrupt_idat.png", "truncated.png", "zero_width.png"])
    func corruptPNG(file: String) {
        guard case .corruptPNG(let path, let reason)? = error(decoding: Fixtures.bad(file)) else {
            Issue.record("\(file) should be reported as a corrupt PNG")
            return
        }
        #expect(path.hasSuffix(file) && !reason.isEmpty)
    }

    @Test(arguments: ["truncated.jpg", "truncated_progressive.jpg"])
    func truncatedJPEG(file: String) {
        guard case .corruptJPEG(let path, _)? = error(decoding: Fixtures.bad(file)) else {
            Issue.record("\(file) should be reported as a corrupt JPEG")
            return
        }
        #expect(path.hasSuffix(file))
    }

    @Test func cmykJPEGIsUnsupported() {
        guard case .corruptJPEG(_, let reason)? = error(decoding: Fixtures.bad("cmyk_16x12.jpg")) else {
            Issue.record("a CMYK JPEG should be rejected with a JPEG error")
            return
        }
        #expect(reason.contains("Unsupported color conversion"))
    }

    @Test func absurdDimensionsAreRejectedBeforeAllocation() {
        let url = Fixtures.bad("huge_dimensions.png")
        #expect(error(decoding: url) == .dimensionsTooLarge(path: url.path, width: 100_000, height: 100_000,
                                                            limit: defaultMaximumPixelCount))
    }

    @Test func configurablePixelLimit() {
        let png = Fixtures.image("grey16_40x31.png")
        #expect(error(decoding: png, maximumPixelCount: 1000) == .dimensionsTooLarge(path: png.path, width: 40, height: 31, limit: 1000))
        let jpeg = Fixtures.image("baseline_rgb_32x24.jpg")
        #expect(error(decoding: jpeg, maximumPixelCount: 100) == .dimensionsTooLarge(path: jpeg.path, width: 32, height: 24, limit: 100))
        #expect(error(decoding: png, maximumPixelCount: 40 * 31) == nil)
    }

    @Test func messagesNameTheFileAndTheRemedy() {
        let url = Fixtures.bad("truncated.png")
        let message = error(decoding: url)?.description ?? ""
        #expect(message.contains(url.path))
        #expect(message.contains("Re-copy"))
    }

    /// Every strict prefix of a valid file must fail with a typed error, never crash or pass.
    @Test(arguments: ["grey16_40x31.png", "grey8_interlaced_15x11.png", "baseline_rgb_32x24.jpg", "progressive_grey_27x19.jpg"])
    func everyTruncationIsAnError(file: String) throws {
        let data = try Data(contentsOf: Fixtures.image(file))
        for length in Swift.stride(from: 1, to: data.count, by: 7) + [data.count - 1] {
            do {
                _ = try decodeImage(data: data.prefix(length), path: "\(file)[..<\(length)]")
                Issue.record("\(file) truncated to \(length) of \(data.count) bytes decoded without error")
            } catch is ImageError {
            } catch {
                Issue.record("\(file) truncated to \(length): untyped error \(error)")
            }
        }
    }

    /// Random byte corruption (seeded) either decodes or throws an ImageError: never a crash.
    @Test(arguments: ["grey16_40x31.png", "palette4_19x14.png", "progressive_rgb_32x24.jpg"])
    func randomCorruptionNeverCrashes(file: String) throws {
        let original = try Data(contentsOf: Fixtures.image(file))
        var generator = SplitMix64(seed: 0x5EED)
        var rejected = 0
        for trial in 0..<150 {
            var data = original
            for _ in 0..<3 {
                let index = 8 + Int(generator.next() % UInt64(data.count - 8))
                data[index] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            }
            do {
                _ = try decodeImage(data: data, path: "\(file) corruption \(trial)")
            } catch is ImageError {
                rejected += 1
            }
        }
        #expect(rejected > 0, "\(file): no corruption was ever detected")
    }
}
