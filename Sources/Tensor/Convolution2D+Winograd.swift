// Winograd F(2×2, 3×3) for stride-1, padding-1 3×3 convolutions (transforms in
// WinogradTransforms.swift).
//
// The direct path multiplies 9 taps per output pixel; Winograd multiplies 16 transformed taps per
// 2×2 output block, 2.25× fewer multiply-adds (2.13× at 37×37, whose last row and column of blocks
// are half empty). Per task of `winogradTiles` blocks: the input tiles are transformed into
// `[16, tiles, Cin]`, each of the 16 positions is one product `[tiles, Cin]·[Cin, Cout]` (the
// register-tiled kernels on AVX-512 builds, OpenBLAS elsewhere), and the output transform writes
// the blocks' pixels. The input gradient is the same pass on the output gradient with the filters
// flipped and transposed. The weight gradient transforms input tiles and output-gradient blocks
// the same way and sums `∂M_pᵀ·V_p` over tiles, in `winogradWeightParts` fixed parts added in
// order. Tiles that reach past the map read zeros and write nothing there, so any layout works
// (no border needed). Task shapes depend on the problem only: results are bit-identical across
// thread counts, as on the direct path.

extension Convolution2D {
    /// How a pass computes its products.
    enum Algorithm: Sendable, CaseIterable {
        /// Per-tap products over pixels (Convolution2D.swift, Convolution2D+Backward.swift).
        case direct
        /// Winograd F(2×2, 3×3); only for 3×3 kernels with stride 1 and padding 1.
        case winograd
    }

    /// 2×2 output blocks per task of the forward and input-gradient passes.
    static let winogradTiles = 96
    /// Blocks per product of the weight gradient (its K), and the fixed parts its sum is cut into.
    static let winogradWeightTiles = 192
    static let winogradWeightParts = 4

    /// Whether Winograd F(2×2, 3×3) computes this geometry: a 3×3 kernel, stride 1, padding 1.
    var supportsWinograd: Bool { kernelSize == 3 && stride == 1 && padding == 1 }

    /// Channels (both ways) from which the public passes use Winograd.
    static let winogradMinimumChannels = 128

    /// The algorithm the public passes use on a `height × width` map: Winograd where this geometry
    /// supports it, both channel counts are at least `winogradMinimumChannels` and the 2×2 blocks
    /// waste little of the map (16 products per block at most 0.6 of the direct path's 9 per
    /// pixel: 37×37 is 0.47, 5×5 0.64, 1×1 1.8). The channel bound: Winograd is measured faster
    /// at 192 and 384 channels on 37×37 maps (`make bench BENCH=patchheads`) and at 512–2,816 on
    /// UPerNet's 19–148-px maps (`BENCH=dense`); below 128 it is not measured, and the direct path keeps the demo's narrow heads and decoders (48–96 channels)
    /// on the arithmetic their cached results were computed with. It depends on the problem only,
    /// never on the thread count.
    func preferredAlgorithm(height: Int, width: Int) -> Algorithm {
        guard supportsWinograd, min(inChannels, outChannels) >= Self.winogradMinimumChannels, height > 0, width > 0 else {
            return .direct
        }
        let blocks = ((height + 1) / 2) * ((width + 1) / 2)
        return 16 * blocks * 5 <= 3 * 9 * height * width ? .winograd : .direct
    }

    /// Transformed filters `[16, K, N]` from packed weights `[9, Cout, Cin]`: for the forward
    /// K = Cin, N = Cout; `flipped` (the input gradient's correlation) K = Cout, N = Cin and the
    /// taps reversed. The caller deallocates.
    func winogradFilters(_ packed: UnsafePointer<Float>, flipped: Bool, team: WorkerTeam?) -> UnsafeMutablePointer<Float> {
        let depth = flipped ? outChannels : inChannels, columns = flipped ? inChannels : outChannels
        let plane = depth * columns, tapSize = outChannels * inChannels
        let filters = UnsafeMutablePointer<Float>.allocate(capacity: 16 * plane)
        Parallel.forEachTask(count: depth, on: team) { k in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 9) { buffer in
                let g = buffer.baseAddress!
                for n in 0..<columns {
                    // forward: g = W[n (out), k (in)]; flipped: g[tap] = W[k (out), n (in)][8 − tap]
                    let source = flipped ? packed + k * inChannels + n : packed + n * inChannels + k
                    for tap in 0..<9 { g[tap] = source[(flipped ? 8 - tap : tap) * tapSize] }
                    transformWinogradFilter(g, into: filters + k * columns + n, stride: plane)
                }
            }
        }
        return filters
    }

    /// `target (+)= source ⋆ filters (+ bias)`: the 3×3 correlation with padding 1 of `source`
    /// (`depth` channels) with transformed `filters` `[16, depth, columns]`, into `target`
    /// (`columns` channels, same size). Writes the interior only; `accumulate` adds to it.
    func winogradPass(source: UnsafePointer<Float>, _ sourceLayout: FeatureMapLayout, filters: UnsafePointer<Float>,
                      bias: UnsafePointer<Float>?, target: UnsafeMutablePointer<Float>, _ targetLayout: FeatureMapLayout,
                      accumulate: Bool, team: WorkerTeam?, routine: ProductRoutine) {
        let depth = sourceLayout.channels, columns = targetLayout.channels
        let grid = WinogradGrid(sourceLayout)
        let taskTiles = Self.winogradTiles
        let tasks = (grid.count + taskTiles - 1) / taskTiles
        let workers = Parallel.workerCount(tasks: tasks, on: team)
        let transformed = UnsafeMutablePointer<Float>.allocate(capacity: workers * 16 * taskTiles * depth)
        let products = UnsafeMutablePointer<Float>.allocate(capacity: workers * 16 * taskTiles * columns)
        let scratch = (0..<workers).map { _ in WinogradScratch(tile: routine == .tiled) }
        defer {
            transformed.deallocate()
            products.deallocate()
        }
        Parallel.forEachTask(count: tasks, on: team) { task, worker in
            let first = task * taskTiles, count = min(taskTiles, grid.count - first)
            let v = transformed + worker * 16 * taskTiles * depth, m = products + worker * 16 * taskTiles * columns
            let work = scratch[worker]
            Self.transformInputTiles(source, sourceLayout, grid: grid, first: first, count: count, into: v,
                                     positionStride: taskTiles * depth, scratch: work)
            // M[p] = V[p] · U[p], [count, depth]·[depth, columns]
            for position in 0..<16 {
                let a = v + position * taskTiles * depth, b = filters + position * depth * columns
                let c = m + position * taskTiles * columns
                if routine == .tiled {
                    accumulateTapProducts(rows: count, depth: depth, columns: columns, a: a, aRow: depth, tapOffsets: [0],
                                          b: b, c: c, cRow: columns, overwrite: true, scratch: work.tile!)
                } else {
                    BLASBackend.sgemm(m: count, n: columns, k: depth, a: a, leadingA: depth, b: b, leadingB: columns,
                                      c: c, leadingC: columns)
                }
            }
            // Y = Aᵀ M A per block, plus bias or what the target holds.
            for tile in 0..<count {
                let block = grid.block(first + tile)
                var channel = 0
                while channel < columns {
                    let lanes = min(Vector.scalarCount, columns - channel)
                    for position in 0..<16 {
                        let source = m + (position * taskTiles + tile) * columns + channel
                        work.vectors[position] = lanes == Vector.scalarCount ? loadVector(source) : loadPartialVector(source, count: lanes)
                    }
                    let (y00, y01, y10, y11) = transformWinogradOutput(work.vectors)
                    let base = bias.map { lanes == Vector.scalarCount ? loadVector($0 + channel) : loadPartialVector($0 + channel, count: lanes) }
                    @inline(__always) func write(_ value: Vector, _ y: Int, _ x: Int) {
                        guard y < targetLayout.height && x < targetLayout.width else { return }
                        let pixel = target + targetLayout.offset(image: block.image, y: y, x: x) + channel
                        var result = value
                        if let base { result += base }
                        if accumulate {
                            result += lanes == Vector.scalarCount ? loadVector(pixel) : loadPartialVector(pixel, count: lanes)
                        }
                        if lanes == Vector.scalarCount { storeVector(result, pixel) } else { storePartialVector(result, pixel, count: lanes) }
                    }
                    write(y00, block.y, block.x)
                    write(y01, block.y, block.x + 1)
                    write(y10, block.y + 1, block.x)
                    write(y11, block.y + 1, block.x + 1)
                    channel += lanes
                }
            }
        }
    }
}

extension Convolution2D {
    /// `V[p, tile, ·] = (Bᵀ d B)[p]` for blocks `first ..< first + count` of `grid`: the input
    /// tiles of `source` (all its channels), position p of tile t at `v + p·positionStride + t·channels`.
    static func transformInputTiles(_ source: UnsafePointer<Float>, _ layout: FeatureMapLayout, grid: WinogradGrid,
                                    first: Int, count: Int, into v: UnsafeMutablePointer<Float>, positionStride: Int,
                                    scratch work: WinogradScratch) {
        let depth = layout.channels
        for tile in 0..<count {
            grid.inputOffsets(tile: first + tile, layout, into: work.offsets)
            var channel = 0
            while channel < depth {
                let lanes = min(Vector.scalarCount, depth - channel)
                loadWinogradTile(source, offsets: work.offsets, channel: channel, lanes: lanes, into: work.vectors)
                transformWinogradInput(work.vectors)
                storeWinogradTile(work.vectors, into: v + tile * depth + channel, positionStride: positionStride, lanes: lanes)
                channel += lanes
            }
        }
    }

    /// `∂M[p, tile, ·] = (A ∂Y Aᵀ)[p]` for blocks `first ..< first + count` of `grid`: the 2×2
    /// output-gradient blocks of `gradient` (zero past the map), laid out as `transformInputTiles`'s.
    static func transformGradientBlocks(_ gradient: UnsafePointer<Float>, _ layout: FeatureMapLayout, grid: WinogradGrid,
                                        first: Int, count: Int, into m: UnsafeMutablePointer<Float>, positionStride: Int,
                                        scratch work: WinogradScratch) {
        let channels = layout.channels
        for tile in 0..<count {
            let block = grid.block(first + tile)
            var channel = 0
            while channel < channels {
                let lanes = min(Vector.scalarCount, channels - channel)
                @inline(__always) func load(_ y: Int, _ x: Int) -> Vector {
                    guard y < layout.height && x < layout.width else { return Vector() }
                    let pixel = gradient + layout.offset(image: block.image, y: y, x: x) + channel
                    return lanes == Vector.scalarCount ? loadVector(pixel) : loadPartialVector(pixel, count: lanes)
                }
                transformWinogradGradient(load(block.y, block.x), load(block.y, block.x + 1),
                                          load(block.y + 1, block.x), load(block.y + 1, block.x + 1), into: work.vectors)
                storeWinogradTile(work.vectors, into: m + tile * channels + channel, positionStride: positionStride, lanes: lanes)
                channel += lanes
            }
        }
    }

    @inline(__always)
    static func storeWinogradTile(_ tile: UnsafePointer<Vector>, into destination: UnsafeMutablePointer<Float>,
                                  positionStride: Int, lanes: Int) {
        for position in 0..<16 {
            if lanes == Vector.scalarCount {
                storeVector(tile[position], destination + position * positionStride)
            } else {
                storePartialVector(tile[position], destination + position * positionStride, count: lanes)
            }
        }
    }
}

/// The 2×2 output blocks of a map (over the batch, row-major within each image) and the 4×4
/// input tiles around them.
struct WinogradGrid {
    let rows: Int, columns: Int, batch: Int

    init(_ layout: FeatureMapLayout) {
        rows = (layout.height + 1) / 2
        columns = (layout.width + 1) / 2
        batch = layout.batch
    }

    /// Blocks over the batch.
    var count: Int { batch * rows * columns }

    /// Image and top-left output pixel of block `index`.
    @inline(__always)
    func block(_ index: Int) -> (image: Int, y: Int, x: Int) {
        let perImage = rows * columns, within = index % perImage
        return (index / perImage, 2 * (within / columns), 2 * (within % columns))
    }

    /// Offsets in `layout` of the 16 input pixels of block `index`'s tile (rows y − 1 … y + 2,
    /// columns x − 1 … x + 2), −1 for those outside the map.
    @inline(__always)
    func inputOffsets(tile index: Int, _ layout: FeatureMapLayout, into offsets: UnsafeMutablePointer<Int>) {
        let (image, top, left) = block(index)
        for row in 0..<4 {
            let y = top - 1 + row
            for column in 0..<4 {
                let x = left - 1 + column
                let inside = y >= 0 && y < layout.height && x >= 0 && x < layout.width
                offsets[4 * row + column] = inside ? layout.offset(image: image, y: y, x: x) : -1
            }
        }
    }
}

/// One worker's small buffers for the Winograd passes.
final class WinogradScratch {
    let offsets: UnsafeMutablePointer<Int>
    let vectors: UnsafeMutablePointer<Vector>
    let tile: TileScratch?

    init(tile: Bool) {
        offsets = .allocate(capacity: 16)
        offsets.initialize(repeating: -1, count: 16)
        vectors = .allocate(capacity: 16)
        vectors.initialize(repeating: Vector(), count: 16)
        self.tile = tile ? TileScratch() : nil
    }

    deinit {
        offsets.deallocate()
        vectors.deallocate()
    }
}
