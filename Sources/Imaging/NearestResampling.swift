/// Nearest-neighbour resampling as PyTorch's `torch.nn.functional.interpolate(mode="nearest")`
/// does it (with an output size and no scale factor), for masks: a class stays a class, no
/// value is invented between two labels.
///
/// Output index `i` reads input index `min(floor(i * scale), input − 1)` with
/// `scale = Float(input) / Float(output)` in single precision, as ATen's `nearest_idx`, which
/// also maps equal sizes one to one and a doubling to `i >> 1`. Checked index for index against
/// PyTorch (`scripts/fixtures/masks.py`).
public enum NearestResampling {
    /// The input index each of `outputSize` outputs reads.
    /// - Complexity: O(outputSize).
    public static func sourceIndices(inputSize: Int, outputSize: Int) -> [Int] {
        precondition(inputSize > 0 && outputSize > 0, "sizes must be positive: \(inputSize) → \(outputSize)")
        if outputSize == inputSize { return Array(0..<outputSize) }
        if outputSize == 2 * inputSize { return (0..<outputSize).map { $0 >> 1 } }
        let scale = Float(inputSize) / Float(outputSize)
        return (0..<outputSize).map { min(Int((Float($0) * scale).rounded(.down)), inputSize - 1) }
    }

    /// A row-major plane resampled to `outputHeight` × `outputWidth`.
    ///
    /// - Parameters:
    ///   - plane: `height * width` values, row-major.
    ///   - height, width: the plane's size.
    ///   - outputHeight, outputWidth: the size wanted.
    /// - Complexity: O(outputHeight × outputWidth).
    public static func resample<Value>(_ plane: [Value], height: Int, width: Int,
                                       outputHeight: Int, outputWidth: Int) -> [Value] {
        precondition(plane.count == height * width, "a \(height) x \(width) plane needs \(height * width) values, not \(plane.count)")
        if outputHeight == height && outputWidth == width { return plane }
        let rows = sourceIndices(inputSize: height, outputSize: outputHeight)
        let columns = sourceIndices(inputSize: width, outputSize: outputWidth)
        var output: [Value] = []
        output.reserveCapacity(outputHeight * outputWidth)
        plane.withUnsafeBufferPointer { source in
            for row in rows {
                let base = row * width
                for column in columns { output.append(source[base + column]) }
            }
        }
        return output
    }
}
