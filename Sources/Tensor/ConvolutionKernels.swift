// Register-tiled products for the convolution passes, on 16-lane vectors.
//
// OpenBLAS's sgemm runs with its AVX2 ("Haswell") kernels where the environment pins them
// (`OPENBLAS_CORETYPE=Haswell`) or where it does not know the CPU's AVX-512 (0.3.21 on AMD
// Zen 4/5), at half the AVX-512 rate; PyTorch's convolutions (oneDNN) use AVX-512 whatever BLAS
// does. With `-target-cpu` of an AVX-512 machine a `SIMD16<Float>` is one zmm register, and a
// 6 × 64 micro-tile keeps its 24 accumulators in registers: per step of K, four vector loads of
// B, six broadcasts of A and 24 fused multiply-adds (the shape of the attention kernels' output
// tile, Models/Compute/AttentionKernels.swift). The passes need no packing of A (pixel rows are
// read in place, any stride) and B is a weight copy made once per call, so nothing is re-packed
// per block as OpenBLAS does. Blocking: per chunk of 192 rows, per tap, per 256 of K, per panel
// of 64 columns, the tiles of 6 rows; the chunk's A (192 × 256 floats) and a B block (256 × 64)
// stay in L2. The Makefile enables these kernels (`-D XRBENCH_WIDE_VECTORS`) where the CPU has
// AVX-512; elsewhere the vectors split in two, the tile spills, and the passes use OpenBLAS.

/// Rows of a micro-tile; columns of a panel (four vectors).
let convolutionTileRows = 6
let convolutionPanelColumns = 64
/// Rows per cache chunk and K per cache block.
private let chunkRows = 192
private let blockDepth = 256

/// `C[6, 64] (+)= Σ_k A(i, k)·B(k, 0..<64)` for the first `rows` rows, where
/// `A(i, k) = a[i·aRow + k·aColumn]`, row k of B starts at `b + k·bRow`, row i of C at `c + i·cRow`.
/// Rows past `rows` repeat row 0 and are not stored. With `load` false C starts from zero.
@inline(never)
func convolutionTile(_ a: UnsafePointer<Float>, aRow: Int, aColumn: Int, _ b: UnsafePointer<Float>, bRow: Int, depth: Int,
                     _ c: UnsafeMutablePointer<Float>, cRow: Int, rows: Int, load: Bool) {
    typealias V = SIMD16<Float>
    var a0 = V(), b0 = V(), c0 = V(), d0 = V(), a1 = V(), b1 = V(), c1 = V(), d1 = V()
    var a2 = V(), b2 = V(), c2 = V(), d2 = V(), a3 = V(), b3 = V(), c3 = V(), d3 = V()
    var a4 = V(), b4 = V(), c4 = V(), d4 = V(), a5 = V(), b5 = V(), c5 = V(), d5 = V()
    let r1 = rows > 1 ? cRow : 0, r2 = rows > 2 ? 2 &* cRow : 0, r3 = rows > 3 ? 3 &* cRow : 0
    let r4 = rows > 4 ? 4 &* cRow : 0, r5 = rows > 5 ? 5 &* cRow : 0
    if load {
        a0 = loadVector(c); b0 = loadVector(c + 16); c0 = loadVector(c + 32); d0 = loadVector(c + 48)
        a1 = loadVector(c + r1); b1 = loadVector(c + r1 + 16); c1 = loadVector(c + r1 + 32); d1 = loadVector(c + r1 + 48)
        a2 = loadVector(c + r2); b2 = loadVector(c + r2 + 16); c2 = loadVector(c + r2 + 32); d2 = loadVector(c + r2 + 48)
        a3 = loadVector(c + r3); b3 = loadVector(c + r3 + 16); c3 = loadVector(c + r3 + 32); d3 = loadVector(c + r3 + 48)
        a4 = loadVector(c + r4); b4 = loadVector(c + r4 + 16); c4 = loadVector(c + r4 + 32); d4 = loadVector(c + r4 + 48)
        a5 = loadVector(c + r5); b5 = loadVector(c + r5 + 16); c5 = loadVector(c + r5 + 32); d5 = loadVector(c + r5 + 48)
    }
    let p0 = a, p1 = a + (rows > 1 ? aRow : 0), p2 = a + (rows > 2 ? 2 &* aRow : 0)
    let p3 = a + (rows > 3 ? 3 &* aRow : 0), p4 = a + (rows > 4 ? 4 &* aRow : 0), p5 = a + (rows > 5 ? 5 &* aRow : 0)
    var k = 0, offset = 0
    while k < depth {
        let row = b + k &* bRow
        let v0 = loadVector(row), v1 = loadVector(row + 16), v2 = loadVector(row + 32), v3 = loadVector(row + 48)
        var s = V(repeating: p0[offset]); a0.addProduct(s, v0); b0.addProduct(s, v1); c0.addProduct(s, v2); d0.addProduct(s, v3)
        s = V(repeating: p1[offset]); a1.addProduct(s, v0); b1.addProduct(s, v1); c1.addProduct(s, v2); d1.addProduct(s, v3)
        s = V(repeating: p2[offset]); a2.addProduct(s, v0); b2.addProduct(s, v1); c2.addProduct(s, v2); d2.addProduct(s, v3)
        s = V(repeating: p3[offset]); a3.addProduct(s, v0); b3.addProduct(s, v1); c3.addProduct(s, v2); d3.addProduct(s, v3)
        s = V(repeating: p4[offset]); a4.addProduct(s, v0); b4.addProduct(s, v1); c4.addProduct(s, v2); d4.addProduct(s, v3)
        s = V(repeating: p5[offset]); a5.addProduct(s, v0); b5.addProduct(s, v1); c5.addProduct(s, v2); d5.addProduct(s, v3)
        k &+= 1
        offset &+= aColumn
    }
    // Rows past `rows` alias row 0: store them first so that row 0's true values land last.
    storeVector(a5, c + r5); storeVector(b5, c + r5 + 16); storeVector(c5, c + r5 + 32); storeVector(d5, c + r5 + 48)
    storeVector(a4, c + r4); storeVector(b4, c + r4 + 16); storeVector(c4, c + r4 + 32); storeVector(d4, c + r4 + 48)
    storeVector(a3, c + r3); storeVector(b3, c + r3 + 16); storeVector(c3, c + r3 + 32); storeVector(d3, c + r3 + 48)
    storeVector(a2, c + r2); storeVector(b2, c + r2 + 16); storeVector(c2, c + r2 + 32); storeVector(d2, c + r2 + 48)
    storeVector(a1, c + r1); storeVector(b1, c + r1 + 16); storeVector(c1, c + r1 + 32); storeVector(d1, c + r1 + 48)
    storeVector(a0, c); storeVector(b0, c + 16); storeVector(c0, c + 32); storeVector(d0, c + 48)
}

/// Scratch of one worker: a zero-padded B panel and a C tile, for a last panel narrower than 64.
final class TileScratch {
    let panel: UnsafeMutablePointer<Float>   // [blockDepth, 64]
    let tile: UnsafeMutablePointer<Float>    // [6, 64]

    init() {
        panel = .allocate(capacity: blockDepth * convolutionPanelColumns)
        panel.initialize(repeating: 0, count: blockDepth * convolutionPanelColumns)
        tile = .allocate(capacity: convolutionTileRows * convolutionPanelColumns)
        tile.initialize(repeating: 0, count: convolutionTileRows * convolutionPanelColumns)
    }

    deinit {
        panel.deallocate()
        tile.deallocate()
    }
}

/// One tile whose C may be narrower than 64 columns (`width`): narrow tiles run through the
/// scratch tile (loaded from and stored back to the `width` valid columns).
@inline(__always)
private func tile(_ a: UnsafePointer<Float>, aRow: Int, aColumn: Int, _ b: UnsafePointer<Float>, bRow: Int, depth: Int,
                  _ c: UnsafeMutablePointer<Float>, cRow: Int, rows: Int, width: Int, load: Bool, scratch: TileScratch) {
    if width == convolutionPanelColumns {
        convolutionTile(a, aRow: aRow, aColumn: aColumn, b, bRow: bRow, depth: depth, c, cRow: cRow, rows: rows, load: load)
        return
    }
    let t = scratch.tile
    if load {
        for row in 0..<rows { (t + row * convolutionPanelColumns).update(from: c + row * cRow, count: width) }
    }
    convolutionTile(a, aRow: aRow, aColumn: aColumn, b, bRow: bRow, depth: depth, t, cRow: convolutionPanelColumns,
                    rows: rows, load: load)
    for row in 0..<rows { (c + row * cRow).update(from: t + row * convolutionPanelColumns, count: width) }
}

/// The B block `[depth, width]` of rows `bRow` apart, as read by the tiles: in place when it is a
/// whole panel, else copied into the scratch panel padded with zeros to 64 columns.
@inline(__always)
private func panelBlock(_ b: UnsafePointer<Float>, bRow: Int, depth: Int, width: Int,
                        scratch: TileScratch) -> (UnsafePointer<Float>, Int) {
    guard width < convolutionPanelColumns else { return (b, bRow) }
    for k in 0..<depth { (scratch.panel + k * convolutionPanelColumns).update(from: b + k * bRow, count: width) }
    return (UnsafePointer(scratch.panel), convolutionPanelColumns)
}

/// `C[rows, N] += Σ_tap A[rows + tapOffset, K]·B_tap[K, N]`: row r of C at `c + r·cRow`, row r of
/// A for a tap at `a + tapOffsets[tap] + r·aRow`, B `[taps, K, N]` with rows N apart. C must hold
/// its starting values (bias, zero or a sum to add to), unless `overwrite`: then C's values are
/// replaced by the sum.
func accumulateTapProducts(rows: Int, depth: Int, columns: Int, a: UnsafePointer<Float>, aRow: Int, tapOffsets: [Int],
                           b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, cRow: Int, overwrite: Bool = false,
                           scratch: TileScratch) {
    var firstRow = 0
    while firstRow < rows {
        let chunk = min(chunkRows, rows - firstRow)
        for (tap, tapOffset) in tapOffsets.enumerated() {
            var firstK = 0
            while firstK < depth {
                let blockK = min(blockDepth, depth - firstK)
                var firstColumn = 0
                while firstColumn < columns {
                    let width = min(convolutionPanelColumns, columns - firstColumn)
                    let (panel, panelRow) = panelBlock(b + (tap * depth + firstK) * columns + firstColumn, bRow: columns,
                                                       depth: blockK, width: width, scratch: scratch)
                    var row = 0
                    while row < chunk {
                        let tileRows = min(convolutionTileRows, chunk - row)
                        let r = firstRow + row
                        tile(a + tapOffset + r * aRow + firstK, aRow: aRow, aColumn: 1, panel, bRow: panelRow, depth: blockK,
                             c + r * cRow + firstColumn, cRow: cRow, rows: tileRows, width: width,
                             load: !overwrite || tap > 0 || firstK > 0, scratch: scratch)
                        row += convolutionTileRows
                    }
                    firstColumn += convolutionPanelColumns
                }
                firstK += blockK
            }
        }
        firstRow += chunk
    }
}

/// `C[M, N] = Σ_k A(i, k)·B(k, ·)` over `depth` steps (pixels), with `A(i, k) = a[i + k·aStride]`
/// (a pixel's output gradient, M channels contiguous) and row k of B at `b + k·bStride` (N
/// channels contiguous); C `[M, N]` dense, overwritten (added to with `accumulate`).
func weightGradientProduct(outputs m: Int, inputs n: Int, depth: Int, a: UnsafePointer<Float>, aStride: Int,
                           b: UnsafePointer<Float>, bStride: Int, c: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                           scratch: TileScratch) {
    guard depth > 0 else {
        if !accumulate { c.update(repeating: 0, count: m * n) }
        return
    }
    var firstK = 0
    while firstK < depth {
        let blockK = min(4 * blockDepth, depth - firstK)
        var firstColumn = 0
        while firstColumn < n {
            let width = min(convolutionPanelColumns, n - firstColumn)
            // A narrow last panel goes through the scratch panel, `blockDepth` steps at a time.
            let part = width < convolutionPanelColumns ? blockDepth : blockK
            var k = 0
            while k < blockK {
                let steps = min(part, blockK - k)
                let (panel, panelRow) = panelBlock(b + (firstK + k) * bStride + firstColumn, bRow: bStride, depth: steps,
                                                   width: width, scratch: scratch)
                weightTiles(m: m, a: a + (firstK + k) * aStride, aStride: aStride, panel: panel, panelRow: panelRow, depth: steps,
                            c: c + firstColumn, n: n, width: width, load: accumulate || firstK + k > 0, scratch: scratch)
                k += steps
            }
            firstColumn += convolutionPanelColumns
        }
        firstK += blockK
    }
}

/// The tiles of 6 output channels of one panel of the weight gradient.
@inline(__always)
private func weightTiles(m: Int, a: UnsafePointer<Float>, aStride: Int, panel: UnsafePointer<Float>, panelRow: Int, depth: Int,
                         c: UnsafeMutablePointer<Float>, n: Int, width: Int, load: Bool, scratch: TileScratch) {
    var row = 0
    while row < m {
        tile(a + row, aRow: 1, aColumn: aStride, panel, bRow: panelRow, depth: depth, c + row * n, cRow: n,
             rows: min(convolutionTileRows, m - row), width: width, load: load, scratch: scratch)
        row += convolutionTileRows
    }
}
