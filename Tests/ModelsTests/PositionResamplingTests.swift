import Foundation
import Tensor
import Testing
import TestSupport
@testable import Models

/// The bicubic resampler against torch.nn.functional.interpolate (plain and antialiased).
struct PositionResamplingTests {
    static let sizes: [(input: Int, target: (Int, Int))] = [(4, (6, 9)), (5, (3, 7)), (37, (16, 16)), (6, (11, 2)), (4, (4, 4))]

    @Test(arguments: 0..<5, [false, true])
    func matchesTorch(_ index: Int, antialias: Bool) throws {
        let fixtures = try loadSafetensors(at: fixturesDirectory().appendingPathComponent("interpolation.safetensors"))
        let input = try #require(fixtures["input_\(index)"])                      // [1, 3, h, w]
        let expected = try #require(fixtures["output_\(index)_\(antialias ? "antialias" : "plain")"])
        let (height, width) = (input.shape[2], input.shape[3])
        let (outHeight, outWidth) = (expected.shape[2], expected.shape[3])
        for channel in 0..<3 {
            let plane = Array(input.scalars[(channel * height * width)..<((channel + 1) * height * width)])
            let resized = resampleBicubic(plane, height: height, width: width, channels: 1,
                                          toHeight: outHeight, toWidth: outWidth, antialias: antialias)
            let reference = Array(expected.scalars[(channel * outHeight * outWidth)..<((channel + 1) * outHeight * outWidth)])
            expectClose(resized, reference, tolerance: 2e-6, "case \(index) channel \(channel) antialias \(antialias)")
        }
    }

    @Test func sameSizeIsIdentity() {
        for antialias in [false, true] {
            let taps = bicubicTaps(inputCount: 5, outputCount: 5, antialias: antialias)
            for (index, tap) in taps.enumerated() {
                let weights = tap.weights.enumerated().map { (tap.start + $0.offset, $0.element) }
                for (position, weight) in weights {
                    #expect(abs(weight - (position == index ? 1 : 0)) < 1e-6)
                }
            }
        }
    }
}
