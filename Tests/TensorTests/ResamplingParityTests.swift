import Foundation
import Testing
import Tensor

/// Bilinear resize (NHWC maps and NCHW planes), adaptive average and max pooling, and channel
/// concatenation against PyTorch (`scripts/fixtures/dense_ops.py`).
@Suite struct ResamplingParityTests {
    static let resizeCases = ["up", "down", "mixed", "scale4", "scale2", "scale05"]

    static func resize(_ name: String, input: [Int]) -> BilinearResize {
        switch name {
        case "up": BilinearResize(inputHeight: input[1], inputWidth: input[2], outputHeight: 20, outputWidth: 15)
        case "down": BilinearResize(inputHeight: input[1], inputWidth: input[2], outputHeight: 4, outputWidth: 3)
        case "mixed": BilinearResize(inputHeight: input[1], inputWidth: input[2], outputHeight: 13, outputWidth: 5)
        case "scale4": BilinearResize(inputHeight: input[1], inputWidth: input[2], scaleFactor: 4)
        case "scale2": BilinearResize(inputHeight: input[1], inputWidth: input[2], scaleFactor: 2)
        default: BilinearResize(inputHeight: input[1], inputWidth: input[2], scaleFactor: 0.5)
        }
    }

    @Test(arguments: resizeCases)
    func bilinearResizeOfMaps(name: String) throws {
        let fixture = try DenseFixture()
        let input = MapBuffer(try fixture["resize_input"], border: 1, extraChannels: 1)
        let expected = try fixture["resize_\(name)_output"]
        let resize = Self.resize(name, input: input.tensor.shape)
        #expect([resize.outputHeight, resize.outputWidth] == Array(expected.shape[1...2]))
        var output = MapBuffer(Tensor(zeros: expected.shape), border: 2)
        resize.forward(input: input.values, input.layout, output: &output.values, output.layout, team: WorkerTeam(size: 2))
        expectMatches(output.tensor, expected, "resize \(name)")
        let upstream = MapBuffer(try fixture["resize_\(name)_upstream"], extraChannels: 3)
        var inputGradient = MapBuffer(input.tensor, border: 1, extraChannels: 1)  // overwritten
        resize.backward(outputGradient: upstream.values, upstream.layout, inputGradient: &inputGradient.values,
                        inputGradient.layout, team: WorkerTeam(size: 2))
        expectMatches(inputGradient.tensor, try fixture["resize_\(name)_input_grad"], "resize \(name) backward")
        #expect(output.bordersAreUntouched() && inputGradient.bordersAreUntouched())
    }

    @Test(arguments: resizeCases)
    func bilinearResizeOfPlanes(name: String) throws {
        let fixture = try DenseFixture()
        // NCHW planes are NHWC maps with the channel axis moved in front of the spatial ones.
        let input = try fixture["resize_input"].permuted([0, 3, 1, 2])
        let expected = try fixture["resize_\(name)_output"].permuted([0, 3, 1, 2])
        let resize = Self.resize(name, input: try fixture["resize_input"].shape)
        let planes = input.shape[0] * input.shape[1]
        var output = [Float](repeating: 0, count: expected.count)
        resize.forwardPlanes(input: input.scalars, planes: planes, output: &output)
        expectMatches(Tensor(shape: expected.shape, scalars: output), expected, "resize planes \(name)")
        let upstream = try fixture["resize_\(name)_upstream"].permuted([0, 3, 1, 2])
        var gradient = [Float](repeating: 7, count: input.count)
        resize.backwardPlanes(outputGradient: upstream.scalars, planes: planes, inputGradient: &gradient)
        expectMatches(Tensor(shape: input.shape, scalars: gradient),
                      try fixture["resize_\(name)_input_grad"].permuted([0, 3, 1, 2]), "resize planes \(name) backward")
    }

    @Test func halfScaleOf37UsesTheFactorNotTheSizeRatio() throws {
        let fixture = try DenseFixture()
        let input = MapBuffer(try fixture["resize37_input"])
        let resize = BilinearResize(inputHeight: 37, inputWidth: 37, scaleFactor: 0.5)
        #expect(resize.outputHeight == 18 && resize.rows[17] == LinearTap(index0: 34, index1: 35, weight0: 0.5, weight1: 0.5))
        var output = MapBuffer(FeatureMapLayout(batch: 1, height: 18, width: 18, channels: 2))
        resize.forward(input: input.values, input.layout, output: &output.values, output.layout)
        expectMatches(output.tensor, try fixture["resize37_output"], "37 → 18 at factor 0.5")
    }

    @Test(arguments: [(1, 1), (2, 2), (3, 3), (6, 6), (4, 3)])
    func adaptiveAveragePooling(size: (Int, Int)) throws {
        let fixture = try DenseFixture()
        let input = MapBuffer(try fixture["pool_input"], border: 1)
        let name = "adaptive\(size.0)x\(size.1)"
        let pooling = AdaptiveAveragePooling(inputHeight: 7, inputWidth: 9, outputHeight: size.0, outputWidth: size.1)
        var output = MapBuffer(FeatureMapLayout(batch: 2, height: size.0, width: size.1, channels: 5, border: 1))
        pooling.forward(input: input.values, input.layout, output: &output.values, output.layout)
        expectMatches(output.tensor, try fixture["\(name)_output"], name)
        let upstream = MapBuffer(try fixture["\(name)_upstream"])
        var inputGradient = MapBuffer(input.layout)
        pooling.backward(outputGradient: upstream.values, upstream.layout, inputGradient: &inputGradient.values, inputGradient.layout)
        expectMatches(inputGradient.tensor, try fixture["\(name)_input_grad"], "\(name) backward")
        #expect(output.bordersAreUntouched() && inputGradient.bordersAreUntouched())
    }

    @Test func maxPooling() throws {
        let fixture = try DenseFixture()
        let input = MapBuffer(try fixture["pool_input"])
        let pooling = MaxPooling(kernelSize: 3, stride: 2, padding: 1)
        let expected = try fixture["maxpool_output"]
        let size = pooling.outputSize(height: 7, width: 9)
        #expect([size.height, size.width] == Array(expected.shape[1...2]))
        var output = MapBuffer(FeatureMapLayout(batch: 2, height: size.height, width: size.width, channels: 5))
        var indices = [Int32](repeating: 0, count: expected.count)
        pooling.forward(input: input.values, input.layout, output: &output.values, output.layout, indices: &indices)
        #expect(output.tensor.scalars == expected.scalars)
        let upstream = MapBuffer(try fixture["maxpool_upstream"])
        var inputGradient = MapBuffer(input.layout)
        pooling.backward(outputGradient: upstream.values, upstream.layout, indices: indices,
                         inputGradient: &inputGradient.values, inputGradient.layout)
        expectMatches(inputGradient.tensor, try fixture["maxpool_input_grad"], "max pooling backward")
    }

    @Test func channelConcatenationMatchesTensorConcatenation() {
        let a = randomTensor([2, 3, 4, 5], seed: 1), b = randomTensor([2, 3, 4, 2], seed: 2)
        let first = MapBuffer(a, border: 1), second = MapBuffer(b, extraChannels: 3)
        var output = MapBuffer(FeatureMapLayout(batch: 2, height: 3, width: 4, channels: 7, border: 1))
        first.values.withUnsafeBufferPointer { firstBuffer in
            second.values.withUnsafeBufferPointer { secondBuffer in
                ChannelConcatenation.forward(parts: [(firstBuffer.baseAddress!, first.layout), (secondBuffer.baseAddress!, second.layout)],
                                             output: &output.values, output.layout)
            }
        }
        #expect(output.tensor == concatenated([a, b], axis: 3))
        var firstGradient = MapBuffer(first.layout), secondGradient = MapBuffer(second.layout)
        firstGradient.values.withUnsafeMutableBufferPointer { firstBuffer in
            secondGradient.values.withUnsafeMutableBufferPointer { secondBuffer in
                ChannelConcatenation.backward(outputGradient: output.values, output.layout,
                                              parts: [(firstBuffer.baseAddress!, first.layout),
                                                      (secondBuffer.baseAddress!, second.layout)])
            }
        }
        #expect(firstGradient.tensor == a && secondGradient.tensor == b)
    }
}
