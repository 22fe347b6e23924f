import Tensor

// The forward pass. Activations live in a handful of buffers allocated once per call (for one
// image) and reused by every image and block; all large products are single sgemm calls on them:
//
//   x       [B*T, D]    residual stream
//   normed  [B*T, D]    LayerNorm output, then the attention output (heads side by side)
//   qkv     [B*T, 3D]   fused query/key/value; first holds the patch-embedding product
//   branch  [B*T, D]    output of the attention or feed-forward projection before the residual
//   hidden  [B*T, F']   feed-forward hidden (F, or 2F for SwiGLU); first holds the image patches
//   scores  per worker: attention scratch (packed keys and queries, scores of a block of rows)

extension VisionTransformer {
    /// Runs the backbone on a batch of images.
    ///
    /// Position embeddings are used as they are at the native grid and otherwise resized to the
    /// input's patch grid exactly as transformers does (bicubic, `align_corners=False`,
    /// antialiased for the registers model).
    /// - Parameters:
    ///   - pixels: `[B, C, H, W]` normalised pixels; `H` and `W` multiples of the patch size.
    ///   - intermediateBlocks: 1-based block numbers whose outputs to return as well (the
    ///     residual stream after that block, through the final LayerNorm, as DINOv2's
    ///     `get_intermediate_layers(norm=True)`), for dense heads such as UPerNet.
    /// - Returns: the tokens after the final LayerNorm, `[B, 1 + R + (H/p)(W/p), D]`, and the
    ///   intermediate outputs of the same shape.
    /// - Throws: `ModelInputError.invalidPixelShape` for any other shape.
    /// - Complexity: about `2 T D (4D + 2F) + 4 T^2 D` flops per image and layer (`T` tokens).
    public func forward(_ pixels: Tensor, intermediateBlocks: [Int] = []) throws -> ViTOutput {
        let configuration = configuration
        precondition(intermediateBlocks.allSatisfy { (1...configuration.layerCount).contains($0) },
                     "intermediate blocks are numbered 1...\(configuration.layerCount)")
        let patch = configuration.patchSize
        let shape = pixels.shape
        guard shape.count == 4, shape[0] > 0, shape[1] == configuration.channelCount,
              shape[2] >= patch, shape[3] >= patch, shape[2] % patch == 0, shape[3] % patch == 0 else {
            throw ModelInputError.invalidPixelShape(shape: shape, channels: configuration.channelCount, patchSize: patch)
        }
        let gridHeight = shape[2] / patch
        let gridWidth = shape[3] / patch
        let geometry = ForwardGeometry(configuration: configuration, batch: shape[0],
                                       gridHeight: gridHeight, gridWidth: gridWidth)
        return withSingleThreadedBLAS {
            run(pixels, geometry: geometry, intermediateBlocks: Set(intermediateBlocks))
        }
    }

    /// The forward pass proper, with OpenBLAS on one thread (see `parallelMultiplyTransposedB`).
    ///
    /// Images go through all blocks one at a time, so every product of an image has the same
    /// shape (and the same split across threads) whatever images share its batch: an image's
    /// tokens are bit-identical alone, in any batch and at any position. The embedding store
    /// relies on it, because which images share a shard depends on what the store already holds.
    /// (Groups of ~2048 tokens, 8 images at 224 px, gave an image different bits in a different
    /// group: up to 3e-6 on ViT-Ti CLS rows.) The activation buffers are sized for one image,
    /// so memory does not grow with the batch beyond the output itself.
    private func run(_ pixels: Tensor, geometry: ForwardGeometry, intermediateBlocks: Set<Int>) -> ViTOutput {
        let configuration = configuration
        let single = ForwardGeometry(configuration: configuration, batch: 1,
                                     gridHeight: geometry.gridHeight, gridWidth: geometry.gridWidth)
        let workspace = ForwardWorkspace(geometry: single)
        let positions = positionEmbeddings(gridHeight: geometry.gridHeight, gridWidth: geometry.gridWidth)
        let pixelsPerImage = pixels.count / geometry.batch
        var tokens = Tensor(zeros: [geometry.batch, geometry.tokens, geometry.width])
        var intermediates = Dictionary(uniqueKeysWithValues: intermediateBlocks.map {
            ($0, Tensor(zeros: [geometry.batch, geometry.tokens, geometry.width]))
        })
        tokens.withUnsafeMutableBufferPointer { output in
            for image in 0..<geometry.batch {
                let offset = image * single.rows * single.width
                pixels.withUnsafeBufferPointer { pixelBuffer in
                    embed(pixelBuffer.baseAddress! + image * pixelsPerImage, positions: positions,
                          geometry: single, workspace: workspace)
                }
                for (index, block) in parameters.blocks.enumerated() {
                    run(block, geometry: single, workspace: workspace)
                    guard intermediateBlocks.contains(index + 1) else { continue }
                    withPointers(parameters.finalNorm.weight, parameters.finalNorm.bias) { weight, bias in
                        intermediates[index + 1]!.withUnsafeMutableBufferPointer { layer in
                            layerNormRows(workspace.residual, into: layer.baseAddress! + offset,
                                          rows: single.rows, width: single.width, weight: weight, bias: bias,
                                          epsilon: configuration.layerNormEpsilon, team: workspace.team)
                        }
                    }
                }
                withPointers(parameters.finalNorm.weight, parameters.finalNorm.bias) { weight, bias in
                    layerNormRows(workspace.residual, into: output.baseAddress! + offset,
                                  rows: single.rows, width: single.width, weight: weight, bias: bias,
                                  epsilon: configuration.layerNormEpsilon, team: workspace.team)
                }
            }
        }
        return ViTOutput(tokens: tokens, registerCount: configuration.registerCount,
                         patchGrid: (geometry.gridHeight, geometry.gridWidth), intermediates: intermediates)
    }

    /// Position embeddings for a `gridHeight x gridWidth` input, `[1 + h*w, D]` flattened: the
    /// class position first, then the patch grid, resized unless it is the native square grid
    /// (transformers' condition: same patch count and a square input).
    func positionEmbeddings(gridHeight: Int, gridWidth: Int) -> [Float] {
        let width = configuration.hiddenSize
        let native = configuration.nativeGridSide
        let table = parameters.positionEmbeddings.scalars   // [1 + native^2, D]
        if gridHeight == native && gridWidth == native { return table }
        let grid = Array(table[width...])
        let offset = configuration.positionInterpolationOffset
        // facebookresearch/dinov2 passes scale_factor = (g' + offset) / g; torch then samples
        // with its reciprocal (computed in double, used in float).
        let scales = offset > 0
            ? (height: Float(1 / ((Double(gridHeight) + offset) / Double(native))),
               width: Float(1 / ((Double(gridWidth) + offset) / Double(native))))
            : nil
        let resized = resampleBicubic(grid, height: native, width: native, channels: width,
                                      toHeight: gridHeight, toWidth: gridWidth,
                                      antialias: configuration.antialiasedPositionInterpolation, scales: scales)
        return Array(table[..<width]) + resized
    }

    /// Patch embedding (a stride-p convolution as im2col + one GEMM), CLS, position embeddings
    /// and registers, written into the residual stream `[B*T, D]`.
    private func embed(_ pixels: UnsafePointer<Float>, positions: [Float], geometry: ForwardGeometry,
                       workspace: ForwardWorkspace) {
        let p = configuration.patchSize
        let channels = configuration.channelCount
        let (batch, gridHeight, gridWidth) = (geometry.batch, geometry.gridHeight, geometry.gridWidth)
        let imageHeight = gridHeight * p
        let imageWidth = gridWidth * p
        let patchLength = channels * p * p
        let patchCount = gridHeight * gridWidth
        let width = geometry.width
        // im2col: row (image, py, px), column (channel, ky, kx) — the order of the conv weight.
        let columns = workspace.hidden
        forEachRowChunk(rows: batch * gridHeight, costPerRow: gridWidth * patchLength, on: workspace.team) { range in
            for imageRow in range {
                let image = imageRow / gridHeight
                let py = imageRow % gridHeight
                for px in 0..<gridWidth {
                    let destination = columns + ((image * gridHeight + py) * gridWidth + px) * patchLength
                    for channel in 0..<channels {
                        for ky in 0..<p {
                            let source = pixels + ((image * channels + channel) * imageHeight + py * p + ky) * imageWidth + px * p
                            (destination + (channel * p + ky) * p).update(from: source, count: p)
                        }
                    }
                }
            }
        }
        let embedded = workspace.queryKeyValue   // [B*P, D]
        parameters.patchEmbedding.weight.withUnsafeBufferPointer { weight in
            parallelMultiplyTransposedB(rows: batch * patchCount, columns: width, inner: patchLength,
                                        columns, leadingA: patchLength, weight.baseAddress!, leadingB: patchLength,
                                        into: embedded, leadingC: width, team: workspace.team)
        }
        let registers = configuration.registerCount
        let bias = parameters.patchEmbedding.bias?.scalars ?? [Float](repeating: 0, count: width)
        let classToken = parameters.classToken.scalars
        let registerTokens = parameters.registerTokens?.scalars ?? []
        let x = workspace.residual
        for image in 0..<batch {
            let base = x + image * geometry.tokens * width
            for channel in 0..<width { base[channel] = classToken[channel] + positions[channel] }
            if registers > 0 {
                (base + width).update(from: registerTokens, count: registers * width)
            }
            for index in 0..<patchCount {
                let token = base + (1 + registers + index) * width
                let source = embedded + (image * patchCount + index) * width
                let position = (1 + index) * width
                for channel in 0..<width {
                    token[channel] = source[channel] + bias[channel] + positions[position + channel]
                }
            }
        }
    }

    /// One pre-norm block: `x += ls1 * attn(norm1(x))`, then `x += ls2 * mlp(norm2(x))`.
    private func run(_ block: BlockParameters, geometry: ForwardGeometry, workspace: ForwardWorkspace) {
        let (rows, width) = (geometry.rows, geometry.width)
        let epsilon = configuration.layerNormEpsilon
        let x = workspace.residual
        let normed = workspace.normed
        let qkv = workspace.queryKeyValue
        let branch = workspace.branch
        let hidden = workspace.hidden
        let team = workspace.team

        withPointers(block.attentionNorm.weight, block.attentionNorm.bias) { weight, bias in
            layerNormRows(x, into: normed, rows: rows, width: width, weight: weight, bias: bias, epsilon: epsilon,
                          team: team)
        }
        block.queryKeyValue.weight.withUnsafeBufferPointer { weight in
            parallelMultiplyTransposedB(rows: rows, columns: 3 * width, inner: width, normed, leadingA: width,
                                        weight.baseAddress!, leadingB: width, into: qkv, leadingC: 3 * width, team: team)
        }
        block.queryKeyValue.bias?.withUnsafeBufferPointer { bias in
            addBiasRows(qkv, rows: rows, width: 3 * width, bias: bias.baseAddress!, team: team)
        }
        multiHeadAttention(qkv: qkv, output: normed,
                           shape: AttentionShape(batch: geometry.batch, tokens: geometry.tokens, width: width,
                                                 heads: configuration.headCount),
                           scores: workspace.scores, workers: geometry.workers, team: team)
        block.attentionOutput.weight.withUnsafeBufferPointer { weight in
            parallelMultiplyTransposedB(rows: rows, columns: width, inner: width, normed, leadingA: width,
                                        weight.baseAddress!, leadingB: width, into: branch, leadingC: width, team: team)
        }
        withPointers(block.attentionOutput.bias!, block.attentionLayerScale) { bias, scale in
            addScaledResidualRows(x, branch: branch, rows: rows, width: width, bias: bias, scale: scale, team: team)
        }

        withPointers(block.feedForwardNorm.weight, block.feedForwardNorm.bias) { weight, bias in
            layerNormRows(x, into: normed, rows: rows, width: width, weight: weight, bias: bias, epsilon: epsilon,
                          team: team)
        }
        let hiddenWidth = geometry.feedForwardWidth
        let inRows = geometry.feedForwardInRows
        withPointers(block.feedForwardIn.weight, block.feedForwardIn.bias!) { weight, bias in
            parallelMultiplyTransposedB(rows: rows, columns: inRows, inner: width, normed, leadingA: width,
                                        weight, leadingB: width, into: hidden, leadingC: inRows, team: team)
            if configuration.usesSwiGLU {
                swiGLUGateRows(hidden, rows: rows, hidden: hiddenWidth, bias: bias, team: team)
            } else {
                addBiasGELURows(hidden, rows: rows, width: hiddenWidth, bias: bias, team: team)
            }
        }
        block.feedForwardOut.weight.withUnsafeBufferPointer { weight in
            // For SwiGLU the gated values sit in the first half of each 2F-wide row.
            parallelMultiplyTransposedB(rows: rows, columns: width, inner: hiddenWidth, hidden, leadingA: inRows,
                                        weight.baseAddress!, leadingB: hiddenWidth, into: branch, leadingC: width, team: team)
        }
        withPointers(block.feedForwardOut.bias!, block.feedForwardLayerScale) { bias, scale in
            addScaledResidualRows(x, branch: branch, rows: rows, width: width, bias: bias, scale: scale, team: team)
        }
    }
}

/// Calls `body` with the base addresses of two tensors.
@inline(__always)
private func withPointers<R>(_ first: Tensor, _ second: Tensor,
                             _ body: (UnsafePointer<Float>, UnsafePointer<Float>) -> R) -> R {
    first.withUnsafeBufferPointer { a in second.withUnsafeBufferPointer { b in body(a.baseAddress!, b.baseAddress!) } }
}

/// Sizes of one forward call.
struct ForwardGeometry {
    let batch: Int
    let gridHeight: Int
    let gridWidth: Int
    /// Tokens per image: CLS + registers + patches.
    let tokens: Int
    /// `B * T`.
    let rows: Int
    /// `D`.
    let width: Int
    /// Feed-forward hidden width `F` (per half for SwiGLU).
    let feedForwardWidth: Int
    /// Output width of the first feed-forward GEMM: `F`, or `2F` for SwiGLU.
    let feedForwardInRows: Int
    /// Parallel attention workers.
    let workers: Int
    /// Floats of the im2col patch matrix `[B*h*w, C*p*p]`.
    let patchColumnCount: Int

    init(configuration: ViTConfiguration, batch: Int, gridHeight: Int, gridWidth: Int) {
        self.batch = batch
        self.gridHeight = gridHeight
        self.gridWidth = gridWidth
        tokens = 1 + configuration.registerCount + gridHeight * gridWidth
        rows = batch * tokens
        width = configuration.hiddenSize
        feedForwardWidth = configuration.feedForwardWidth
        feedForwardInRows = configuration.usesSwiGLU ? 2 * feedForwardWidth : feedForwardWidth
        workers = Parallel.coreCount
        patchColumnCount = batch * gridHeight * gridWidth * configuration.channelCount
            * configuration.patchSize * configuration.patchSize
    }
}

/// The activation buffers of one forward call, freed when the call ends.
final class ForwardWorkspace {
    let residual: UnsafeMutablePointer<Float>
    let normed: UnsafeMutablePointer<Float>
    let queryKeyValue: UnsafeMutablePointer<Float>
    let branch: UnsafeMutablePointer<Float>
    let hidden: UnsafeMutablePointer<Float>
    let scores: UnsafeMutablePointer<Float>
    /// Runs every parallel pass of the call: ~130 short fork–join rounds per forward at 518 px,
    /// each ~4 µs on a spinning team against ~70 µs on Dispatch (measured ~1% of a forward).
    let team: WorkerTeam

    init(geometry: ForwardGeometry) {
        let rows = geometry.rows
        let width = geometry.width
        residual = .allocate(capacity: rows * width)
        normed = .allocate(capacity: rows * width)
        queryKeyValue = .allocate(capacity: rows * 3 * width)
        branch = .allocate(capacity: rows * width)
        // Also holds the im2col patches before the first block.
        hidden = .allocate(capacity: max(rows * geometry.feedForwardInRows, geometry.patchColumnCount))
        scores = .allocate(capacity: geometry.workers * attentionScratchCount(tokens: geometry.tokens))
        team = WorkerTeam(size: geometry.workers)
    }

    deinit {
        for buffer in [residual, normed, queryKeyValue, branch, hidden, scores] { buffer.deallocate() }
    }
}
