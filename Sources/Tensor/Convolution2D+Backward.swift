// Backward passes of Convolution2D: the input gradient and the weight and bias gradients.
//
// Input gradient, stride 1 and "same" size: ∂L/∂X[q] = Σ_tap ∂L/∂Y[q − offset(tap)] · W_tap, the
// forward's tap loop with the offsets negated, over blocks of consecutive padded pixels of the
// input gradient; it reads the output gradient up to `padding` pixels outside its interior, so
// that gradient must carry a zero border. Other geometries scatter per output row and tap into
// their image's input gradient (one task per image).
//
// Weight gradient: ∂L/∂W_tap = Σ_q ∂L/∂Y[q]ᵀ · X[q + offset(tap)], one GEMM per tap over all pixels
// with K = pixels. The pixels are cut into a fixed number of parts, each summed into a buffer of
// its own and the parts added in order afterwards: `taps × parts` equal tasks (18 for a 3×3
// kernel), independent of the thread count.
//
// Where `preferredAlgorithm` picks Winograd, both passes run F(2×2, 3×3) instead
// (Convolution2D+Winograd.swift, Convolution2D+WinogradWeights.swift).

extension Convolution2D {
    /// Pixel parts of the weight gradient's sum (each with its own partial buffer).
    static func weightParts(taps: Int) -> Int { taps == 1 ? 4 : 2 }

    /// `inputGradient (+)= ∂L/∂input` from `outputGradient = ∂L/∂output`.
    ///
    /// Writes (or adds to, with `accumulate`) the input gradient's interior; its border stays zero.
    /// - Parameters:
    ///   - outputGradient: `[B, Ho, Wo, Cout]`. On the fast path (stride 1, same size, equal
    ///     borders ≥ padding) its border must be zero.
    ///   - packedWeights: `[k·k, Cout, Cin]`, as for `forward`.
    ///   - inputGradient: `[B, H, W, Cin]`; must not overlap the output gradient.
    ///   - accumulate: add to the values already there instead of overwriting them.
    public func backwardInput(outputGradient: UnsafePointer<Float>, _ outputLayout: FeatureMapLayout,
                              packedWeights: UnsafePointer<Float>,
                              inputGradient: UnsafeMutablePointer<Float>, _ inputLayout: FeatureMapLayout,
                              accumulate: Bool = false, team: WorkerTeam? = nil) {
        backwardInput(outputGradient: outputGradient, outputLayout, packedWeights: packedWeights, inputGradient: inputGradient,
                      inputLayout, accumulate: accumulate, team: team, routine: .preferred)
    }

    /// `backwardInput` with a chosen product routine and algorithm (nil: `preferredAlgorithm`; tests run each).
    func backwardInput(outputGradient: UnsafePointer<Float>, _ outputLayout: FeatureMapLayout,
                       packedWeights: UnsafePointer<Float>,
                       inputGradient: UnsafeMutablePointer<Float>, _ inputLayout: FeatureMapLayout,
                       accumulate: Bool, team: WorkerTeam?, routine: ProductRoutine, algorithm: Algorithm? = nil) {
        checkShapes(input: inputLayout, output: outputLayout)
        BLASBackend.withSingleThreadedCalls {
            if (algorithm ?? preferredAlgorithm(height: inputLayout.height, width: inputLayout.width)) == .winograd {
                // ∂L/∂X is the padding-1 correlation of ∂L/∂Y with the flipped, transposed filters.
                precondition(supportsWinograd, "Winograd F(2×2, 3×3) on a \(kernelSize)×\(kernelSize) stride \(stride) convolution")
                let filters = winogradFilters(packedWeights, flipped: true, team: team)
                defer { filters.deallocate() }
                winogradPass(source: outputGradient, outputLayout, filters: filters, bias: nil, target: inputGradient, inputLayout,
                             accumulate: accumulate, team: team, routine: routine)
            } else if isContiguous(source: outputLayout, target: inputLayout) && routine == .tiled {
                let span = Self.interiorSpan(inputLayout)
                let outStride = outputLayout.pixelStride, inStride = inputLayout.pixelStride
                let offsets = (0..<taps).map { -tapOffset($0, paddedWidth: inputLayout.paddedWidth) * outStride }
                Parallel.forEachTask(count: Self.blockCount(span), on: team) { task in
                    let pixels = Self.block(task, of: span)
                    let target = inputGradient + pixels.lowerBound * inStride
                    if !accumulate {
                        for row in 0..<pixels.count { (target + row * inStride).update(repeating: 0, count: inChannels) }
                    }
                    accumulateTapProducts(rows: pixels.count, depth: outChannels, columns: inChannels,
                                          a: outputGradient + pixels.lowerBound * outStride, aRow: outStride, tapOffsets: offsets,
                                          b: packedWeights, c: target, cRow: inStride, scratch: TileScratch())
                    Self.zeroBorderPixels(inputGradient, inputLayout, pixels: pixels, channels: inChannels)
                }
            } else if isContiguous(source: outputLayout, target: inputLayout) {
                inputGradientContiguous(outputGradient, outputLayout, packedWeights, inputGradient, inputLayout,
                                        accumulate: accumulate, team: team)
            } else {
                inputGradientByRows(outputGradient, outputLayout, packedWeights, inputGradient, inputLayout,
                                    accumulate: accumulate, team: team)
            }
        }
    }

    private func inputGradientContiguous(_ outputGradient: UnsafePointer<Float>, _ outputLayout: FeatureMapLayout,
                                         _ weights: UnsafePointer<Float>,
                                         _ inputGradient: UnsafeMutablePointer<Float>, _ inputLayout: FeatureMapLayout,
                                         accumulate: Bool, team: WorkerTeam?) {
        let span = Self.interiorSpan(inputLayout)
        let outStride = outputLayout.pixelStride, inStride = inputLayout.pixelStride
        let paddedWidth = inputLayout.paddedWidth
        Parallel.forEachTask(count: Self.blockCount(span), on: team) { task in
            let pixels = Self.block(task, of: span)
            let target = inputGradient + pixels.lowerBound * inStride
            for tap in 0..<taps {
                // C[pixels, Cin] (+)= ∂Y[pixels − offset, Cout] · W_tap[Cout, Cin]
                BLASBackend.sgemm(m: pixels.count, n: inChannels, k: outChannels,
                                  a: outputGradient + (pixels.lowerBound - tapOffset(tap, paddedWidth: paddedWidth)) * outStride,
                                  leadingA: outStride, b: weights + tap * outChannels * inChannels, leadingB: inChannels,
                                  beta: tap == 0 && !accumulate ? 0 : 1, c: target, leadingC: inStride)
            }
            Self.zeroBorderPixels(inputGradient, inputLayout, pixels: pixels, channels: inChannels)
        }
    }

    private func inputGradientByRows(_ outputGradient: UnsafePointer<Float>, _ outputLayout: FeatureMapLayout,
                                     _ weights: UnsafePointer<Float>,
                                     _ inputGradient: UnsafeMutablePointer<Float>, _ inputLayout: FeatureMapLayout,
                                     accumulate: Bool, team: WorkerTeam?) {
        let outStride = outputLayout.pixelStride, inStride = inputLayout.pixelStride
        // Overlapping windows add into the same input pixels: one task per image.
        Parallel.forEachTask(count: inputLayout.batch, on: team) { image in
            if !accumulate {
                inputLayout.forEachRow(images: image..<(image + 1)) { _, _, row in
                    for x in 0..<inputLayout.width { (inputGradient + row + x * inStride).update(repeating: 0, count: inChannels) }
                }
            }
            for y in 0..<outputLayout.height {
                for tap in 0..<taps {
                    let inputY = stride * y + tap / kernelSize - padding
                    guard inputY >= 0 && inputY < inputLayout.height else { continue }
                    let dx = tap % kernelSize
                    let columns = validColumns(tapColumn: dx, outputWidth: outputLayout.width, inputWidth: inputLayout.width)
                    guard !columns.isEmpty else { continue }
                    let inputX = stride * columns.lowerBound + dx - padding
                    BLASBackend.sgemm(m: columns.count, n: inChannels, k: outChannels,
                                      a: outputGradient + outputLayout.offset(image: image, y: y, x: columns.lowerBound),
                                      leadingA: outStride, b: weights + tap * outChannels * inChannels, leadingB: inChannels,
                                      beta: 1, c: inputGradient + inputLayout.offset(image: image, y: inputY, x: inputX),
                                      leadingC: stride * inStride)
                }
            }
        }
    }

    /// `weightGradient += ∂L/∂W` and `biasGradient += ∂L/∂b` from `outputGradient` and the
    /// forward's `input`.
    ///
    /// - Parameters:
    ///   - outputGradient: `[B, Ho, Wo, Cout]`. On the fast path (stride 1, same size, equal
    ///     borders ≥ padding) its border must be zero.
    ///   - input: `[B, H, W, Cin]`, the forward's input.
    ///   - weightGradient: `[Cout, Cin, k, k]`, PyTorch order; added to.
    ///   - biasGradient: `[Cout]`, added to; or nil.
    /// - Complexity: `2·B·Ho·Wo·Cout·Cin·k²` flops, plus a temporary of `parts · k² · Cout · Cin`
    ///   floats (parts = 2 for k > 1, 4 for 1×1).
    public func backwardWeights(outputGradient: UnsafePointer<Float>, _ outputLayout: FeatureMapLayout,
                                input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                                weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
                                team: WorkerTeam? = nil) {
        backwardWeights(outputGradient: outputGradient, outputLayout, input: input, inputLayout, weightGradient: weightGradient,
                        biasGradient: biasGradient, team: team, routine: .preferred)
    }

    /// `backwardWeights` with a chosen product routine and algorithm (nil: `preferredAlgorithm`; tests run each).
    func backwardWeights(outputGradient: UnsafePointer<Float>, _ outputLayout: FeatureMapLayout,
                         input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                         weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
                         team: WorkerTeam?, routine: ProductRoutine, algorithm: Algorithm? = nil) {
        checkShapes(input: inputLayout, output: outputLayout)
        if (algorithm ?? preferredAlgorithm(height: inputLayout.height, width: inputLayout.width)) == .winograd {
            BLASBackend.withSingleThreadedCalls {
                winogradWeightGradient(outputGradient: outputGradient, outputLayout, input: input, inputLayout,
                                       weightGradient: weightGradient, team: team, routine: routine)
            }
            if let biasGradient { Self.addChannelSums(outputGradient, outputLayout, into: biasGradient, team: team) }
            return
        }
        let contiguous = isContiguous(source: inputLayout, target: outputLayout)
        let parts = contiguous ? Self.weightParts(taps: taps) : 1
        let tapSize = outChannels * inChannels
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: parts * taps * tapSize)
        defer { partials.deallocate() }
        BLASBackend.withSingleThreadedCalls {
            if contiguous {
                let span = Self.interiorSpan(outputLayout)
                let paddedWidth = outputLayout.paddedWidth
                Parallel.forEachTask(count: taps * parts, on: team) { task in
                    let tap = task / parts, part = task % parts
                    let start = span.lowerBound + span.count * part / parts
                    let end = span.lowerBound + span.count * (part + 1) / parts
                    // partial[part][tap] = ∂Y[pixels]ᵀ · X[pixels + offset]
                    let target = partials + (part * taps + tap) * tapSize
                    guard end > start else { target.update(repeating: 0, count: tapSize); return }
                    if routine == .tiled {
                        weightGradientProduct(outputs: outChannels, inputs: inChannels, depth: end - start,
                                              a: outputGradient + start * outputLayout.pixelStride, aStride: outputLayout.pixelStride,
                                              b: input + (start + tapOffset(tap, paddedWidth: paddedWidth)) * inputLayout.pixelStride,
                                              bStride: inputLayout.pixelStride, c: target, scratch: TileScratch())
                        return
                    }
                    BLASBackend.sgemm(transposeA: true, m: outChannels, n: inChannels, k: end - start,
                                      a: outputGradient + start * outputLayout.pixelStride, leadingA: outputLayout.pixelStride,
                                      b: input + (start + tapOffset(tap, paddedWidth: paddedWidth)) * inputLayout.pixelStride,
                                      leadingB: inputLayout.pixelStride, c: target, leadingC: inChannels)
                }
            } else {
                Parallel.forEachTask(count: taps, on: team) { tap in
                    weightGradientByRows(tap: tap, outputGradient, outputLayout, input, inputLayout,
                                         into: partials + tap * tapSize)
                }
            }
            // Sum the parts in order into the PyTorch-ordered gradient, output channels split over the team.
            Parallel.forEachTask(count: outChannels, on: team) { output in
                for input in 0..<inChannels {
                    let target = weightGradient + (output * inChannels + input) * taps
                    for tap in 0..<taps {
                        var sum = partials[tap * tapSize + output * inChannels + input]
                        for part in 1..<max(parts, 1) { sum += partials[(part * taps + tap) * tapSize + output * inChannels + input] }
                        target[tap] += sum
                    }
                }
            }
        }
        if let biasGradient {
            Self.addChannelSums(outputGradient, outputLayout, into: biasGradient, team: team)
        }
    }

    private func weightGradientByRows(tap: Int, _ outputGradient: UnsafePointer<Float>, _ outputLayout: FeatureMapLayout,
                                      _ input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                                      into target: UnsafeMutablePointer<Float>) {
        target.update(repeating: 0, count: outChannels * inChannels)
        let dx = tap % kernelSize
        let columns = validColumns(tapColumn: dx, outputWidth: outputLayout.width, inputWidth: inputLayout.width)
        guard !columns.isEmpty else { return }
        for image in 0..<outputLayout.batch {
            for y in 0..<outputLayout.height {
                let inputY = stride * y + tap / kernelSize - padding
                guard inputY >= 0 && inputY < inputLayout.height else { continue }
                let inputX = stride * columns.lowerBound + dx - padding
                BLASBackend.sgemm(transposeA: true, m: outChannels, n: inChannels, k: columns.count,
                                  a: outputGradient + outputLayout.offset(image: image, y: y, x: columns.lowerBound),
                                  leadingA: outputLayout.pixelStride,
                                  b: input + inputLayout.offset(image: image, y: inputY, x: inputX),
                                  leadingB: stride * inputLayout.pixelStride, beta: 1, c: target, leadingC: inChannels)
            }
        }
    }

    /// `sums[c] += Σ_pixels map[pixel, c]` over the interior, channels split over the team in
    /// blocks of 16; each image row is summed in Float and the rows in Double, in order.
    static func addChannelSums(_ map: UnsafePointer<Float>, _ layout: FeatureMapLayout,
                               into sums: UnsafeMutablePointer<Float>, team: WorkerTeam?) {
        let blocks = (layout.channels + 15) / 16
        Parallel.forEachTask(count: blocks, on: team) { block in
            let start = block * 16, count = min(16, layout.channels - start)
            var total = SIMD16<Double>()
            layout.forEachRow { _, _, row in
                var pixel = map + row + start
                var rowTotal = Vector()
                for _ in 0..<layout.width {
                    rowTotal += count == 16 ? loadVector(pixel) : loadPartialVector(pixel, count: count)
                    pixel += layout.pixelStride
                }
                total += SIMD16<Double>(rowTotal)
            }
            for lane in 0..<count { sums[start + lane] += Float(total[lane]) }
        }
    }
}
