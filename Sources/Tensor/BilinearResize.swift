// Bilinear resizing exactly as `torch.nn.functional.interpolate(mode="bilinear",
// align_corners=False)` without antialiasing, up and down, with its adjoint for backward.
//
// PyTorch maps output index i to the source coordinate `scale·(i + 0.5) − 0.5`, clamped at 0,
// where `scale = in/out`, or `1/scale_factor` when the caller passed a scale factor (then the
// output size is `floor(in·scale_factor)` and the two can differ: 37 → 18 at factor 0.5 uses 2,
// not 37/18). The source pixels are `floor(coordinate)` and the next one (the same at the last
// row), weighted by the fractional part. Coordinates are computed in Float, as PyTorch's CPU kernel
// does. Unlike the antialiased resize of image preprocessing (Imaging/ResamplingWeights.swift),
// downscaling still reads only two source pixels per axis.

/// Source rows (or columns) and weights of one output row (or column).
public struct LinearTap: Sendable, Equatable {
    public let index0: Int
    public let index1: Int
    public let weight0: Float
    public let weight1: Float

    public init(index0: Int, index1: Int, weight0: Float, weight1: Float) {
        self.index0 = index0
        self.index1 = index1
        self.weight0 = weight0
        self.weight1 = weight1
    }
}

/// A bilinear resize from `inputHeight × inputWidth` to `outputHeight × outputWidth`.
public struct BilinearResize: Sendable, Equatable {
    public let inputHeight: Int, inputWidth: Int
    public let outputHeight: Int, outputWidth: Int
    /// Per output row and per output column.
    public let rows: [LinearTap], columns: [LinearTap]

    /// To a given size, as `interpolate(size=(outputHeight, outputWidth))`.
    /// - Precondition: all sizes positive.
    public init(inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int) {
        self.init(inputHeight: inputHeight, inputWidth: inputWidth, outputHeight: outputHeight, outputWidth: outputWidth,
                  rowScale: Float(inputHeight) / Float(outputHeight), columnScale: Float(inputWidth) / Float(outputWidth))
    }

    /// By a scale factor, as `interpolate(scale_factor=factor)` (mmsegmentation's MultiLevelNeck):
    /// output size `floor(size·factor)`, source coordinates scaled by `1/factor`.
    public init(inputHeight: Int, inputWidth: Int, scaleFactor: Double) {
        precondition(scaleFactor > 0, "scale factor \(scaleFactor)")
        let scale = Float(1 / scaleFactor)
        self.init(inputHeight: inputHeight, inputWidth: inputWidth,
                  outputHeight: Int((Double(inputHeight) * scaleFactor).rounded(.down)),
                  outputWidth: Int((Double(inputWidth) * scaleFactor).rounded(.down)), rowScale: scale, columnScale: scale)
    }

    private init(inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int, rowScale: Float, columnScale: Float) {
        precondition(inputHeight > 0 && inputWidth > 0 && outputHeight > 0 && outputWidth > 0,
                     "resize from \(inputHeight)×\(inputWidth) to \(outputHeight)×\(outputWidth)")
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
        rows = Self.taps(count: outputHeight, inputSize: inputHeight, scale: rowScale)
        columns = Self.taps(count: outputWidth, inputSize: inputWidth, scale: columnScale)
    }

    static func taps(count: Int, inputSize: Int, scale: Float) -> [LinearTap] {
        (0..<count).map { index in
            let source = max(scale * (Float(index) + 0.5) - 0.5, 0)
            let index0 = min(Int(source), inputSize - 1)
            let lambda = min(max(source - Float(index0), 0), 1)
            return LinearTap(index0: index0, index1: index0 + (index0 < inputSize - 1 ? 1 : 0),
                             weight0: 1 - lambda, weight1: lambda)
        }
    }

    /// Resizes an NHWC map: `output (+)= resize(input)` over each image's interior.
    /// - Parameters:
    ///   - input: `[B, inputHeight, inputWidth, C]`.
    ///   - output: `[B, outputHeight, outputWidth, C]` (e.g. a channel slice of a concatenation).
    ///   - accumulate: add to the output instead of overwriting it (FPN's top-down sums).
    public func forward(input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                        output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout,
                        accumulate: Bool = false, team: WorkerTeam? = nil) {
        check(input: inputLayout, output: outputLayout)
        let channels = inputLayout.channels
        let outputRows = outputLayout.batch * outputHeight
        Parallel.forEachChunk(count: outputRows, minimumChunk: max(1, 16_384 / max(1, outputWidth * channels)), on: team) { range in
            for rowIndex in range {
                let image = rowIndex / outputHeight, rowTap = rows[rowIndex % outputHeight]
                let upper = input + inputLayout.offset(image: image, y: rowTap.index0, x: 0)
                let lower = input + inputLayout.offset(image: image, y: rowTap.index1, x: 0)
                let target = output + outputLayout.offset(image: image, y: rowIndex % outputHeight, x: 0)
                let w0 = Vector(repeating: rowTap.weight0), w1 = Vector(repeating: rowTap.weight1)
                for x in 0..<outputWidth {
                    let columnTap = columns[x]
                    let left0 = columnTap.index0 * inputLayout.pixelStride, right0 = columnTap.index1 * inputLayout.pixelStride
                    let v0 = Vector(repeating: columnTap.weight0), v1 = Vector(repeating: columnTap.weight1)
                    let pixel = target + x * outputLayout.pixelStride
                    var channel = 0
                    while channel < channels {
                        let lanes = min(16, channels - channel)
                        @inline(__always) func load(_ pointer: UnsafePointer<Float>) -> Vector {
                            lanes == 16 ? loadVector(pointer) : loadPartialVector(pointer, count: lanes)
                        }
                        let top = load(upper + left0 + channel) * v0 + load(upper + right0 + channel) * v1
                        let bottom = load(lower + left0 + channel) * v0 + load(lower + right0 + channel) * v1
                        var value = top * w0 + bottom * w1
                        if accumulate { value += load(pixel + channel) }
                        if lanes == 16 { storeVector(value, pixel + channel) } else { storePartialVector(value, pixel + channel, count: lanes) }
                        channel += 16
                    }
                }
            }
        }
    }

    /// The adjoint: `inputGradient (+)= resizeᵀ(outputGradient)`, the backward of `forward`.
    ///
    /// Each input row gathers from the output rows that read it, then each input column from the
    /// output columns that read it (a gather, so tasks over input rows write disjoint memory and
    /// the sums run in a fixed order).
    public func backward(outputGradient: UnsafePointer<Float>, _ outputLayout: FeatureMapLayout,
                         inputGradient: UnsafeMutablePointer<Float>, _ inputLayout: FeatureMapLayout,
                         accumulate: Bool = false, team: WorkerTeam? = nil) {
        check(input: inputLayout, output: outputLayout)
        let channels = inputLayout.channels
        let rowReaders = Self.readers(of: rows, inputSize: inputHeight)
        let columnReaders = Self.readers(of: columns, inputSize: inputWidth)
        let inputRows = inputLayout.batch * inputHeight
        Parallel.forEachChunk(count: inputRows, minimumChunk: 1, on: team) { range in
            // One row of the vertical pass: [outputWidth, C].
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: outputWidth * channels)
            defer { scratch.deallocate() }
            for rowIndex in range {
                let image = rowIndex / inputHeight, y = rowIndex % inputHeight
                scratch.update(repeating: 0, count: outputWidth * channels)
                for (outputY, weight) in rowReaders[y] {
                    let source = outputGradient + outputLayout.offset(image: image, y: outputY, x: 0)
                    for x in 0..<outputWidth {
                        addScaled(scratch + x * channels, source + x * outputLayout.pixelStride, weight, channels)
                    }
                }
                let target = inputGradient + inputLayout.offset(image: image, y: y, x: 0)
                for x in 0..<inputWidth {
                    let pixel = target + x * inputLayout.pixelStride
                    if !accumulate { pixel.update(repeating: 0, count: channels) }
                    for (outputX, weight) in columnReaders[x] { addScaled(pixel, scratch + outputX * channels, weight, channels) }
                }
            }
        }
    }

    /// For each input index, the output indices that read it and with which weight, in output order.
    static func readers(of taps: [LinearTap], inputSize: Int) -> [[(Int, Float)]] {
        var readers = [[(Int, Float)]](repeating: [], count: inputSize)
        for (output, tap) in taps.enumerated() {
            if tap.index1 == tap.index0 {
                readers[tap.index0].append((output, tap.weight0 + tap.weight1))
            } else {
                readers[tap.index0].append((output, tap.weight0))
                readers[tap.index1].append((output, tap.weight1))
            }
        }
        return readers
    }

    private func check(input: FeatureMapLayout, output: FeatureMapLayout) {
        precondition(input.height == inputHeight && input.width == inputWidth && output.height == outputHeight
                     && output.width == outputWidth && input.channels == output.channels && input.batch == output.batch,
                     "resize \(inputHeight)×\(inputWidth) → \(outputHeight)×\(outputWidth) given \(input) → \(output)")
    }
}

/// `target[c] += weight · source[c]` for `channels` floats.
@inline(__always)
func addScaled(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>, _ weight: Float, _ channels: Int) {
    let scale = Vector(repeating: weight)
    var channel = 0
    while channel + 16 <= channels {
        storeVector(loadVector(target + channel).addingProduct(loadVector(source + channel), scale), target + channel)
        channel += 16
    }
    while channel < channels {
        target[channel] = target[channel].addingProduct(source[channel], weight)
        channel += 1
    }
}
