// Adaptive average pooling (PSPNet's pyramid pooling, scales 1, 2, 3, 6) and max pooling on NHWC
// maps, forward and backward. One task per image: the backward passes add into overlapping
// windows of their image, and results do not depend on the thread count.

/// `torch.nn.AdaptiveAvgPool2d((outputHeight, outputWidth))` on NHWC maps.
public struct AdaptiveAveragePooling: Sendable, Equatable {
    public let inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int

    /// - Precondition: positive sizes.
    public init(inputHeight: Int, inputWidth: Int, outputHeight: Int, outputWidth: Int) {
        precondition(inputHeight > 0 && inputWidth > 0 && outputHeight > 0 && outputWidth > 0,
                     "adaptive pooling from \(inputHeight)×\(inputWidth) to \(outputHeight)×\(outputWidth)")
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
    }

    /// PyTorch's bins: output index `i` of `outputSize` covers `floor(i·in/out) ..< ceil((i+1)·in/out)`
    /// (neighbouring bins overlap when `in` is not a multiple of `out`).
    public static func bin(_ index: Int, inputSize: Int, outputSize: Int) -> Range<Int> {
        let start = index * inputSize / outputSize
        let end = ((index + 1) * inputSize + outputSize - 1) / outputSize
        return start..<end
    }

    /// `output[b, i, j, c]` = mean of the input over bin `(i, j)`.
    public func forward(input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                        output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout, team: WorkerTeam? = nil) {
        check(inputLayout, outputLayout)
        let channels = inputLayout.channels
        Parallel.forEachTask(count: inputLayout.batch, on: team) { image in
            for i in 0..<outputHeight {
                let rowBin = Self.bin(i, inputSize: inputHeight, outputSize: outputHeight)
                for j in 0..<outputWidth {
                    let columnBin = Self.bin(j, inputSize: inputWidth, outputSize: outputWidth)
                    let target = output + outputLayout.offset(image: image, y: i, x: j)
                    target.update(repeating: 0, count: channels)
                    for y in rowBin {
                        for x in columnBin {
                            addScaled(target, input + inputLayout.offset(image: image, y: y, x: x), 1, channels)
                        }
                    }
                    let area = Float(rowBin.count * columnBin.count)
                    for channel in 0..<channels { target[channel] /= area }
                }
            }
        }
    }

    /// `inputGradient (+)= ∂L/∂input`: each bin's gradient divided by its area, added to its pixels.
    public func backward(outputGradient: UnsafePointer<Float>, _ outputLayout: FeatureMapLayout,
                         inputGradient: UnsafeMutablePointer<Float>, _ inputLayout: FeatureMapLayout,
                         accumulate: Bool = false, team: WorkerTeam? = nil) {
        check(inputLayout, outputLayout)
        let channels = inputLayout.channels
        Parallel.forEachTask(count: inputLayout.batch, on: team) { image in
            if !accumulate { zeroInterior(inputGradient, inputLayout, image: image) }
            for i in 0..<outputHeight {
                let rowBin = Self.bin(i, inputSize: inputHeight, outputSize: outputHeight)
                for j in 0..<outputWidth {
                    let columnBin = Self.bin(j, inputSize: inputWidth, outputSize: outputWidth)
                    let source = outputGradient + outputLayout.offset(image: image, y: i, x: j)
                    let weight = 1 / Float(rowBin.count * columnBin.count)
                    for y in rowBin {
                        for x in columnBin {
                            addScaled(inputGradient + inputLayout.offset(image: image, y: y, x: x), source, weight, channels)
                        }
                    }
                }
            }
        }
    }

    private func check(_ input: FeatureMapLayout, _ output: FeatureMapLayout) {
        precondition(input.height == inputHeight && input.width == inputWidth && output.height == outputHeight
                     && output.width == outputWidth && input.channels == output.channels && input.batch == output.batch,
                     "adaptive pooling \(inputHeight)×\(inputWidth) → \(outputHeight)×\(outputWidth) given \(input) → \(output)")
    }
}

/// `torch.nn.MaxPool2d(kernelSize, stride, padding)` (floor mode, padding never wins) on NHWC maps.
public struct MaxPooling: Sendable, Equatable {
    public let kernelSize: Int, stride: Int, padding: Int

    /// - Precondition: positive kernel and stride, `padding ≤ kernelSize / 2` (as PyTorch requires).
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        precondition(kernelSize > 0 && (stride ?? kernelSize) > 0 && padding >= 0 && padding <= kernelSize / 2,
                     "max pooling kernel \(kernelSize) stride \(stride ?? kernelSize) padding \(padding)")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    /// `floor((size + 2·padding − kernel) / stride) + 1` per axis.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - kernelSize) / stride + 1, (width + 2 * padding - kernelSize) / stride + 1)
    }

    /// The window maximum per channel; `indices` (one per output element, same order as a dense
    /// `[B, Ho, Wo, C]` map) receives the winner's `y·W + x` within its image. The first maximum
    /// in row-major window order wins; NaN propagates (as PyTorch).
    public func forward(input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                        output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout,
                        indices: UnsafeMutablePointer<Int32>, team: WorkerTeam? = nil) {
        let size = outputSize(height: inputLayout.height, width: inputLayout.width)
        precondition(outputLayout.height == size.height && outputLayout.width == size.width
                     && outputLayout.channels == inputLayout.channels && outputLayout.batch == inputLayout.batch,
                     "max pooling of \(inputLayout) gives \(size), not \(outputLayout)")
        let channels = inputLayout.channels
        Parallel.forEachTask(count: inputLayout.batch, on: team) { image in
            for i in 0..<size.height {
                for j in 0..<size.width {
                    let target = output + outputLayout.offset(image: image, y: i, x: j)
                    let targetIndices = indices + ((image * size.height + i) * size.width + j) * channels
                    let rowsInWindow = max(0, i * stride - padding)..<min(inputLayout.height, i * stride - padding + kernelSize)
                    let columnsInWindow = max(0, j * stride - padding)..<min(inputLayout.width, j * stride - padding + kernelSize)
                    for channel in 0..<channels {
                        // PyTorch's rule: a later value wins when greater, or when it is NaN.
                        var best = -Float.infinity
                        var bestIndex = rowsInWindow.lowerBound * inputLayout.width + columnsInWindow.lowerBound
                        for y in rowsInWindow {
                            for x in columnsInWindow {
                                let value = input[inputLayout.offset(image: image, y: y, x: x) + channel]
                                if value > best || value.isNaN {
                                    best = value
                                    bestIndex = y * inputLayout.width + x
                                }
                            }
                        }
                        target[channel] = best
                        targetIndices[channel] = Int32(bestIndex)
                    }
                }
            }
        }
    }

    /// `inputGradient (+)= ∂L/∂input`: each output's gradient added to its window's winner.
    public func backward(outputGradient: UnsafePointer<Float>, _ outputLayout: FeatureMapLayout,
                         indices: UnsafePointer<Int32>,
                         inputGradient: UnsafeMutablePointer<Float>, _ inputLayout: FeatureMapLayout,
                         accumulate: Bool = false, team: WorkerTeam? = nil) {
        let channels = inputLayout.channels
        Parallel.forEachTask(count: inputLayout.batch, on: team) { image in
            if !accumulate { zeroInterior(inputGradient, inputLayout, image: image) }
            for i in 0..<outputLayout.height {
                for j in 0..<outputLayout.width {
                    let source = outputGradient + outputLayout.offset(image: image, y: i, x: j)
                    let sourceIndices = indices + ((image * outputLayout.height + i) * outputLayout.width + j) * channels
                    for channel in 0..<channels {
                        let winner = Int(sourceIndices[channel])
                        let y = winner / inputLayout.width, x = winner % inputLayout.width
                        inputGradient[inputLayout.offset(image: image, y: y, x: x) + channel] += source[channel]
                    }
                }
            }
        }
    }
}

/// Zeroes the interior of one image of a map.
func zeroInterior(_ buffer: UnsafeMutablePointer<Float>, _ layout: FeatureMapLayout, image: Int) {
    for y in 0..<layout.height {
        for x in 0..<layout.width { (buffer + layout.offset(image: image, y: y, x: x)).update(repeating: 0, count: layout.channels) }
    }
}
