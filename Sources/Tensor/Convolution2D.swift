// 2D convolution on channels-last feature maps as GEMMs through BLASBackend, with no im2col copy.
//
// A k×k convolution is a sum over its k² taps: output pixel q gets input pixel q + offset(tap)
// times the tap's `[Cout, Cin]` weight matrix. When the input carries a zero border at least as
// wide as the padding and the output has the same padded geometry (stride 1, "same" size), the
// offset of a tap is the same for every pixel counted over the padded grid, so one tap over a
// block of consecutive padded pixels is one GEMM: `C[block] += A[block + offset] · W_tapᵀ`, with
// A and C rows one pixel apart. Pixels of the block that fall in the border are computed too
// (2.7% extra at 148×148, 10% at 37×37) and set back to zero. OpenBLAS accumulates C over blocks
// of K internally anyway, so k² calls of K = Cin move no more memory than one call of K = k²·Cin
// on an im2col copy would, and the copy (k² times the input) is gone. Other geometries (stride 2,
// no border) run one GEMM per tap and output row instead.
//
// Work is cut into tasks fixed by the problem (blocks of consecutive pixels, or bands of rows)
// and dealt to the members of a WorkerTeam, each GEMM on one OpenBLAS thread: every call has the
// same shape on any number of threads, so results are bit-identical across thread counts.
//
// Stride-1, padding-1 3×3 convolutions of at least 128 channels each way run Winograd F(2×2, 3×3)
// instead (Convolution2D+Winograd.swift), chosen by `preferredAlgorithm` from the problem alone.

/// A 2D convolution's geometry (square kernel, equal stride and padding on both axes), with its
/// forward and backward passes on NHWC maps in caller-owned buffers.
///
/// Weights: PyTorch's `[Cout, Cin, k, k]` is the stored order; the passes read a tap-major copy
/// `[k·k, Cout, Cin]` made by `packWeights` (for a 1×1 kernel the two are the same). Bias `[Cout]`.
public struct Convolution2D: Sendable, Equatable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    /// Pixels per task on the contiguous path: an eighth of the span (so that a few threads share
    /// small maps), within 256–4096 and a multiple of 64. OpenBLAS packs the tap's weight on every
    /// call, so large maps want long blocks: at 4096 pixels that costs a few percent of a 512→512
    /// tap, at 1024 several times more. It depends on the problem only, never on the thread count.
    static func blockPixels(_ span: Range<Int>) -> Int {
        min(4096, max(256, (span.count / 8 + 63) / 64 * 64))
    }
    /// Output rows per task on the row-by-row path.
    static let bandRows = 4

    /// - Precondition: positive channels, kernel and stride; `0 ≤ padding < kernelSize`.
    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0,
                     "convolution needs positive channels, kernel and stride")
        precondition(padding >= 0 && padding < kernelSize, "padding \(padding) for a \(kernelSize)×\(kernelSize) kernel")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
    }

    /// Kernel positions, `kernelSize²`.
    public var taps: Int { kernelSize * kernelSize }
    /// Floats in the weight, `Cout · Cin · k²` (PyTorch order and packed order alike).
    public var weightCount: Int { outChannels * inChannels * taps }

    /// Output rows and columns for an input of `height × width`: `(size + 2·padding − k) / stride + 1`.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height + 2 * padding - kernelSize) / stride + 1, (width + 2 * padding - kernelSize) / stride + 1)
    }

    /// The output layout for `input` (dense, with the given border).
    public func outputLayout(for input: FeatureMapLayout, border: Int = 0) -> FeatureMapLayout {
        let size = outputSize(height: input.height, width: input.width)
        return FeatureMapLayout(batch: input.batch, height: size.height, width: size.width, channels: outChannels, border: border)
    }

    /// Rearranges a PyTorch weight `[Cout, Cin, k, k]` into the tap-major `[k·k, Cout, Cin]` the passes read.
    public func packWeights(_ weight: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let taps = taps
        for output in 0..<outChannels {
            for input in 0..<inChannels {
                let source = weight + (output * inChannels + input) * taps
                for tap in 0..<taps { packed[(tap * outChannels + output) * inChannels + input] = source[tap] }
            }
        }
    }

    /// Pixel offset of `tap` over a padded grid `paddedWidth` pixels wide (stride 1).
    @inline(__always)
    func tapOffset(_ tap: Int, paddedWidth: Int) -> Int {
        (tap / kernelSize - padding) * paddedWidth + (tap % kernelSize - padding)
    }

    /// Whether a pass from `source` to `target` (same size) can run over consecutive padded pixels.
    func isContiguous(source: FeatureMapLayout, target: FeatureMapLayout) -> Bool {
        stride == 1 && source.height == target.height && source.width == target.width
            && source.border == target.border && source.border >= padding
    }

    /// What runs the products of the contiguous passes: the register-tiled kernels of
    /// ConvolutionKernels.swift on optimised AVX-512 builds (`XRBENCH_WIDE_VECTORS`), OpenBLAS
    /// elsewhere. Debug builds use OpenBLAS too: unoptimised, the SIMD tiles run ~250× slower, and
    /// the tests of the tiled kernels call them by name.
    enum ProductRoutine: Sendable, CaseIterable {
        case tiled, blas

        static var preferred: ProductRoutine {
            #if XRBENCH_WIDE_VECTORS && !DEBUG
            .tiled
            #else
            .blas
            #endif
        }
    }

    /// `output = conv(input) + bias`.
    ///
    /// Writes the output's interior; its border (if any) stays zero.
    /// - Parameters:
    ///   - input: `[B, H, W, Cin]` in `inputLayout` (any border and pixel stride).
    ///   - packedWeights: `[k·k, Cout, Cin]` from `packWeights` (the PyTorch weight for 1×1).
    ///   - bias: `[Cout]`, or nil.
    ///   - output: `[B, Ho, Wo, Cout]` in `outputLayout`; must not overlap the input.
    ///   - team: the threads to split over (nil: Dispatch over every core).
    /// - Complexity: `2·B·Ho·Wo·Cout·Cin·k²` flops; when stride is 1, the output keeps the input's
    ///   size and both have the same border ≥ padding, no copies at all.
    public func forward(input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                        packedWeights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout,
                        team: WorkerTeam? = nil) {
        forward(input: input, inputLayout, packedWeights: packedWeights, bias: bias, output: output, outputLayout,
                team: team, routine: .preferred)
    }

    /// `forward` with a chosen product routine and algorithm (nil: `preferredAlgorithm`; tests run each).
    func forward(input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                 packedWeights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout,
                 team: WorkerTeam?, routine: ProductRoutine, algorithm: Algorithm? = nil) {
        checkShapes(input: inputLayout, output: outputLayout)
        BLASBackend.withSingleThreadedCalls {
            if (algorithm ?? preferredAlgorithm(height: inputLayout.height, width: inputLayout.width)) == .winograd {
                precondition(supportsWinograd, "Winograd F(2×2, 3×3) on a \(kernelSize)×\(kernelSize) stride \(stride) convolution")
                let filters = winogradFilters(packedWeights, flipped: false, team: team)
                defer { filters.deallocate() }
                winogradPass(source: input, inputLayout, filters: filters, bias: bias, target: output, outputLayout,
                             accumulate: false, team: team, routine: routine)
            } else if isContiguous(source: inputLayout, target: outputLayout) && routine == .tiled {
                forwardTiled(input: input, inputLayout, weights: packedWeights, bias: bias, output: output, outputLayout, team: team)
            } else if isContiguous(source: inputLayout, target: outputLayout) {
                forwardContiguous(input: input, inputLayout, weights: packedWeights, bias: bias,
                                  output: output, outputLayout, team: team)
            } else {
                forwardByRows(input: input, inputLayout, weights: packedWeights, bias: bias,
                              output: output, outputLayout, team: team)
            }
        }
    }

    func checkShapes(input: FeatureMapLayout, output: FeatureMapLayout) {
        let size = outputSize(height: input.height, width: input.width)
        precondition(input.channels == inChannels && output.channels == outChannels,
                     "convolution \(inChannels)→\(outChannels) on \(input) → \(output)")
        precondition(output.batch == input.batch && output.height == size.height && output.width == size.width,
                     "convolution of \(input) gives \(size.height)×\(size.width), not \(output)")
    }

    /// The padded-pixel range from the first to the last interior pixel of `layout`.
    static func interiorSpan(_ layout: FeatureMapLayout) -> Range<Int> {
        guard layout.pixelCount > 0 else { return 0..<0 }
        let first = layout.paddedPixelIndex(image: 0, y: 0, x: 0)
        let last = layout.paddedPixelIndex(image: layout.batch - 1, y: layout.height - 1, x: layout.width - 1)
        return first..<(last + 1)
    }

    /// The `block`th run of `blockPixels(span)` pixels of `span`.
    static func block(_ block: Int, of span: Range<Int>) -> Range<Int> {
        let length = blockPixels(span)
        let start = span.lowerBound + block * length
        return start..<min(start + length, span.upperBound)
    }

    static func blockCount(_ span: Range<Int>) -> Int { (span.count + blockPixels(span) - 1) / blockPixels(span) }

    private func forwardContiguous(input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                                   weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                   output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout,
                                   team: WorkerTeam?) {
        let span = Self.interiorSpan(outputLayout)
        let inStride = inputLayout.pixelStride, outStride = outputLayout.pixelStride
        let paddedWidth = inputLayout.paddedWidth
        Parallel.forEachTask(count: Self.blockCount(span), on: team) { task in
            let pixels = Self.block(task, of: span)
            let target = output + pixels.lowerBound * outStride
            fillRows(target, rows: pixels.count, stride: outStride, bias: bias)
            for tap in 0..<taps {
                // C[pixels, Cout] += A[pixels + offset, Cin] · W_tapᵀ
                BLASBackend.sgemm(transposeB: true, m: pixels.count, n: outChannels, k: inChannels,
                                  a: input + (pixels.lowerBound + tapOffset(tap, paddedWidth: paddedWidth)) * inStride,
                                  leadingA: inStride, b: weights + tap * outChannels * inChannels, leadingB: inChannels,
                                  beta: 1, c: target, leadingC: outStride)
            }
            Self.zeroBorderPixels(output, outputLayout, pixels: pixels, channels: outChannels)
        }
    }

    /// The contiguous forward on the register-tiled kernels: per block, bias rows, then every
    /// tap's product added by `accumulateTapProducts` from the weights transposed to `[k·k, Cin, Cout]`.
    private func forwardTiled(input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                              weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                              output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout, team: WorkerTeam?) {
        let span = Self.interiorSpan(outputLayout)
        let inStride = inputLayout.pixelStride, outStride = outputLayout.pixelStride
        let transposed = UnsafeMutablePointer<Float>.allocate(capacity: weightCount)
        defer { transposed.deallocate() }
        for tap in 0..<taps {
            let source = weights + tap * outChannels * inChannels, target = transposed + tap * outChannels * inChannels
            for output in 0..<outChannels {
                for input in 0..<inChannels { target[input * outChannels + output] = source[output * inChannels + input] }
            }
        }
        let offsets = (0..<taps).map { tapOffset($0, paddedWidth: inputLayout.paddedWidth) * inStride }
        Parallel.forEachTask(count: Self.blockCount(span), on: team) { task in
            let pixels = Self.block(task, of: span)
            let target = output + pixels.lowerBound * outStride
            fillRows(target, rows: pixels.count, stride: outStride, bias: bias)
            accumulateTapProducts(rows: pixels.count, depth: inChannels, columns: outChannels,
                                  a: input + pixels.lowerBound * inStride, aRow: inStride, tapOffsets: offsets,
                                  b: transposed, c: target, cRow: outStride, scratch: TileScratch())
            Self.zeroBorderPixels(output, outputLayout, pixels: pixels, channels: outChannels)
        }
    }

    /// Rows of `[rows, Cout]` at `target` (rows `stride` apart) set to `bias`, or zero.
    func fillRows(_ target: UnsafeMutablePointer<Float>, rows: Int, stride: Int, bias: UnsafePointer<Float>?) {
        for row in 0..<rows {
            if let bias {
                (target + row * stride).update(from: bias, count: outChannels)
            } else {
                (target + row * stride).update(repeating: 0, count: outChannels)
            }
        }
    }

    /// Sets to zero the first `channels` floats of every border pixel among the padded pixels `pixels`.
    static func zeroBorderPixels(_ buffer: UnsafeMutablePointer<Float>, _ layout: FeatureMapLayout,
                                 pixels: Range<Int>, channels: Int) {
        guard layout.border > 0 else { return }
        let paddedWidth = layout.paddedWidth, paddedHeight = layout.paddedHeight, border = layout.border
        var pixel = pixels.lowerBound
        while pixel < pixels.upperBound {
            let column = pixel % paddedWidth
            let row = (pixel / paddedWidth) % paddedHeight
            let rowEnd = min(pixels.upperBound, pixel - column + paddedWidth)
            if row < border || row >= paddedHeight - border {
                for index in pixel..<rowEnd { (buffer + index * layout.pixelStride).update(repeating: 0, count: channels) }
            } else {
                // Border columns of an interior row: [0, border) and [border + width, paddedWidth).
                for index in pixel..<rowEnd {
                    let x = index - (pixel - column)
                    if x < border || x >= paddedWidth - border {
                        (buffer + index * layout.pixelStride).update(repeating: 0, count: channels)
                    }
                }
            }
            pixel = rowEnd
        }
    }

    /// Columns `x` of an output row whose input column `stride·x + dx − padding` is interior.
    func validColumns(tapColumn dx: Int, outputWidth: Int, inputWidth: Int) -> Range<Int> {
        // stride·x + dx − padding ≥ 0  and  < inputWidth
        let shift = dx - padding
        let low = shift >= 0 ? 0 : (-shift + stride - 1) / stride
        let highInput = inputWidth - 1 - shift
        let high = highInput < 0 ? -1 : min(outputWidth - 1, highInput / stride)
        return low <= high ? low..<(high + 1) : 0..<0
    }

    private func forwardByRows(input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                               weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout,
                               team: WorkerTeam?) {
        let bandsPerImage = (outputLayout.height + Self.bandRows - 1) / Self.bandRows
        let inStride = inputLayout.pixelStride, outStride = outputLayout.pixelStride
        Parallel.forEachTask(count: outputLayout.batch * bandsPerImage, on: team) { task in
            let image = task / bandsPerImage, band = task % bandsPerImage
            for y in (band * Self.bandRows)..<min(outputLayout.height, (band + 1) * Self.bandRows) {
                let target = output + outputLayout.offset(image: image, y: y, x: 0)
                fillRows(target, rows: outputLayout.width, stride: outStride, bias: bias)
                for tap in 0..<taps {
                    let inputY = stride * y + tap / kernelSize - padding
                    guard inputY >= 0 && inputY < inputLayout.height else { continue }
                    let dx = tap % kernelSize
                    let columns = validColumns(tapColumn: dx, outputWidth: outputLayout.width, inputWidth: inputLayout.width)
                    guard !columns.isEmpty else { continue }
                    let inputX = stride * columns.lowerBound + dx - padding
                    BLASBackend.sgemm(transposeB: true, m: columns.count, n: outChannels, k: inChannels,
                                      a: input + inputLayout.offset(image: image, y: inputY, x: inputX),
                                      leadingA: stride * inStride, b: weights + tap * outChannels * inChannels,
                                      leadingB: inChannels, beta: 1, c: target + columns.lowerBound * outStride,
                                      leadingC: outStride)
                }
            }
        }
    }
}
