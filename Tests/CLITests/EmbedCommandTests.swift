import Foundation
import Tensor
import Testing
import TestSupport

/// `xrbench embed` end to end through the built binary: parity with transformers on the
/// Models fixtures, and one clear one-line error (never a crash) for each kind of bad input.
@Suite struct EmbedCommandTests {
    /// The transformers fixtures written by scripts/fixtures/dinov2.py.
    static let modelFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ModelsTests/Fixtures")
    /// The image fixtures written by scripts/fixtures/imaging.py.
    static let imageFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ImagingTests/Fixtures")

    @Test(arguments: ["dinov2_native", "dinov2_interpolated", "dinov2_registers", "original_layout"])
    func preprocessedTensorMatchesTransformers(fixture: String) throws {
        let folder = try makeTemporaryDirectory()
        let model = Self.modelFixtures.appendingPathComponent(fixture)
        let expected = try loadSafetensors(at: model.appendingPathComponent("expected.safetensors"))
        let pixels = try #require(expected["pixel_values"])
        try saveNumPy(pixels, to: folder.appendingPathComponent("pixels.npy"))

        let all = try CLI.run(["embed", "--model", model.path, "--tensor", "pixels.npy", "--tokens", "all",
                               "--batch", "1", "--out", "all.npy"], in: folder)
        #expect(all.status == 0, "\(all.errorOutput)")
        let tokens = try loadNumPy(at: folder.appendingPathComponent("all.npy"))
        let reference = try #require(expected["last_hidden_state"])
        #expect(tokens.shape == reference.shape)
        expectClose(tokens.scalars, reference.scalars, tolerance: 1e-4, "\(fixture) tokens")

        let cls = try CLI.run(["embed", "--model", model.path, "--tensor", "pixels.npy", "--out", "cls.npy"], in: folder)
        #expect(cls.status == 0, "\(cls.errorOutput)")
        let classTokens = try loadNumPy(at: folder.appendingPathComponent("cls.npy"))
        #expect(classTokens.shape == [reference.shape[0], reference.shape[2]])
        expectClose(classTokens.scalars, reference.sliced(axis: 1, range: 0..<1).scalars, tolerance: 1e-4, "\(fixture) CLS")

        if let patchMean = expected["patch_mean"] {
            let mean = try CLI.run(["embed", "--model", model.path, "--tensor", "pixels.npy", "--tokens", "mean",
                                    "--out", "mean.npy"], in: folder)
            #expect(mean.status == 0, "\(mean.errorOutput)")
            expectClose(try loadNumPy(at: folder.appendingPathComponent("mean.npy")).scalars, patchMean.scalars,
                        tolerance: 1e-4, "\(fixture) mean-pooled patch tokens")
        }
    }

    @Test func imagesFolderGivesOneRowPerImageInSortedOrder() throws {
        let folder = try makeTemporaryDirectory()
        let images = folder.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        for name in ["grey16_40x31.png", "grey8_23x17.png", "baseline_rgb_32x24.jpg"] {
            try FileManager.default.copyItem(at: Self.imageFixtures.appendingPathComponent("images/\(name)"),
                                             to: images.appendingPathComponent(name))
        }
        let model = Self.modelFixtures.appendingPathComponent("dinov2_native")
        let result = try CLI.run(["embed", "--model", model.path, "--images", "images", "--resolution", "16",
                                  "--tokens", "patch", "--batch", "2", "--out", "patch.npy"], in: folder)
        #expect(result.status == 0, "\(result.errorOutput)")
        #expect(try loadNumPy(at: folder.appendingPathComponent("patch.npy")).shape == [3, 16, 32])
        let paths = try String(contentsOf: folder.appendingPathComponent("patch.paths.txt"), encoding: .utf8)
            .split(separator: "\n").map { URL(fileURLWithPath: String($0)).lastPathComponent }
        #expect(paths == ["baseline_rgb_32x24.jpg", "grey16_40x31.png", "grey8_23x17.png"])
    }

    /// Runs `embed` expecting failure: exit ≠ 0, no crash, one line naming `mentioning`.
    private func expectOneLineError(_ arguments: [String], in folder: URL, mentioning: String,
                                    sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try CLI.run(["embed"] + arguments, in: folder)
        #expect(result.status != 0, sourceLocation: sourceLocation)
        #expect(!result.crashed, sourceLocation: sourceLocation)
        let lines = result.errorOutput.split(separator: "\n")
        #expect(lines.count == 1, "expected one line, got: \(result.errorOutput)", sourceLocation: sourceLocation)
        #expect(result.errorOutput.contains(mentioning), "\(result.errorOutput) does not name \(mentioning)",
                sourceLocation: sourceLocation)
    }

    /// A writable copy of the native fixture model.
    private func modelCopy(in folder: URL) throws -> URL {
        let copy = folder.appendingPathComponent("model")
        try FileManager.default.copyItem(at: Self.modelFixtures.appendingPathComponent("dinov2_native"), to: copy)
        return copy
    }

    @Test func badModelFoldersAreOneLineErrors() throws {
        let folder = try makeTemporaryDirectory()
        let image = Self.imageFixtures.appendingPathComponent("images/grey8_23x17.png").path
        let common = ["--images", image, "--resolution", "16", "--out", "out.npy"]

        try expectOneLineError(["--model", "no-such-model"] + common, in: folder, mentioning: "no-such-model")

        let noConfig = try modelCopy(in: folder)
        try FileManager.default.removeItem(at: noConfig.appendingPathComponent("config.json"))
        try expectOneLineError(["--model", noConfig.path] + common, in: folder, mentioning: "config.json")
        try FileManager.default.removeItem(at: noConfig)

        let badConfig = try modelCopy(in: folder)
        try Data("{ \"hidden_size\": ".utf8).write(to: badConfig.appendingPathComponent("config.json"))
        try expectOneLineError(["--model", badConfig.path] + common, in: folder, mentioning: "config.json")
        try FileManager.default.removeItem(at: badConfig)
    }

    @Test func badWeightFilesAreOneLineErrors() throws {
        let folder = try makeTemporaryDirectory()
        let image = Self.imageFixtures.appendingPathComponent("images/grey8_23x17.png").path
        let common = ["--images", image, "--resolution", "16", "--out", "out.npy"]
        let original = try loadSafetensors(at: Self.modelFixtures.appendingPathComponent("dinov2_native/model.safetensors"))
        let someName = try #require(original.keys.sorted().first { $0.contains("layer.0.") && $0.hasSuffix("weight") })

        func withWeights(_ edit: (inout [String: Tensor]) -> Void) throws -> URL {
            let model = try modelCopy(in: folder)
            var tensors = original
            edit(&tensors)
            try saveSafetensors(tensors, to: model.appendingPathComponent("model.safetensors"))
            return model
        }
        var model = try withWeights { $0[someName] = nil }
        try expectOneLineError(["--model", model.path] + common, in: folder, mentioning: someName)
        try FileManager.default.removeItem(at: model)

        model = try withWeights { $0["unexpected.extra.weight"] = Tensor(zeros: [2]) }
        try expectOneLineError(["--model", model.path] + common, in: folder, mentioning: "unexpected.extra.weight")
        try FileManager.default.removeItem(at: model)

        model = try withWeights { $0[someName] = Tensor(zeros: [3, 5]) }
        try expectOneLineError(["--model", model.path] + common, in: folder, mentioning: someName)
        try FileManager.default.removeItem(at: model)

        // A truncated file, and a header length that points beyond the end of the file.
        model = try modelCopy(in: folder)
        let weights = model.appendingPathComponent("model.safetensors")
        let bytes = try Data(contentsOf: weights)
        try bytes.prefix(bytes.count - 100).write(to: weights)
        try expectOneLineError(["--model", model.path] + common, in: folder, mentioning: "model.safetensors")
        var header = bytes
        header.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(bytes.count * 4).littleEndian) { Data($0) })
        try header.write(to: weights)
        try expectOneLineError(["--model", model.path] + common, in: folder, mentioning: "model.safetensors")
    }

    @Test(arguments: ["bad/corrupt_idat.png", "bad/truncated.jpg", "bad/not_an_image.png", "bad/truncated.png"])
    func badImagesAreOneLineErrors(image: String) throws {
        let folder = try makeTemporaryDirectory()
        let model = Self.modelFixtures.appendingPathComponent("dinov2_native").path
        let path = Self.imageFixtures.appendingPathComponent(image).path
        try expectOneLineError(["--model", model, "--images", path, "--resolution", "16", "--out", "out.npy"],
                               in: folder, mentioning: URL(fileURLWithPath: image).lastPathComponent)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out.npy").path))
    }

    @Test func listNamingAMissingFileIsAOneLineError() throws {
        let folder = try makeTemporaryDirectory()
        try FileManager.default.copyItem(at: Self.imageFixtures.appendingPathComponent("images/grey8_23x17.png"),
                                         to: folder.appendingPathComponent("a.png"))
        try Data("a.png\n# a comment\nmissing.png\n".utf8).write(to: folder.appendingPathComponent("list.txt"))
        let model = Self.modelFixtures.appendingPathComponent("dinov2_native").path
        try expectOneLineError(["--model", model, "--list", "list.txt", "--resolution", "16", "--out", "out.npy"],
                               in: folder, mentioning: "list.txt:3: missing.png")
    }

    @Test func helpShowsAnExample() throws {
        let result = try CLI.run(["embed", "--help"], in: try makeTemporaryDirectory())
        #expect(result.status == 0)
        #expect(result.output.contains("Examples:"))
        #expect(result.output.contains("  xrbench embed --model"))
    }
}
