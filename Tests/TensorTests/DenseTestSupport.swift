import Foundation
import Testing
import Tensor
import TestSupport

/// A feature map in a buffer of its own, in any layout, for driving the dense ops from tests.
struct MapBuffer {
    var values: [Float]
    let layout: FeatureMapLayout

    /// A zeroed buffer for `layout`.
    init(_ layout: FeatureMapLayout) {
        self.layout = layout
        values = [Float](repeating: 0, count: layout.bufferCount)
    }

    /// `tensor` (`[B, H, W, C]`) copied into the interior of a buffer with the given border and
    /// extra channels per pixel (a slice of a wider map when `extraChannels > 0`; the extra
    /// channels hold garbage that ops must not read or write).
    init(_ tensor: Tensor, border: Int = 0, extraChannels: Int = 0) {
        let shape = tensor.shape
        layout = FeatureMapLayout(batch: shape[0], height: shape[1], width: shape[2], channels: shape[3], border: border,
                                  pixelStride: shape[3] + extraChannels)
        values = [Float](repeating: 0, count: layout.bufferCount)
        let source = tensor.scalars
        for image in 0..<shape[0] {
            for y in 0..<shape[1] {
                for x in 0..<shape[2] {
                    let offset = layout.offset(image: image, y: y, x: x)
                    for c in 0..<shape[3] { values[offset + c] = source[((image * shape[1] + y) * shape[2] + x) * shape[3] + c] }
                    for c in 0..<extraChannels { values[offset + shape[3] + c] = 1e30 }
                }
            }
        }
    }

    /// The interior as a dense `[B, H, W, C]` tensor.
    var tensor: Tensor {
        var result = [Float]()
        result.reserveCapacity(layout.pixelCount * layout.channels)
        for image in 0..<layout.batch {
            for y in 0..<layout.height {
                for x in 0..<layout.width {
                    let offset = layout.offset(image: image, y: y, x: x)
                    result.append(contentsOf: values[offset..<(offset + layout.channels)])
                }
            }
        }
        return Tensor(shape: [layout.batch, layout.height, layout.width, layout.channels], scalars: result)
    }

    /// Whether every border float (and every extra channel) still has its initial value.
    func bordersAreUntouched(extraValue: Float = 1e30) -> Bool {
        for image in 0..<layout.batch {
            for row in -layout.border..<(layout.height + layout.border) {
                for column in -layout.border..<(layout.width + layout.border) {
                    let offset = layout.offset(image: image, y: row, x: column)
                    let interior = row >= 0 && row < layout.height && column >= 0 && column < layout.width
                    for c in 0..<layout.pixelStride {
                        let value = values[offset + c]
                        if !interior && value != 0 { return false }
                        if interior && c >= layout.channels && value != extraValue { return false }
                    }
                }
            }
        }
        return true
    }
}

/// Records an issue unless `|actual − expected| ≤ tolerance · max(1, |expected|)` everywhere.
func expectMatches(_ actual: Tensor, _ expected: Tensor, tolerance: Float = 1e-5, _ what: String,
                sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): \(actual.shape) vs \(expected.shape)", sourceLocation: sourceLocation)
    guard actual.count == expected.count else { return }
    var worst: Float = 0, worstIndex = 0
    for (index, (a, e)) in zip(actual.scalars, expected.scalars).enumerated() {
        let error = abs(a - e) / max(1, abs(e))
        if error > worst || error.isNaN { worst = error.isNaN ? .infinity : error; worstIndex = index }
    }
    #expect(worst <= tolerance, "\(what): element \(worstIndex) is \(actual.scalars[worstIndex]), reference \(expected.scalars[worstIndex]) (scaled error \(worst))",
            sourceLocation: sourceLocation)
}

/// Loads `Fixtures/dense_ops.safetensors` (from scripts/fixtures/dense_ops.py).
struct DenseFixture {
    let tensors: [String: Tensor]

    init() throws {
        tensors = try loadSafetensors(at: fixturesDirectory().appendingPathComponent("dense_ops.safetensors"))
    }

    subscript(_ name: String) -> Tensor {
        get throws { try #require(tensors[name], "dense_ops.safetensors lacks \(name); rerun scripts/fixtures/dense_ops.py") }
    }
}
