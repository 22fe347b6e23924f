// Per-pixel kernels of BatchNormalization: 16 channels at a time, the remainder one by one.

extension BatchNormalization {
    /// Per-channel totals over every interior row of `layout`: `rowBody(image, y, accumulator)`
    /// adds one row into a zeroed Float accumulator of `width` entries (default: the channels),
    /// which is then added in Double to its block's partial; blocks are added in order.
    static func channelSums(_ layout: FeatureMapLayout, width: Int? = nil, team: WorkerTeam?,
                            _ rowBody: (_ image: Int, _ y: Int, _ accumulator: UnsafeMutablePointer<Float>) -> Void) -> [Double] {
        let width = width ?? layout.channels
        let rows = layout.batch * layout.height
        let blocks = max(1, min(reductionBlocks, rows))
        var partials = [Double](repeating: 0, count: blocks * width)
        partials.withUnsafeMutableBufferPointer { partials in
            let partials = partials.baseAddress!
            Parallel.forEachTask(count: blocks, on: team) { block in
                let accumulator = UnsafeMutablePointer<Float>.allocate(capacity: max(width, 1))
                defer { accumulator.deallocate() }
                let partial = partials + block * width
                for rowIndex in (rows * block / blocks)..<(rows * (block + 1) / blocks) {
                    accumulator.update(repeating: 0, count: width)
                    rowBody(rowIndex / layout.height, rowIndex % layout.height, accumulator)
                    for index in 0..<width { partial[index] += Double(accumulator[index]) }
                }
            }
        }
        var totals = [Double](repeating: 0, count: width)
        for block in 0..<blocks {
            for index in 0..<width { totals[index] += partials[block * width + index] }
        }
        return totals
    }

    /// `accumulator[c] += pixel[c]`.
    @inline(__always)
    static func addPixel(_ accumulator: UnsafeMutablePointer<Float>, _ pixel: UnsafePointer<Float>, _ channels: Int) {
        var channel = 0
        while channel + 16 <= channels {
            storeVector(loadVector(accumulator + channel) + loadVector(pixel + channel), accumulator + channel)
            channel += 16
        }
        while channel < channels {
            accumulator[channel] += pixel[channel]
            channel += 1
        }
    }

    /// `accumulator[c] += (pixel[c] − mean[c])²`.
    @inline(__always)
    static func addCenteredSquares(_ accumulator: UnsafeMutablePointer<Float>, _ pixel: UnsafePointer<Float>,
                                   _ mean: UnsafePointer<Float>, _ channels: Int) {
        var channel = 0
        while channel + 16 <= channels {
            let centered = loadVector(pixel + channel) - loadVector(mean + channel)
            storeVector(loadVector(accumulator + channel).addingProduct(centered, centered), accumulator + channel)
            channel += 16
        }
        while channel < channels {
            let centered = pixel[channel] - mean[channel]
            accumulator[channel] += centered * centered
            channel += 1
        }
    }

    /// Per channel `scale = γ/σ` and `shift = β − mean·scale`, so that `y = x·scale + shift`
    /// (PyTorch's CPU kernel forms the output the same way).
    static func affineTerms(mean: UnsafePointer<Float>, inverseDeviation: UnsafePointer<Float>,
                            weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, channels: Int) -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = [Float](repeating: 0, count: channels)
        for channel in 0..<channels {
            scale[channel] = inverseDeviation[channel] * weight[channel]
            shift[channel] = bias[channel] - mean[channel] * scale[channel]
        }
        return (scale, shift)
    }

    /// `output = input·scale + shift` (then ReLU), rows split over the team.
    static func normalize(_ input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                          mean: UnsafePointer<Float>, inverseDeviation: UnsafePointer<Float>,
                          weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                          output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout, relu: Bool,
                          team: WorkerTeam?) {
        let channels = inputLayout.channels
        precondition(outputLayout.batch == inputLayout.batch && outputLayout.height == inputLayout.height
                     && outputLayout.width == inputLayout.width && outputLayout.channels == channels,
                     "batch norm output \(outputLayout) for input \(inputLayout)")
        let (scale, shift) = affineTerms(mean: mean, inverseDeviation: inverseDeviation, weight: weight, bias: bias, channels: channels)
        scale.withUnsafeBufferPointer { scale in
            shift.withUnsafeBufferPointer { shift in
                let scale = scale.baseAddress!, shift = shift.baseAddress!
                let rows = inputLayout.batch * inputLayout.height
                Parallel.forEachChunk(count: rows, minimumChunk: max(1, 16_384 / max(1, inputLayout.width * channels)), on: team) { range in
                    for rowIndex in range {
                        let image = rowIndex / inputLayout.height, y = rowIndex % inputLayout.height
                        let source = input + inputLayout.offset(image: image, y: y, x: 0)
                        let target = output + outputLayout.offset(image: image, y: y, x: 0)
                        for x in 0..<inputLayout.width {
                            affinePixel(target + x * outputLayout.pixelStride, source + x * inputLayout.pixelStride,
                                        scale, shift, relu: relu, channels)
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func affinePixel(_ target: UnsafeMutablePointer<Float>, _ source: UnsafePointer<Float>,
                            _ scale: UnsafePointer<Float>, _ shift: UnsafePointer<Float>, relu: Bool, _ channels: Int) {
        var channel = 0
        while channel + 16 <= channels {
            var value = loadVector(shift + channel).addingProduct(loadVector(source + channel), loadVector(scale + channel))
            if relu { value = value.replacing(with: 0, where: value .< 0) }
            storeVector(value, target + channel)
            channel += 16
        }
        while channel < channels {
            var value = shift[channel].addingProduct(source[channel], scale[channel])
            if relu { value = value < 0 ? 0 : value }
            target[channel] = value
            channel += 1
        }
    }

    /// `accumulator[c] += g`, `accumulator[C + c] += g·x̂` for one pixel, with `g` the output
    /// gradient masked by ReLU (`x·scale + shift > 0`, computed exactly as the forward did).
    @inline(__always)
    static func addGradientSums(_ accumulator: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>,
                                _ gradient: UnsafePointer<Float>, _ terms: Terms, relu: Bool, _ channels: Int) {
        var channel = 0
        while channel + 16 <= channels {
            let x = loadVector(input + channel)
            var g = loadVector(gradient + channel)
            if relu {
                let pre = loadVector(terms.shift + channel).addingProduct(x, loadVector(terms.scale + channel))
                g = g.replacing(with: 0, where: .!(pre .> 0))
            }
            let normalized = (x - loadVector(terms.mean + channel)) * loadVector(terms.inverseDeviation + channel)
            storeVector(loadVector(accumulator + channel) + g, accumulator + channel)
            storeVector(loadVector(accumulator + channels + channel).addingProduct(g, normalized), accumulator + channels + channel)
            channel += 16
        }
        while channel < channels {
            let x = input[channel]
            var g = gradient[channel]
            if relu && !(terms.shift[channel].addingProduct(x, terms.scale[channel]) > 0) { g = 0 }
            let normalized = (x - terms.mean[channel]) * terms.inverseDeviation[channel]
            accumulator[channel] += g
            accumulator[channels + channel] = accumulator[channels + channel].addingProduct(g, normalized)
            channel += 1
        }
    }

    /// One pixel of `∂L/∂x = γ/σ · (g − mean(g) − x̂·mean(g·x̂))`, stored or added.
    @inline(__always)
    static func inputGradientPixel(_ target: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>,
                                   _ gradient: UnsafePointer<Float>, _ terms: Terms, relu: Bool, accumulate: Bool,
                                   _ channels: Int) {
        var channel = 0
        while channel + 16 <= channels {
            let x = loadVector(input + channel)
            var g = loadVector(gradient + channel)
            if relu {
                let pre = loadVector(terms.shift + channel).addingProduct(x, loadVector(terms.scale + channel))
                g = g.replacing(with: 0, where: .!(pre .> 0))
            }
            let normalized = (x - loadVector(terms.mean + channel)) * loadVector(terms.inverseDeviation + channel)
            let centered = (g - loadVector(terms.meanGradient + channel))
                .addingProduct(-normalized, loadVector(terms.meanProduct + channel))
            var value = centered * loadVector(terms.scale + channel)
            if accumulate { value += loadVector(target + channel) }
            storeVector(value, target + channel)
            channel += 16
        }
        while channel < channels {
            let x = input[channel]
            var g = gradient[channel]
            if relu && !(terms.shift[channel].addingProduct(x, terms.scale[channel]) > 0) { g = 0 }
            let normalized = (x - terms.mean[channel]) * terms.inverseDeviation[channel]
            let centered = (g - terms.meanGradient[channel]).addingProduct(-normalized, terms.meanProduct[channel])
            let value = centered * terms.scale[channel]
            target[channel] = accumulate ? target[channel] + value : value
            channel += 1
        }
    }

    /// Per-channel constants of the backward kernels: the saved statistics, the forward's
    /// `scale`/`shift` (to recompute the ReLU mask exactly), and the means of g and g·x̂.
    final class Terms {
        let mean: UnsafePointer<Float>
        let inverseDeviation: UnsafePointer<Float>
        let scale: UnsafeMutablePointer<Float>
        let shift: UnsafeMutablePointer<Float>
        let meanGradient: UnsafeMutablePointer<Float>
        let meanProduct: UnsafeMutablePointer<Float>

        init(mean: UnsafePointer<Float>, inverseDeviation: UnsafePointer<Float>, weight: UnsafePointer<Float>,
             bias: UnsafePointer<Float>, channels: Int) {
            self.mean = mean
            self.inverseDeviation = inverseDeviation
            let (scale, shift) = affineTerms(mean: mean, inverseDeviation: inverseDeviation, weight: weight, bias: bias,
                                             channels: channels)
            self.scale = .allocate(capacity: max(channels, 1))
            self.scale.initialize(from: scale, count: channels)
            self.shift = .allocate(capacity: max(channels, 1))
            self.shift.initialize(from: shift, count: channels)
            meanGradient = .allocate(capacity: max(channels, 1))
            meanGradient.initialize(repeating: 0, count: channels)
            meanProduct = .allocate(capacity: max(channels, 1))
            meanProduct.initialize(repeating: 0, count: channels)
        }

        deinit {
            for buffer in [scale, shift, meanGradient, meanProduct] { buffer.deallocate() }
        }
    }
}
