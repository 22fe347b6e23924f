import Foundation
import Tensor
import Testing
import TestSupport
@testable import Models

/// Randomly initialised models: deterministic per seed, savable and loadable again.
struct RandomModelTests {
    static let tiny = ViTConfiguration(hiddenSize: 24, layerCount: 2, headCount: 3, mlpRatio: 2, patchSize: 4,
                                       imageSize: 12, registerCount: 2, layerScaleValue: 0.5)

    func pixels(_ shape: [Int]) -> Tensor {
        let count = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: (0..<count).map { Float(($0 * 7919) % 101) / 50 - 1 })
    }

    @Test func sameSeedSameWeightsOtherSeedOtherWeights() throws {
        let first = VisionTransformer(randomlyInitialized: Self.tiny, seed: 42)
        let second = VisionTransformer(randomlyInitialized: Self.tiny, seed: 42)
        let other = VisionTransformer(randomlyInitialized: Self.tiny, seed: 43)
        let names = first.namedParameters().map(\.name)
        #expect(names == second.namedParameters().map(\.name))
        #expect(first.namedParameters().map(\.tensor.scalars) == second.namedParameters().map(\.tensor.scalars))
        let qkv = "blocks.0.attn.qkv.weight"
        let weightsFirst = try #require(first.namedParameters().first { $0.name == qkv }).tensor.scalars
        let weightsOther = try #require(other.namedParameters().first { $0.name == qkv }).tensor.scalars
        #expect(weightsFirst != weightsOther)
        // Standard deviation 0.02, as transformers initialises linear layers.
        let deviation = (weightsFirst.map { $0 * $0 }.reduce(0, +) / Float(weightsFirst.count)).squareRoot()
        #expect(abs(deviation - 0.02) < 0.003)
        let output = try first.forward(pixels([2, 3, 12, 16]))
        #expect(output.tokens.shape == [2, 1 + 2 + 12, 24])
        #expect(output.tokens.scalars.allSatisfy { $0.isFinite })
    }

    @Test func savedFolderLoadsAndGivesTheSameOutputs() throws {
        let model = VisionTransformer(randomlyInitialized: Self.tiny, seed: 7)
        let folder = try makeTemporaryDirectory().appendingPathComponent("vit-tiny-random")
        try model.save(to: folder)
        let loaded = try VisionTransformer(contentsOf: folder)
        #expect(loaded.weightLayout == .original)
        #expect(loaded.configuration == Self.tiny)
        let input = pixels([1, 3, 20, 8])
        let expected = try model.forward(input).tokens.scalars
        let reloaded = try loaded.forward(input).tokens.scalars
        #expect(reloaded == expected)
    }

    @Test func largeBatchesRunInGroupsWithTheSameResults() throws {
        // 17 images of 1 + 2 + 256 tokens: groups of 8 images (>= 2048 tokens), the last one short.
        let model = VisionTransformer(randomlyInitialized: ViTConfiguration(hiddenSize: 8, layerCount: 1, headCount: 2,
                                                                            patchSize: 2, imageSize: 8, registerCount: 2),
                                      seed: 5)
        let batch = pixels([17, 3, 32, 32])
        let together = try model.forward(batch).tokens.scalars
        let perImage = 3 * 32 * 32
        let tokensPerImage = together.count / 17
        #expect(tokensPerImage == (1 + 2 + 256) * 8)
        for image in [0, 7, 8, 16] {
            let single = Tensor(shape: [1, 3, 32, 32], scalars: Array(batch.scalars[(image * perImage)..<((image + 1) * perImage)]))
            let alone = try model.forward(single).tokens.scalars
            expectClose(alone, Array(together[(image * tokensPerImage)..<((image + 1) * tokensPerImage)]),
                        tolerance: 1e-5, "image \(image)")
        }
    }

    @Test func batchedImagesMatchSingleImages() throws {
        let model = VisionTransformer(randomlyInitialized: Self.tiny, seed: 3)
        let batch = pixels([3, 3, 16, 16])
        let together = try model.forward(batch).tokens.scalars
        let perImage = 3 * 16 * 16
        let tokensPerImage = together.count / 3
        for image in 0..<3 {
            let single = Tensor(shape: [1, 3, 16, 16], scalars: Array(batch.scalars[(image * perImage)..<((image + 1) * perImage)]))
            let alone = try model.forward(single).tokens.scalars
            expectClose(alone, Array(together[(image * tokensPerImage)..<((image + 1) * tokensPerImage)]),
                        tolerance: 1e-5, "image \(image)")
        }
    }
}
