import Tensor

// Row-wise passes of the ViT forward, fused so that each activation buffer is read and written
// once per step: LayerNorm, bias + GELU, SwiGLU gating, bias + layer scale + residual, softmax.
// All work on raw row-major buffers; callers split rows across cores with `forEachRowChunk`.

/// Splits `rows` into contiguous chunks, one per core, and runs `body(range)` on each; passes
/// too small to repay a thread hand-off (`rows * costPerRow` below ~32k floats) run inline.
///
/// - Parameters:
///   - costPerRow: rough floats touched per row.
///   - team: the forward's worker team (nil: Dispatch); every row kernel below takes one.
@inline(__always)
func forEachRowChunk(rows: Int, costPerRow: Int, on team: WorkerTeam?, _ body: (Range<Int>) -> Void) {
    Parallel.forEachChunk(count: rows, minimumChunk: max(1, 32_768 / max(costPerRow, 1)), on: team, body)
}

/// LayerNorm over each row of `input` (`[rows, width]`, leading dimension `width`) into `output`.
///
/// Two passes over the row (mean, then variance of the centred values), as PyTorch does, so
/// rows with a large mean keep their precision.
func layerNormRows(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
    rows: Int, width: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, epsilon: Float,
    team: WorkerTeam? = nil
) {
    forEachRowChunk(rows: rows, costPerRow: 3 * width, on: team) { range in
        for row in range {
            let x = input + row * width
            let y = output + row * width
            let vectorEnd = width & ~7
            var sum8 = Vector8(repeating: 0)
            var i = 0
            while i < vectorEnd { sum8 += load8(x, i); i += 8 }
            var sum = sum8.sum()
            while i < width { sum += x[i]; i += 1 }
            let mean = sum / Float(width)
            var square8 = Vector8(repeating: 0)
            i = 0
            while i < vectorEnd {
                let centred = load8(x, i) - mean
                square8 = square8.addingProduct(centred, centred)
                i += 8
            }
            var square = square8.sum()
            while i < width { let c = x[i] - mean; square += c * c; i += 1 }
            let inverse = 1 / (square / Float(width) + epsilon).squareRoot()
            i = 0
            while i < vectorEnd {
                let normalised = (load8(x, i) - mean) * inverse
                store8(normalised * load8(weight, i) + load8(bias, i), y, i)
                i += 8
            }
            while i < width { y[i] = (x[i] - mean) * inverse * weight[i] + bias[i]; i += 1 }
        }
    }
}

/// Adds `bias` to each row of `buffer` (`[rows, width]`) in place, then applies exact GELU.
func addBiasGELURows(
    _ buffer: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>, team: WorkerTeam? = nil
) {
    forEachRowChunk(rows: rows, costPerRow: 2 * width, on: team) { range in
        for row in range {
            let x = buffer + row * width
            let vectorEnd = width & ~7
            var i = 0
            while i < vectorEnd { store8(gelu8(load8(x, i) + load8(bias, i)), x, i); i += 8 }
            while i < width { x[i] = gelu1(x[i] + bias[i]); i += 1 }
        }
    }
}

/// Adds `bias` to each row of `buffer` (`[rows, width]`) in place.
func addBiasRows(
    _ buffer: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>, team: WorkerTeam? = nil
) {
    forEachRowChunk(rows: rows, costPerRow: width, on: team) { range in
        for row in range {
            let x = buffer + row * width
            let vectorEnd = width & ~7
            var i = 0
            while i < vectorEnd { store8(load8(x, i) + load8(bias, i), x, i); i += 8 }
            while i < width { x[i] += bias[i]; i += 1 }
        }
    }
}

/// SwiGLU gating in place: each row of `buffer` holds `[gate | up]` (`2 * hidden` wide, before
/// bias); the first `hidden` floats become `silu(gate + biasGate) * (up + biasUp)`.
///
/// The down projection then reads the first half with leading dimension `2 * hidden`.
func swiGLUGateRows(
    _ buffer: UnsafeMutablePointer<Float>, rows: Int, hidden: Int, bias: UnsafePointer<Float>, team: WorkerTeam? = nil
) {
    forEachRowChunk(rows: rows, costPerRow: 3 * hidden, on: team) { range in
        for row in range {
            let gate = buffer + row * 2 * hidden
            let up = gate + hidden
            let upBias = bias + hidden
            let vectorEnd = hidden & ~7
            var i = 0
            while i < vectorEnd {
                let g = silu8(load8(gate, i) + load8(bias, i))
                store8(g * (load8(up, i) + load8(upBias, i)), gate, i)
                i += 8
            }
            while i < hidden { gate[i] = silu1(gate[i] + bias[i]) * (up[i] + upBias[i]); i += 1 }
        }
    }
}

/// The residual update of a block branch: `residual += scale ⊙ (branch + bias)` per row.
func addScaledResidualRows(
    _ residual: UnsafeMutablePointer<Float>, branch: UnsafePointer<Float>, rows: Int, width: Int,
    bias: UnsafePointer<Float>, scale: UnsafePointer<Float>, team: WorkerTeam? = nil
) {
    forEachRowChunk(rows: rows, costPerRow: 3 * width, on: team) { range in
        for row in range {
            let r = residual + row * width
            let b = branch + row * width
            let vectorEnd = width & ~7
            var i = 0
            while i < vectorEnd {
                store8(load8(r, i).addingProduct(load8(b, i) + load8(bias, i), load8(scale, i)), r, i)
                i += 8
            }
            while i < width { r[i] += (b[i] + bias[i]) * scale[i]; i += 1 }
        }
    }
}

/// Softmax of one row in place (`count` floats); the logits are already scaled.
@inline(__always)
func softmaxRow(_ x: UnsafeMutablePointer<Float>, count: Int) {
    let inverse = 1 / exponentiateInPlace(x, count: count, subtracting: rowMaximum(x, count: count))
    let vectorEnd = count & ~7
    var i = 0
    while i < vectorEnd { store8(load8(x, i) * inverse, x, i); i += 8 }
    while i < count { x[i] *= inverse; i += 1 }
}

/// The largest of `count` floats.
///
/// Its own function, with four independent running maxima of 16 lanes: inlined into the
/// attention task the single-accumulator loop compiled to lane shuffles and blends and cost
/// more than the `exp`.
@inline(never)
func rowMaximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var m0 = Vector16(repeating: -.infinity), m1 = m0, m2 = m0, m3 = m0
    var i = 0
    while i + 64 <= count {
        m0 = max16(m0, load16(x, i))
        m1 = max16(m1, load16(x, i + 16))
        m2 = max16(m2, load16(x, i + 32))
        m3 = max16(m3, load16(x, i + 48))
        i += 64
    }
    while i + 16 <= count { m0 = max16(m0, load16(x, i)); i += 16 }
    var maximum = max16(max16(m0, m1), max16(m2, m3)).max()
    while i < count { maximum = max(maximum, x[i]); i += 1 }
    return maximum
}

/// `x[i] = exp(x[i] - shift)` over one row; returns the sum of the new values.
///
/// Kept as its own small function so that `exp16` inlines into the loop (inside the attention
/// task the optimiser left it as a call). The ragged end of the row goes through the same
/// `exp16`, padded with -inf, whose exp is 0.
@inline(never)
func exponentiateInPlace(_ x: UnsafeMutablePointer<Float>, count: Int, subtracting shift: Float) -> Float {
    var sum0 = Vector16(repeating: 0), sum1 = sum0
    var i = 0
    while i + 32 <= count {
        let e0 = exp16(load16(x, i) - shift), e1 = exp16(load16(x, i + 16) - shift)
        store16(e0, x, i)
        store16(e1, x, i + 16)
        sum0 += e0
        sum1 += e1
        i += 32
    }
    while i < count {
        var values = Vector16(repeating: -.infinity)
        for lane in 0..<min(16, count - i) { values[lane] = x[i + lane] }
        let e = exp16(values - shift)
        for lane in 0..<min(16, count - i) { x[i + lane] = e[lane] }
        sum0 += e
        i += 16
    }
    return (sum0 + sum1).sum()
}
