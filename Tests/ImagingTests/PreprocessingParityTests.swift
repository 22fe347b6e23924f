import Foundation
import Imaging
import Testing
import TestSupport

/// Parity with torch: pad -> scale -> 3 channels -> F.interpolate(bilinear, antialias) -> normalise,
/// produced by scripts/fixtures/imaging.py.
@Suite struct PreprocessingParityTests {
    struct Case: Decodable, CustomTestStringConvertible, Sendable {
        let name: String
        let image: String
        let size: Int
        let antialias: Bool
        let mean: [Float]
        let std: [Float]
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        let url = fixturesDirectory().appendingPathComponent("preprocessing.json")
        guard let data = try? Data(contentsOf: url), let cases = try? JSONDecoder().decode([Case].self, from: data) else {
            return []
        }
        return cases
    }()

    @Test func fixtureCasesArePresent() {
        #expect(Self.cases.count >= 10, "preprocessing.json is missing or incomplete")
    }

    @Test(arguments: cases)
    func matchesTorch(_ testCase: Case) throws {
        let reference = try FixtureTensors(contentsOf: fixturesDirectory().appendingPathComponent("preprocessing.safetensors"))
        let expected = try #require(reference.floats(testCase.name))
        let image = try decodeImage(at: Fixtures.image(testCase.image))
        let preprocessing = Preprocessing(size: testCase.size, resize: testCase.antialias ? .bilinearAntialiased : .bilinear,
                                          mean: testCase.mean, std: testCase.std)
        let output = preprocessing.apply(to: image)
        #expect(output.shape == [3, testCase.size, testCase.size])
        expectClose(output.values, expected, tolerance: 1e-5, testCase.name)
    }

    /// Enlarging: antialiasing has no effect in torch (the fixture script checks it there too).
    @Test func antialiasingChangesNothingWhenEnlarging() throws {
        let image = try decodeImage(at: Fixtures.image("grey8_23x17.png"))
        let antialiased = Preprocessing(size: 41).apply(to: image)
        let plain = Preprocessing(size: 41, resize: .bilinear).apply(to: image)
        expectClose(antialiased.values, plain.values, tolerance: 2e-6, "antialiased vs plain upsampling")
    }

    @Test func paddingPutsTheOddPixelBottomRight() {
        // 2 x 5 image of ones, no resize, no normalisation: rows 0 and 3, 4 are padding.
        let image = DecodedImage(width: 2, height: 5, channels: 1, bitDepth: 8, samples: Array(repeating: 255, count: 10))
        let output = Preprocessing(size: nil, mean: nil, std: nil).apply(to: image)
        #expect(output.shape == [3, 5, 5])
        let firstRow = Array(output.values[0..<5])
        #expect(firstRow == [0, 1, 1, 0, 0] as [Float], "left pad 1, right pad 2")
    }

    @Test func stepsCanBeSwitchedOff() {
        let image = DecodedImage(width: 3, height: 2, channels: 1, bitDepth: 16, samples: [0, 1, 2, 3, 4, 65535])
        let raw = Preprocessing(padToSquare: false, scaleToUnitInterval: false, replicateGreyToThreeChannels: false,
                                size: nil, mean: nil, std: nil).apply(to: image)
        #expect(raw.shape == [1, 2, 3])
        #expect(raw.values == [0, 1, 2, 3, 4, 65535])
    }
}

@Suite struct PreprocessingConfigurationTests {
    @Test func emptyObjectDecodesToThePaperDefaults() throws {
        let decoded = try JSONDecoder().decode(Preprocessing.self, from: Data("{}".utf8))
        #expect(decoded == Preprocessing.paperDefault)
        #expect(decoded.size == 518 && decoded.resize == .bilinearAntialiased && decoded.mean == Preprocessing.imageNetMean)
    }

    @Test func partialObjectsKeepOtherDefaults() throws {
        let json = #"{"size": 224, "resize": "bilinear", "mean": [0.5], "std": [0.25]}"#
        let decoded = try JSONDecoder().decode(Preprocessing.self, from: Data(json.utf8))
        #expect(decoded == Preprocessing(size: 224, resize: .bilinear, mean: [0.5], std: [0.25]))
        let noResize = try JSONDecoder().decode(Preprocessing.self, from: Data(#"{"size": null}"#.utf8))
        #expect(noResize.size == nil)
    }

    @Test func roundTripsThroughJSON() throws {
        let original = Preprocessing(padToSquare: false, size: 64, mean: nil, std: nil)
        let decoded = try JSONDecoder().decode(Preprocessing.self, from: try JSONEncoder().encode(original))
        #expect(decoded == original)
    }

    @Test(arguments: [#"{"size": 0}"#, #"{"mean": [0.5, 0.5]}"#, #"{"mean": [0.1, 0.2], "std": [1, 1]}"#,
                      #"{"mean": [0.1], "std": [0]}"#, #"{"resize": "bicubic"}"#,
                      #"{"replicateGreyToThreeChannels": false}"#])
    func invalidConfigurationsThrow(json: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Preprocessing.self, from: Data(json.utf8)) }
    }

    private func modelFolder(config: String?) throws -> URL {
        let folder = try makeTemporaryDirectory()
        if let config {
            try Data(config.utf8).write(to: folder.appendingPathComponent("preprocessor_config.json"))
        }
        return folder
    }

    @Test func meanAndStdFromModelFolder() throws {
        let folder = try modelFolder(config: #"{"image_mean": [0.5307, 0.5307, 0.5307], "image_std": [0.2583, 0.2583, 0.2583], "size": {"shortest_edge": 518}}"#)
        let loaded = try Preprocessing.paperDefault.loadingMeanStd(fromModelFolder: folder)
        #expect(loaded.mean == [0.5307, 0.5307, 0.5307] && loaded.std == [0.2583, 0.2583, 0.2583])
        #expect(loaded.size == 518, "resizing is not taken from the model folder")

        let off = try Preprocessing.paperDefault.loadingMeanStd(fromModelFolder: try modelFolder(config: #"{"do_normalize": false}"#))
        #expect(off.mean == nil && off.std == nil)
    }

    @Test func badModelFoldersGiveTypedErrors() throws {
        let missing = try modelFolder(config: nil)
        #expect(throws: PreprocessorConfigError.self) { try Preprocessing.paperDefault.loadingMeanStd(fromModelFolder: missing) }
        for (config, key) in [(#"{"image_std": [1, 1, 1]}"#, "image_mean"),
                              (#"{"image_mean": [0.5, 0.5, 0.5], "image_std": [0.2, 0, 0.2]}"#, "image_std"),
                              (#"{"image_mean": [0.5, 0.5], "image_std": [0.2, 0.2]}"#, "image_mean"),
                              (#"{"image_mean": ["a"], "image_std": [0.2]}"#, "image_mean")] {
            let folder = try modelFolder(config: config)
            do {
                _ = try Preprocessing.paperDefault.loadingMeanStd(fromModelFolder: folder)
                Issue.record("\(config) should be rejected")
            } catch let error as PreprocessorConfigError {
                #expect(error.description.contains(key) && error.description.contains("preprocessor_config.json"), "\(error)")
            }
        }
        let notJSON = try modelFolder(config: "not json")
        #expect(throws: PreprocessorConfigError.self) { try Preprocessing.paperDefault.loadingMeanStd(fromModelFolder: notJSON) }
    }
}

@Suite struct PreprocessingBatchTests {
    @Test func concurrentBatchEqualsSequentialInOrder() async throws {
        let names = ["grey16_40x31.png", "rgb8_30x45.png", "baseline_grey_27x19.jpg", "palette4_19x14.png", "grey8_23x17.png"]
        let urls = names.map(Fixtures.image)
        let preprocessing = Preprocessing(size: 32)
        let batch = try await preprocessing.apply(toImagesAt: urls, maximumConcurrency: 2)
        let sequential = try urls.map { preprocessing.apply(to: try decodeImage(at: $0)) }
        #expect(batch == sequential)
    }

    @Test func batchThrowsTheFirstBadImage() async {
        let urls = [Fixtures.image("grey8_23x17.png"), Fixtures.bad("truncated.png")]
        await #expect(throws: ImageError.self) { _ = try await Preprocessing(size: 16).apply(toImagesAt: urls) }
    }
}
