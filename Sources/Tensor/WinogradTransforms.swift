// The transforms of Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2016, "Fast
// Algorithms for Convolutional Neural Networks", section 4.1), on 16-lane vectors of channels.
//
// A 2×2 block of a stride-1 3×3 correlation is Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, d the 4×4 input
// tile around it (one pixel of padding on each side), with
//     Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
//     Aᵀ = [1 1 1 0; 0 1 −1 −1].
// Each product is a sum over channels, so the 16 element-wise products of one tile become 16
// matrix products over all tiles and channels. The weight gradient follows the same linear map
// backwards: ∂L/∂M = A ∂Y Aᵀ per tile, ∂L/∂U = Σ_tiles ∂L/∂M ⊙ V per channel pair, and
// ∂L/∂g = Gᵀ ∂L/∂U G. Every coefficient is 0, ±1 or ±½, so the transforms add no rounding beyond
// their additions (halving is exact).

/// `(a − c, b + c, c − b, b − d)`: one line of `Bᵀ d` (or of `t B`).
@inline(__always)
func winogradInputLine(_ a: Vector, _ b: Vector, _ c: Vector, _ d: Vector) -> (Vector, Vector, Vector, Vector) {
    (a - c, b + c, c - b, b - d)
}

/// `(a + b + c, b − c − d)`: one line of `Aᵀ m` (or of `s A`).
@inline(__always)
func winogradOutputLine(_ a: Vector, _ b: Vector, _ c: Vector, _ d: Vector) -> (Vector, Vector) {
    (a + b + c, b - c - d)
}

/// `(a, a + b, a − b, −b)`: one line of `A y` (or of `r Aᵀ`), for the weight gradient.
@inline(__always)
func winogradGradientLine(_ a: Vector, _ b: Vector) -> (Vector, Vector, Vector, Vector) {
    (a, a + b, a - b, -b)
}

/// `(a, (a + b + c)/2, (a − b + c)/2, c)`: one line of `G g` (or of `t Gᵀ`).
@inline(__always)
func winogradFilterLine(_ a: Float, _ b: Float, _ c: Float) -> (Float, Float, Float, Float) {
    let sum = a + c
    return (a, (sum + b) * 0.5, (sum - b) * 0.5, c)
}

/// `(a + (b + c)/2, (b − c)/2, (b + c)/2 + d)`: one line of `Gᵀ u` (or of `t G`), for the weight gradient.
@inline(__always)
func winogradFilterGradientLine(_ a: Float, _ b: Float, _ c: Float, _ d: Float) -> (Float, Float, Float) {
    let half = (b + c) * 0.5
    return (a + half, (b - c) * 0.5, half + d)
}

/// Loads 16 vectors of channels `[channel, channel + lanes)` from the 16 pixels at `offsets`
/// (row-major 4×4; a negative offset is a pixel outside the map and loads zeros).
@inline(__always)
func loadWinogradTile(_ base: UnsafePointer<Float>, offsets: UnsafePointer<Int>, channel: Int, lanes: Int,
                      into tile: UnsafeMutablePointer<Vector>) {
    for index in 0..<16 {
        let offset = offsets[index]
        if offset < 0 {
            tile[index] = Vector()
        } else if lanes == Vector.scalarCount {
            tile[index] = loadVector(base + offset + channel)
        } else {
            tile[index] = loadPartialVector(base + offset + channel, count: lanes)
        }
    }
}

/// `tile ← Bᵀ tile B` in place (row-major 4×4 of vectors).
@inline(__always)
func transformWinogradInput(_ tile: UnsafeMutablePointer<Vector>) {
    for column in 0..<4 {
        let (r0, r1, r2, r3) = winogradInputLine(tile[column], tile[4 + column], tile[8 + column], tile[12 + column])
        tile[column] = r0; tile[4 + column] = r1; tile[8 + column] = r2; tile[12 + column] = r3
    }
    for row in 0..<4 {
        let line = tile + 4 * row
        let (c0, c1, c2, c3) = winogradInputLine(line[0], line[1], line[2], line[3])
        line[0] = c0; line[1] = c1; line[2] = c2; line[3] = c3
    }
}

/// `Aᵀ tile A` of a row-major 4×4 of vectors: the 2×2 output block, row-major.
@inline(__always)
func transformWinogradOutput(_ tile: UnsafePointer<Vector>) -> (Vector, Vector, Vector, Vector) {
    let (a0, b0) = winogradOutputLine(tile[0], tile[4], tile[8], tile[12])
    let (a1, b1) = winogradOutputLine(tile[1], tile[5], tile[9], tile[13])
    let (a2, b2) = winogradOutputLine(tile[2], tile[6], tile[10], tile[14])
    let (a3, b3) = winogradOutputLine(tile[3], tile[7], tile[11], tile[15])
    let (y00, y01) = winogradOutputLine(a0, a1, a2, a3)
    let (y10, y11) = winogradOutputLine(b0, b1, b2, b3)
    return (y00, y01, y10, y11)
}

/// `A block Aᵀ` of a row-major 2×2 block of vectors into a row-major 4×4 `tile`.
@inline(__always)
func transformWinogradGradient(_ y00: Vector, _ y01: Vector, _ y10: Vector, _ y11: Vector,
                               into tile: UnsafeMutablePointer<Vector>) {
    let (r00, r10, r20, r30) = winogradGradientLine(y00, y10)
    let (r01, r11, r21, r31) = winogradGradientLine(y01, y11)
    (tile[0], tile[1], tile[2], tile[3]) = winogradGradientLine(r00, r01)
    (tile[4], tile[5], tile[6], tile[7]) = winogradGradientLine(r10, r11)
    (tile[8], tile[9], tile[10], tile[11]) = winogradGradientLine(r20, r21)
    (tile[12], tile[13], tile[14], tile[15]) = winogradGradientLine(r30, r31)
}

/// `G g Gᵀ` of a row-major 3×3 filter `g`, stored row-major 4×4 at `u[position · stride]`.
@inline(__always)
func transformWinogradFilter(_ g: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>, stride: Int) {
    let (a0, a1, a2, a3) = winogradFilterLine(g[0], g[3], g[6])
    let (b0, b1, b2, b3) = winogradFilterLine(g[1], g[4], g[7])
    let (c0, c1, c2, c3) = winogradFilterLine(g[2], g[5], g[8])
    (u[0], u[stride], u[2 * stride], u[3 * stride]) = winogradFilterLine(a0, b0, c0)
    (u[4 * stride], u[5 * stride], u[6 * stride], u[7 * stride]) = winogradFilterLine(a1, b1, c1)
    (u[8 * stride], u[9 * stride], u[10 * stride], u[11 * stride]) = winogradFilterLine(a2, b2, c2)
    (u[12 * stride], u[13 * stride], u[14 * stride], u[15 * stride]) = winogradFilterLine(a3, b3, c3)
}

/// `Gᵀ u G` of a row-major 4×4 `u` (position p at `u[p · stride]`): the 3×3 filter gradient,
/// row-major, into `g`.
@inline(__always)
func transformWinogradFilterGradient(_ u: UnsafePointer<Float>, stride: Int, into g: UnsafeMutablePointer<Float>) {
    let (a0, a1, a2) = winogradFilterGradientLine(u[0], u[4 * stride], u[8 * stride], u[12 * stride])
    let (b0, b1, b2) = winogradFilterGradientLine(u[stride], u[5 * stride], u[9 * stride], u[13 * stride])
    let (c0, c1, c2) = winogradFilterGradientLine(u[2 * stride], u[6 * stride], u[10 * stride], u[14 * stride])
    let (d0, d1, d2) = winogradFilterGradientLine(u[3 * stride], u[7 * stride], u[11 * stride], u[15 * stride])
    (g[0], g[1], g[2]) = winogradFilterGradientLine(a0, b0, c0, d0)
    (g[3], g[4], g[5]) = winogradFilterGradientLine(a1, b1, c1, d1)
    (g[6], g[7], g[8]) = winogradFilterGradientLine(a2, b2, c2, d2)
}
