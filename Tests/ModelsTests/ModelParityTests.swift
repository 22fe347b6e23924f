import Foundation
import Tensor
import Testing
import TestSupport
@testable import Models

/// Parity with transformers on tiny random-weight models (scripts/fixtures/dinov2.py).
///
/// Outputs are LayerNorm-ed tokens of order 1–5; the reference ran in float64, so the
/// tolerance covers float32 accumulation over two blocks only.
struct ModelParityTests {
    static let cases = [
        "dinov2_native", "dinov2_interpolated", "dinov2_registers", "original_layout", "dinov2_swiglu", "dinov2_head64",
    ]
    static let tolerance: Float = 1e-4

    @Test(arguments: cases)
    func matchesTransformers(_ name: String) throws {
        let folder = fixturesDirectory().appendingPathComponent(name)
        let model = try VisionTransformer(contentsOf: folder)
        let expected = try loadSafetensors(at: folder.appendingPathComponent("expected.safetensors"))
        let pixels = try #require(expected["pixel_values"])
        let output = try model.forward(pixels)

        let hidden = try #require(expected["last_hidden_state"])
        #expect(output.tokens.shape == hidden.shape)
        expectClose(output.tokens.scalars, hidden.scalars, tolerance: Self.tolerance, "\(name) last_hidden_state")
        let pooler = try #require(expected["pooler_output"])
        #expect(output.classTokens.shape == pooler.shape)
        expectClose(output.classTokens.scalars, pooler.scalars, tolerance: Self.tolerance, "\(name) CLS")
        let patchMean = try #require(expected["patch_mean"])
        expectClose(output.meanPatchTokens.scalars, patchMean.scalars, tolerance: Self.tolerance, "\(name) patch mean")

        let positions = try #require(expected["position_embeddings"])
        let grid = output.patchGrid
        let resized = model.positionEmbeddings(gridHeight: grid.height, gridWidth: grid.width)
        expectClose(resized, positions.scalars, tolerance: 1e-5, "\(name) position embeddings")

        // Token bookkeeping: CLS, registers, patches partition the sequence.
        let registers = model.configuration.registerCount
        #expect(output.registerTokens.shape == [pixels.shape[0], registers, model.configuration.hiddenSize])
        #expect(output.patchTokens.shape[1] == grid.height * grid.width)
        #expect(output.tokens.shape[1] == 1 + registers + grid.height * grid.width)
    }

    @Test func originalScaleFactorResizing() throws {
        // interpolate_offset 0.1 reproduces facebookresearch/dinov2's scale-factor resizing,
        // which samples elsewhere than transformers' size-based one.
        let copy = try EditableModelFolder(copying: "dinov2_interpolated")
        try copy.editConfig { $0["interpolate_offset"] = 0.1 }
        let model = try VisionTransformer(contentsOf: copy.folder)
        #expect(model.configuration.positionInterpolationOffset == 0.1)
        let expected = try loadSafetensors(at: copy.folder.appendingPathComponent("expected.safetensors"))
        let reference = try #require(expected["position_embeddings_offset"]).scalars
        let resized = model.positionEmbeddings(gridHeight: 6, gridWidth: 9)
        expectClose(resized, reference, tolerance: 1e-5, "offset 0.1 position embeddings")
        let transformers = try #require(expected["position_embeddings"]).scalars
        #expect(maxAbsoluteDifference(resized, transformers) > 0.05)
    }

    @Test func detectsBothKeyLayouts() throws {
        let hub = try VisionTransformer(contentsOf: fixturesDirectory().appendingPathComponent("dinov2_registers"))
        let original = try VisionTransformer(contentsOf: fixturesDirectory().appendingPathComponent("original_layout"))
        #expect(hub.weightLayout == .transformers)
        #expect(original.weightLayout == .original)
        #expect(original.configuration.registerCount == 2)
        #expect(original.configuration.antialiasedPositionInterpolation)
        #expect(!ViTConfiguration.base().antialiasedPositionInterpolation)
    }

    @Test func readsConfigurationFields() throws {
        let folder = fixturesDirectory().appendingPathComponent("dinov2_interpolated")
        let configuration = try ViTConfiguration(contentsOf: folder.appendingPathComponent("config.json"))
        #expect(configuration.hiddenSize == 32)
        #expect(configuration.layerCount == 2)
        #expect(configuration.headCount == 2)
        #expect(configuration.patchSize == 6)
        #expect(configuration.nativeGridSide == 4)
        #expect(configuration.feedForwardWidth == 64)
        #expect(configuration.layerNormEpsilon == 1e-5)
        #expect(!configuration.usesSwiGLU)
        let swiGLU = try ViTConfiguration(contentsOf: fixturesDirectory().appendingPathComponent("dinov2_swiglu/config.json"))
        // int(32 * 4) = 128 -> int(128 * 2 / 3) = 85 -> rounded up to a multiple of 8.
        #expect(swiGLU.feedForwardWidth == 88)
    }

    @Test func standardSizesHaveTheirParameterCounts() {
        // Parameter counts of the DINOv2 checkpoints (without the mask token).
        #expect(ViTConfiguration.small().parameterCount == 22_056_192)
        #expect(ViTConfiguration.base().parameterCount == 86_579_712)
        #expect(ViTConfiguration.base(registers: 4).parameterCount == 86_582_784)
        #expect(ViTConfiguration.giant().usesSwiGLU)
        #expect(ViTConfiguration.giant().feedForwardWidth == 4096)
    }
}
