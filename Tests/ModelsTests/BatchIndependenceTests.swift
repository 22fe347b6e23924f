import Tensor
import Testing
@testable import Models

/// An image's tokens do not depend on the images it is forwarded with: the embedding store puts
/// an image in whichever shard and batch it first meets (a grown dataset, an image shared by two
/// datasets, two processes), so a row's bits must not depend on its batch-mates or its position.
struct BatchIndependenceTests {
    /// ViT-Ti widths (192, 3 heads) at 112 px: 65 tokens, so the old grouping (32 images per
    /// group, GEMMs split by rows across the group) put images at varying offsets of the calls.
    static let tinyWidths = ViTConfiguration(hiddenSize: 192, layerCount: 2, headCount: 3, mlpRatio: 4,
                                             patchSize: 14, imageSize: 112)

    func image(_ index: Int) -> [Float] {
        (0..<(3 * 112 * 112)).map { Float((($0 + 131 * index) * 7919) % 211) / 105 - 1 }
    }

    func forward(_ model: VisionTransformer, _ indices: [Int]) throws -> [[Float]] {
        let pixels = Tensor(shape: [indices.count, 3, 112, 112], scalars: indices.flatMap(image))
        let tokens = try model.forward(pixels).tokens
        let perImage = tokens.count / indices.count
        return (0..<indices.count).map { Array(tokens.scalars[($0 * perImage)..<(($0 + 1) * perImage)]) }
    }

    @Test func anImagesTokensAreBitIdenticalAloneInABatchAndAtAnotherPosition() throws {
        let model = VisionTransformer(randomlyInitialized: Self.tinyWidths, seed: 3)
        let batch = try forward(model, [0, 1, 2, 3, 4, 5, 6])
        let reordered = try forward(model, [6, 5, 4, 3, 2, 1, 0])
        let fewer = try forward(model, [3, 6, 0])
        for index in 0..<7 {
            let alone = try forward(model, [index])[0]
            // Compared outside the macro, so that a failure names the image, not 12,480 floats.
            let inBatch = batch[index] == alone, elsewhere = reordered[6 - index] == alone
            #expect(inBatch, "image \(index) in a batch of 7 differs from the image alone")
            #expect(elsewhere, "image \(index) at position \(6 - index) differs from the image alone")
        }
        let subset = fewer[0] == batch[3] && fewer[1] == batch[6] && fewer[2] == batch[0]
        #expect(subset, "images 3, 6, 0 forwarded together differ from the batch of 7")
    }
}
