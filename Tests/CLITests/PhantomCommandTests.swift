import Foundation
import Imaging
import Testing
import TestSupport

/// `xrbench phantom` through the built binary.
@Suite struct PhantomCommandTests {
    @Test func writesCountPNGsAndAManifestDeterministically() throws {
        let folder = try makeTemporaryDirectory()
        let first = try CLI.run(["phantom", "--out", "a", "--count", "5", "--seed", "11", "--size", "64"], in: folder)
        let second = try CLI.run(["phantom", "--out", "b", "--count", "5", "--seed", "11", "--size", "64"], in: folder)
        #expect(first.status == 0, "\(first.errorOutput)")
        #expect(second.status == 0, "\(second.errorOutput)")
        #expect(first.output.hasPrefix("wrote 5 images of "))

        let names = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("a/images").path).sorted()
        #expect(names.count == 5)
        #expect(names.allSatisfy { $0.hasSuffix(".png") })
        for name in names {
            let a = try Data(contentsOf: folder.appendingPathComponent("a/images/\(name)"))
            let b = try Data(contentsOf: folder.appendingPathComponent("b/images/\(name)"))
            #expect(a == b, "\(name) differs between two runs with one seed")
            let image = try decodeImage(data: a, path: name)
            #expect(image.width == 64 && image.height == 64 && image.channels == 1)
        }
        let manifestA = try String(contentsOf: folder.appendingPathComponent("a/manifest.csv"), encoding: .utf8)
        let manifestB = try String(contentsOf: folder.appendingPathComponent("b/manifest.csv"), encoding: .utf8)
        #expect(manifestA == manifestB)
        #expect(manifestA.split(whereSeparator: \.isNewline).count == 1 + 5)
    }

    @Test func anotherSeedDrawsOtherImages() throws {
        let folder = try makeTemporaryDirectory()
        _ = try CLI.run(["phantom", "--out", "a", "--count", "3", "--seed", "1", "--size", "48"], in: folder)
        _ = try CLI.run(["phantom", "--out", "b", "--count", "3", "--seed", "2", "--size", "48"], in: folder)
        let a = try String(contentsOf: folder.appendingPathComponent("a/manifest.csv"), encoding: .utf8)
        let b = try String(contentsOf: folder.appendingPathComponent("b/manifest.csv"), encoding: .utf8)
        #expect(a != b)
    }

    @Test func badOptionsAreUsageErrors() throws {
        let folder = try makeTemporaryDirectory()
        for (arguments, message) in [(["--count", "0", "--seed", "1"], "--count must be at least 1"),
                                     (["--count", "2", "--seed", "1", "--size", "8"], "--size must be from 32 to 4096"),
                                     (["--count", "2", "--seed", "1", "--subgroup-effect", "2"], "--subgroup-effect must be between 0 and 1")] {
            let result = try CLI.run(["phantom", "--out", "x"] + arguments, in: folder)
            #expect(result.status != 0)
            #expect(!result.crashed)
            #expect(result.errorOutput.contains(message), "\(result.errorOutput)")
        }
    }

    @Test func unwritableOutputIsAClearError() throws {
        let folder = try makeTemporaryDirectory()
        try Data("not a folder".utf8).write(to: folder.appendingPathComponent("file"))
        let result = try CLI.run(["phantom", "--out", "file/sub", "--count", "2", "--seed", "1"], in: folder)
        #expect(result.status != 0)
        #expect(!result.crashed)
        #expect(result.errorOutput.contains("file/sub"))
    }
}
