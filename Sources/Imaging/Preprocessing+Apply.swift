/// The pipeline itself: pad, scale, resize (two separable passes), replicate, normalise.
extension Preprocessing {
    /// Preprocesses one image.
    ///
    /// Equals, to float rounding, the torch reference `pad -> x / 255 or 65535 -> repeat grey
    /// to 3 channels -> F.interpolate(bilinear, align_corners=False, antialias) ->
    /// (x - mean) / std`. Grey images are resized once and then written to each channel,
    /// which gives the same numbers as resizing three identical channels.
    ///
    /// - Parameter image: a decoded image (grey or RGB, 8- or 16-bit).
    /// - Returns: CHW values, `[3, size, size]` with the defaults.
    /// - Complexity: O(paddedHeight * size * taps + size * size * taps) per channel, where taps
    ///   is about `2 * paddedSide / size + 1`; zero padding costs nothing.
    public func apply(to image: DecodedImage) -> PreprocessedImage {
        let geometry = PaddingGeometry(width: image.width, height: image.height, padToSquare: padToSquare)
        let outputHeight = size ?? geometry.paddedHeight
        let outputWidth = size ?? geometry.paddedWidth
        let antialias = resize == .bilinearAntialiased
        let horizontal = ResamplingWeights(inputSize: geometry.paddedWidth, outputSize: outputWidth, antialias: antialias)
            .clipped(toSourceAt: geometry.left, length: image.width)
        let vertical = ResamplingWeights(inputSize: geometry.paddedHeight, outputSize: outputHeight, antialias: antialias)
            .clipped(toSourceAt: geometry.top, length: image.height)
        let lookup = sampleLookupTable(bitDepth: image.bitDepth)

        let outputChannels = image.channels == 1 && replicateGreyToThreeChannels ? 3 : image.channels
        let plane = outputHeight * outputWidth
        var values = [Float](repeating: 0, count: outputChannels * plane)
        var rows = [Float](repeating: 0, count: image.height * outputWidth)
        for channel in 0..<image.channels {
            resampleRows(image, channel: channel, lookup: lookup, weights: horizontal, into: &rows)
            values.withUnsafeMutableBufferPointer { output in
                let target = UnsafeMutableBufferPointer(rebasing: output[(channel * plane)..<((channel + 1) * plane)])
                resampleColumns(rows, width: outputWidth, weights: vertical, into: target)
            }
        }
        if outputChannels > image.channels {
            for channel in 1..<outputChannels {
                values.replaceSubrange((channel * plane)..<((channel + 1) * plane), with: values[0..<plane])
            }
        }
        if let mean, let std {
            normalise(&values, plane: plane, channels: outputChannels, mean: mean, std: std)
        }
        return PreprocessedImage(channels: outputChannels, height: outputHeight, width: outputWidth, values: values)
    }

    /// Sample value -> float, divided as torch divides (`x / 65535.0` in float), so the
    /// scaled values are bit-identical; a table also turns the division into a load.
    private func sampleLookupTable(bitDepth: Int) -> [Float] {
        let count = 1 << bitDepth
        guard scaleToUnitInterval else { return (0..<count).map { Float($0) } }
        let maximum = Float(count - 1)
        return (0..<count).map { Float($0) / maximum }
    }
}

/// Where the image sits inside its zero-padded square.
struct PaddingGeometry: Sendable, Hashable {
    let paddedWidth: Int
    let paddedHeight: Int
    /// Columns of zeros left of the image (the odd one goes right).
    let left: Int
    /// Rows of zeros above the image (the odd one goes below).
    let top: Int

    init(width: Int, height: Int, padToSquare: Bool) {
        let side = max(width, height)
        paddedWidth = padToSquare ? side : width
        paddedHeight = padToSquare ? side : height
        left = (paddedWidth - width) / 2
        top = (paddedHeight - height) / 2
    }
}

/// Horizontal pass: each image row of one channel -> `weights.outputSize` values.
/// `rows` holds `image.height` rows; padding rows are never materialised.
private func resampleRows(_ image: DecodedImage, channel: Int, lookup: [Float], weights: ResamplingWeights,
                          into rows: inout [Float]) {
    let outputWidth = weights.outputSize
    let channels = image.channels
    let stride = weights.stride
    image.samples.withUnsafeBufferPointer { samples in
        lookup.withUnsafeBufferPointer { table in
            weights.starts.withUnsafeBufferPointer { starts in
                weights.counts.withUnsafeBufferPointer { counts in
                    weights.weights.withUnsafeBufferPointer { taps in
                        rows.withUnsafeMutableBufferPointer { output in
                            for y in 0..<image.height {
                                let rowBase = y &* image.width &* channels &+ channel
                                let outputBase = y &* outputWidth
                                for x in 0..<outputWidth {
                                    let count = counts[x]
                                    let first = rowBase &+ starts[x] &* channels
                                    let weightBase = x &* stride
                                    var sum: Float = 0
                                    var tap = 0
                                    while tap < count {
                                        sum += table[Int(samples[first &+ tap &* channels])] * taps[weightBase &+ tap]
                                        tap &+= 1
                                    }
                                    output[outputBase &+ x] = sum
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Vertical pass: combines whole rows, so the inner loop runs along contiguous memory.
private func resampleColumns(_ rows: [Float], width: Int, weights: ResamplingWeights,
                             into output: UnsafeMutableBufferPointer<Float>) {
    let stride = weights.stride
    rows.withUnsafeBufferPointer { source in
        for y in 0..<weights.outputSize {
            let outputRow = output.baseAddress! + y &* width
            let count = weights.counts[y]
            if count == 0 {
                outputRow.update(repeating: 0, count: width)
                continue
            }
            let start = weights.starts[y]
            let firstWeight = weights.weights[y &* stride]
            let firstRow = source.baseAddress! + start &* width
            for x in 0..<width { outputRow[x] = firstRow[x] * firstWeight }
            for tap in 1..<max(count, 1) {
                let weight = weights.weights[y &* stride &+ tap]
                let row = source.baseAddress! + (start &+ tap) &* width
                for x in 0..<width { outputRow[x] += row[x] * weight }
            }
        }
    }
}

/// `(x - mean[c]) / std[c]` per channel, dividing (not multiplying by a reciprocal) as torch does.
private func normalise(_ values: inout [Float], plane: Int, channels: Int, mean: [Float], std: [Float]) {
    values.withUnsafeMutableBufferPointer { buffer in
        for channel in 0..<channels {
            let channelMean = mean.count == 1 ? mean[0] : mean[channel]
            let channelStd = std.count == 1 ? std[0] : std[channel]
            let base = channel &* plane
            for index in base..<(base &+ plane) {
                buffer[index] = (buffer[index] - channelMean) / channelStd
            }
        }
    }
}
