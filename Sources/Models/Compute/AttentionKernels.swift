// Register-blocked kernels for one attention head of width 64, on 16-lane vectors.
//
// OpenBLAS runs the two attention products (K = 64 for the scores, N = 64 for the output) at
// ~120 GFLOP/s per core, against ~145 for the square products of the linear layers, because
// every call re-packs its operands. Here the keys of a head are packed once per head into
// tiles of 32 and its values copied contiguous, the queries packed once per block of rows. With `-target-cpu` of an AVX-512 machine a
// `SIMD16<Float>` is one zmm register and each micro-tile keeps 24 accumulators in registers;
// elsewhere the vectors split in two and the tiles spill, so the Makefile enables this path
// (`-D XRBENCH_WIDE_VECTORS`) only where the CPU has AVX-512.

/// Query rows per score micro-tile; keys per score micro-tile (two vectors).
private let scoreTileRows = 12
private let scoreTileKeys = 32
/// Query rows per output micro-tile (each row's 64 outputs are four vectors).
private let outputTileRows = 6
/// Query rows per block: the scores of a block (`[48, T]`, 260 KB at T = 1370) stay in L2.
private let attentionKernelRowBlock = 48
/// The head width the kernels are written for (every DINOv2 size: S, B, L and g).
let attentionKernelHeadWidth = 64

/// Floats of per-worker scratch the kernels need for `tokens` tokens: the packed keys
/// (`[T rounded up to 32, 64]`), the values (`[T, 64]`), one block of packed queries, the
/// lane-wise row maxima and one block of scores.
func attentionKernelScratchCount(tokens: Int) -> Int {
    let paddedTokens = roundUp(tokens, to: scoreTileKeys)
    return 2 * paddedTokens * attentionKernelHeadWidth
        + attentionKernelRowBlock * (attentionKernelHeadWidth + 16)
        + attentionKernelRowBlock * paddedTokens
}

@inline(__always)
private func roundUp(_ value: Int, to multiple: Int) -> Int {
    (value + multiple - 1) / multiple * multiple
}

/// Attention for one head of one image: `output[i] = softmax(scale * q_i K^T) V` for all `T`
/// query rows.
///
/// - Parameters:
///   - queries, keys, values: the head's first element in row 0 of each; rows `leading` apart.
///   - output: the head's first output element in row 0; rows `outputLeading` apart.
///   - scratch: `attentionKernelScratchCount(tokens:)` floats.
func attentionHead64(
    queries: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
    leading: Int, tokens: Int, scale: Float,
    output: UnsafeMutablePointer<Float>, outputLeading: Int,
    scratch: UnsafeMutablePointer<Float>
) {
    let depth = attentionKernelHeadWidth
    let paddedTokens = roundUp(tokens, to: scoreTileKeys)
    let packedKeys = scratch
    let packedValues = packedKeys + paddedTokens * depth
    let packedQueries = packedValues + paddedTokens * depth
    let maxima = packedQueries + attentionKernelRowBlock * depth
    let scores = maxima + attentionKernelRowBlock * 16
    packKeyTiles(keys, leading: leading, tokens: tokens, into: packedKeys)
    // The value rows are 64 floats 3D apart in the QKV buffer: at T = 1370 one head's values
    // span 12.6 MB, more pages than the TLB holds, and the output tile stalled on every row.
    for token in 0..<tokens {
        (packedValues + token * depth).update(from: values + token * leading, count: depth)
    }

    var firstRow = 0
    while firstRow < tokens {
        let rows = min(attentionKernelRowBlock, tokens - firstRow)
        // Rows padded to whole micro-tiles: the padding queries are zero, their scores zero,
        // their probabilities uniform; their outputs are computed and never stored.
        let tileRows = roundUp(rows, to: scoreTileRows)
        packQueryTiles(queries + firstRow * leading, leading: leading, rows: rows, paddedRows: tileRows,
                       scale: scale, into: packedQueries)
        maxima.update(repeating: -.infinity, count: tileRows * 16)
        for tile in stride(from: 0, to: tileRows, by: scoreTileRows) {
            scoreTile(packedQueries + tile * depth, packedKeys: packedKeys, tokens: tokens,
                      into: scores + tile * paddedTokens, leading: paddedTokens, maxima: maxima + tile * 16)
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: tileRows) { inverses in
            for row in 0..<tileRows {
                let maximum = load16(maxima, row * 16).max()
                inverses[row] = 1 / exponentiateInPlace(scores + row * paddedTokens, count: tokens, subtracting: maximum)
            }
            var tile = 0
            while tile < rows {
                outputTile(probabilities: scores + tile * paddedTokens, leading: paddedTokens, tokens: tokens,
                           values: packedValues, valueLeading: depth, inverses: inverses.baseAddress! + tile,
                           rows: min(outputTileRows, rows - tile),
                           into: output + (firstRow + tile) * outputLeading, outputLeading: outputLeading)
                tile += outputTileRows
            }
        }
        firstRow += rows
    }
}

/// Packs `K^T` by tiles of 32 keys: tile `j` holds, for each of the 64 dimensions, the values
/// of keys `32j ..< 32j + 32` (zero past the last key).
private func packKeyTiles(_ keys: UnsafePointer<Float>, leading: Int, tokens: Int, into packed: UnsafeMutablePointer<Float>) {
    let depth = attentionKernelHeadWidth
    let tiles = roundUp(tokens, to: scoreTileKeys) / scoreTileKeys
    for tile in 0..<tiles {
        let destination = packed + tile * scoreTileKeys * depth
        for lane in 0..<scoreTileKeys {
            let key = tile * scoreTileKeys + lane
            if key < tokens {
                let source = keys + key * leading
                for dimension in 0..<depth { destination[dimension * scoreTileKeys + lane] = source[dimension] }
            } else {
                for dimension in 0..<depth { destination[dimension * scoreTileKeys + lane] = 0 }
            }
        }
    }
}

/// Packs `rows` query rows by tiles of 12, times `scale`: tile `i` holds, for each dimension,
/// the values of rows `12i ..< 12i + 12` (zero past `rows`, up to `paddedRows`). The scale of a
/// 64-wide head is 1/8, so scaling the queries rounds exactly as scaling the scores would.
private func packQueryTiles(
    _ queries: UnsafePointer<Float>, leading: Int, rows: Int, paddedRows: Int, scale: Float,
    into packed: UnsafeMutablePointer<Float>
) {
    let depth = attentionKernelHeadWidth
    for row in 0..<paddedRows {
        let destination = packed + (row / scoreTileRows) * scoreTileRows * depth + row % scoreTileRows
        if row < rows {
            let source = queries + row * leading
            for dimension in 0..<depth { destination[dimension * scoreTileRows] = source[dimension] * scale }
        } else {
            for dimension in 0..<depth { destination[dimension * scoreTileRows] = 0 }
        }
    }
}

/// `S[12, 32j ..< 32j + 32] = Q_tile K_j^T` (queries already scaled) for every key tile `j`:
/// 24 accumulators, two key vectors and twelve broadcast queries per dimension. Each row's
/// running maximum over the real keys is kept lane-wise in `maxima` (`[12, 16]`, to be
/// initialised to -inf), which saves the softmax a pass over the scores.
@inline(never)
private func scoreTile(
    _ queries: UnsafePointer<Float>, packedKeys: UnsafePointer<Float>, tokens: Int,
    into scores: UnsafeMutablePointer<Float>, leading: Int, maxima: UnsafeMutablePointer<Float>
) {
    let depth = attentionKernelHeadWidth
    let keyTiles = roundUp(tokens, to: scoreTileKeys) / scoreTileKeys
    for keyTile in 0..<keyTiles {
        let keys = packedKeys + keyTile * scoreTileKeys * depth
        var a0 = Vector16(), b0 = Vector16(), a1 = Vector16(), b1 = Vector16()
        var a2 = Vector16(), b2 = Vector16(), a3 = Vector16(), b3 = Vector16()
        var a4 = Vector16(), b4 = Vector16(), a5 = Vector16(), b5 = Vector16()
        var a6 = Vector16(), b6 = Vector16(), a7 = Vector16(), b7 = Vector16()
        var a8 = Vector16(), b8 = Vector16(), a9 = Vector16(), b9 = Vector16()
        var a10 = Vector16(), b10 = Vector16(), a11 = Vector16(), b11 = Vector16()
        var dimension = 0
        while dimension < depth {
            let k0 = load16(keys, dimension &* scoreTileKeys)
            let k1 = load16(keys, dimension &* scoreTileKeys &+ 16)
            let q = queries + dimension &* scoreTileRows
            var s = Vector16(repeating: q[0]); a0.addProduct(s, k0); b0.addProduct(s, k1)
            s = Vector16(repeating: q[1]); a1.addProduct(s, k0); b1.addProduct(s, k1)
            s = Vector16(repeating: q[2]); a2.addProduct(s, k0); b2.addProduct(s, k1)
            s = Vector16(repeating: q[3]); a3.addProduct(s, k0); b3.addProduct(s, k1)
            s = Vector16(repeating: q[4]); a4.addProduct(s, k0); b4.addProduct(s, k1)
            s = Vector16(repeating: q[5]); a5.addProduct(s, k0); b5.addProduct(s, k1)
            s = Vector16(repeating: q[6]); a6.addProduct(s, k0); b6.addProduct(s, k1)
            s = Vector16(repeating: q[7]); a7.addProduct(s, k0); b7.addProduct(s, k1)
            s = Vector16(repeating: q[8]); a8.addProduct(s, k0); b8.addProduct(s, k1)
            s = Vector16(repeating: q[9]); a9.addProduct(s, k0); b9.addProduct(s, k1)
            s = Vector16(repeating: q[10]); a10.addProduct(s, k0); b10.addProduct(s, k1)
            s = Vector16(repeating: q[11]); a11.addProduct(s, k0); b11.addProduct(s, k1)
            dimension &+= 1
        }
        // Keys past the last one (zero padding) are left out of the row maxima.
        let lastTile = keyTile == keyTiles - 1
        let validKeys = Float(keysInTile(keyTile, tokens: tokens))
        let paddingA = laneIndices .>= Vector16(repeating: validKeys)
        let paddingB = laneIndices .>= Vector16(repeating: validKeys - 16)
        let destination = scores + keyTile &* scoreTileKeys
        storeScores(a0, b0, destination, maxima, lastTile, paddingA, paddingB)
        storeScores(a1, b1, destination + leading, maxima + 16, lastTile, paddingA, paddingB)
        storeScores(a2, b2, destination + 2 * leading, maxima + 32, lastTile, paddingA, paddingB)
        storeScores(a3, b3, destination + 3 * leading, maxima + 48, lastTile, paddingA, paddingB)
        storeScores(a4, b4, destination + 4 * leading, maxima + 64, lastTile, paddingA, paddingB)
        storeScores(a5, b5, destination + 5 * leading, maxima + 80, lastTile, paddingA, paddingB)
        storeScores(a6, b6, destination + 6 * leading, maxima + 96, lastTile, paddingA, paddingB)
        storeScores(a7, b7, destination + 7 * leading, maxima + 112, lastTile, paddingA, paddingB)
        storeScores(a8, b8, destination + 8 * leading, maxima + 128, lastTile, paddingA, paddingB)
        storeScores(a9, b9, destination + 9 * leading, maxima + 144, lastTile, paddingA, paddingB)
        storeScores(a10, b10, destination + 10 * leading, maxima + 160, lastTile, paddingA, paddingB)
        storeScores(a11, b11, destination + 11 * leading, maxima + 176, lastTile, paddingA, paddingB)
    }
}

/// Stores one row of a score tile and folds it into the row's lane-wise maximum (without the
/// padding keys of the last tile).
/// (`@_transparent`: with `@inline(__always)` it stayed a call, and the tile's accumulators spilled.)
@_transparent
private func storeScores(
    _ a: Vector16, _ b: Vector16, _ destination: UnsafeMutablePointer<Float>,
    _ maximum: UnsafeMutablePointer<Float>, _ masked: Bool, _ paddingA: SIMDMask<Vector16.MaskStorage>,
    _ paddingB: SIMDMask<Vector16.MaskStorage>
) {
    store16(a, destination, 0)
    store16(b, destination, 16)
    let tileMaximum = masked
        ? max16(a.replacing(with: -.infinity, where: paddingA), b.replacing(with: -.infinity, where: paddingB))
        : max16(a, b)
    store16(max16(load16(maximum, 0), tileMaximum), maximum, 0)
}

/// 0, 1, ..., 15.
private let laneIndices = Vector16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

@inline(__always)
private func keysInTile(_ tile: Int, tokens: Int) -> Int {
    min(scoreTileKeys, tokens - tile * scoreTileKeys)
}

/// `O[6, 64] = P[6, T] V[T, 64]`, each row then multiplied by its `inverses` entry; stores the
/// first `rows` rows. 24 accumulators, four value vectors and six broadcast probabilities per key.
@inline(never)
private func outputTile(
    probabilities: UnsafePointer<Float>, leading: Int, tokens: Int,
    values: UnsafePointer<Float>, valueLeading: Int, inverses: UnsafePointer<Float>, rows: Int,
    into output: UnsafeMutablePointer<Float>, outputLeading: Int
) {
    var a0 = Vector16(), b0 = Vector16(), c0 = Vector16(), d0 = Vector16()
    var a1 = Vector16(), b1 = Vector16(), c1 = Vector16(), d1 = Vector16()
    var a2 = Vector16(), b2 = Vector16(), c2 = Vector16(), d2 = Vector16()
    var a3 = Vector16(), b3 = Vector16(), c3 = Vector16(), d3 = Vector16()
    var a4 = Vector16(), b4 = Vector16(), c4 = Vector16(), d4 = Vector16()
    var a5 = Vector16(), b5 = Vector16(), c5 = Vector16(), d5 = Vector16()
    let p0 = probabilities, p1 = p0 + leading, p2 = p1 + leading
    let p3 = p2 + leading, p4 = p3 + leading, p5 = p4 + leading
    var token = 0
    while token < tokens {
        let v = values + token &* valueLeading
        let v0 = load16(v, 0), v1 = load16(v, 16), v2 = load16(v, 32), v3 = load16(v, 48)
        var s = Vector16(repeating: p0[token])
        a0.addProduct(s, v0); b0.addProduct(s, v1); c0.addProduct(s, v2); d0.addProduct(s, v3)
        s = Vector16(repeating: p1[token])
        a1.addProduct(s, v0); b1.addProduct(s, v1); c1.addProduct(s, v2); d1.addProduct(s, v3)
        s = Vector16(repeating: p2[token])
        a2.addProduct(s, v0); b2.addProduct(s, v1); c2.addProduct(s, v2); d2.addProduct(s, v3)
        s = Vector16(repeating: p3[token])
        a3.addProduct(s, v0); b3.addProduct(s, v1); c3.addProduct(s, v2); d3.addProduct(s, v3)
        s = Vector16(repeating: p4[token])
        a4.addProduct(s, v0); b4.addProduct(s, v1); c4.addProduct(s, v2); d4.addProduct(s, v3)
        s = Vector16(repeating: p5[token])
        a5.addProduct(s, v0); b5.addProduct(s, v1); c5.addProduct(s, v2); d5.addProduct(s, v3)
        token &+= 1
    }
    let inverse = inverses
    storeScaledRow(a0, b0, c0, d0, inverse[0], output)
    if rows > 1 { storeScaledRow(a1, b1, c1, d1, inverse[1], output + outputLeading) }
    if rows > 2 { storeScaledRow(a2, b2, c2, d2, inverse[2], output + 2 * outputLeading) }
    if rows > 3 { storeScaledRow(a3, b3, c3, d3, inverse[3], output + 3 * outputLeading) }
    if rows > 4 { storeScaledRow(a4, b4, c4, d4, inverse[4], output + 4 * outputLeading) }
    if rows > 5 { storeScaledRow(a5, b5, c5, d5, inverse[5], output + 5 * outputLeading) }
}

@inline(__always)
private func storeScaledRow(
    _ a: Vector16, _ b: Vector16, _ c: Vector16, _ d: Vector16, _ factor: Float, _ destination: UnsafeMutablePointer<Float>
) {
    store16(a * factor, destination, 0); store16(b * factor, destination, 16)
    store16(c * factor, destination, 32); store16(d * factor, destination, 48)
}
