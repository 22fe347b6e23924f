import Foundation
import Synchronization
import Tensor

// Multi-head self-attention over the fused QKV buffer, one block of query rows at a time.
//
// Two implementations share the task loop. On builds with 16-lane vectors (AVX-512) and heads
// 64 wide, a task is one (image, head) on the register-tiled kernels of `AttentionKernels.swift`.
// Otherwise a task is one (image, head, block of query rows): the scores `S = scale * Q K^T`
// (`[rows, T]`) come from one GEMM, are exponentiated in place (`exp(S − row max)`), multiplied
// by `V` straight into the head's columns of the output, and those output rows divided by the
// row sums. A block of at most 256 query rows keeps `S` (1.4 MB at T = 1370) in the core's 2 MB
// L2 cache and the memory use independent of `T^2`, while each GEMM is large enough that
// re-packing K and V per block costs little (256 rows measured 3% faster than 128 at 518 px,
// and as fast as 352). Either way each core takes the next task from a shared counter and runs
// single-threaded, so no core waits on the other between the small products, and a core that
// the OS lends to another process meanwhile simply takes fewer tasks.

/// Geometry of one attention call.
struct AttentionShape {
    /// Images in the batch.
    var batch: Int
    /// Tokens per image.
    var tokens: Int
    /// Model width `D` (= heads x headWidth).
    var width: Int
    /// Number of heads.
    var heads: Int
    /// Width of one head.
    var headWidth: Int { width / heads }
}

/// How the attention products run.
enum AttentionImplementation: Sendable {
    /// One OpenBLAS call per product and block of query rows: any head width.
    case blas
    /// The register-tiled kernels of `AttentionKernels.swift` for heads of width 64, one task
    /// per head; other widths fall back to `blas`.
    case registerTiles

    /// `registerTiles` when the build enables 16-lane vectors (the Makefile does so on CPUs
    /// with AVX-512), `blas` otherwise.
    static var preferred: AttentionImplementation {
        #if XRBENCH_WIDE_VECTORS
        return .registerTiles
        #else
        return .blas
        #endif
    }
}

/// Floats of attention scratch per worker, enough for either implementation.
func attentionScratchCount(tokens: Int) -> Int {
    max(attentionRowBlock(tokens: tokens) * tokens, attentionKernelScratchCount(tokens: tokens))
}

/// The number of query rows handled per task: at most 256, evened out over the sequence.
func attentionRowBlock(tokens: Int) -> Int {
    let blocks = max(1, (tokens + 255) / 256)
    return (tokens + blocks - 1) / blocks
}

/// Computes `softmax(Q K^T / √d) V` for every head and writes it to `output` (`[B*T, D]`,
/// heads side by side, the layout the output projection expects).
///
/// - Parameters:
///   - qkv: `[B*T, 3D]` rows of `[q | k | v]`, biases already added.
///   - output: `[B*T, D]`.
///   - scores: scratch of at least `workers * attentionScratchCount(tokens:)` floats.
///   - workers: number of parallel workers (the scratch holds one score block per worker).
///   - implementation: which kernels compute the products.
///   - team: the forward's worker team (nil: Dispatch).
func multiHeadAttention(
    qkv: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, shape: AttentionShape,
    scores: UnsafeMutablePointer<Float>, workers: Int,
    implementation: AttentionImplementation = .preferred, team: WorkerTeam? = nil
) {
    let tokens = shape.tokens
    let width = shape.width
    let headWidth = shape.headWidth
    let tiled = implementation == .registerTiles && headWidth == attentionKernelHeadWidth
    let rowBlock = attentionRowBlock(tokens: tokens)
    let blocksPerHead = tiled ? 1 : (tokens + rowBlock - 1) / rowBlock
    let tasks = shape.batch * shape.heads * blocksPerHead
    let scale = 1 / Float(headWidth).squareRoot()
    let qkvWidth = 3 * width
    let scratchPerWorker = attentionScratchCount(tokens: tokens)

    func run(task: Int, scratch: UnsafeMutablePointer<Float>) {
        if tiled {
            let head = task % shape.heads, image = task / shape.heads
            let imageBase = qkv + image * tokens * qkvWidth + head * headWidth
            attentionHead64(queries: imageBase, keys: imageBase + width, values: imageBase + 2 * width,
                            leading: qkvWidth, tokens: tokens, scale: scale,
                            output: output + image * tokens * width + head * headWidth, outputLeading: width,
                            scratch: scratch)
            return
        }
        let block = task % blocksPerHead
        let head = (task / blocksPerHead) % shape.heads
        let image = task / (blocksPerHead * shape.heads)
        let firstRow = block * rowBlock
        let rows = min(rowBlock, tokens - firstRow)
        let imageBase = qkv + image * tokens * qkvWidth
        let queries = imageBase + firstRow * qkvWidth + head * headWidth
        let keys = imageBase + width + head * headWidth
        let values = imageBase + 2 * width + head * headWidth
        // S[rows, T] = scale * Q[rows, d] K[T, d]^T
        multiplyTransposedB(rows: rows, columns: tokens, inner: headWidth,
                            queries, leadingA: qkvWidth, keys, leadingB: qkvWidth,
                            into: scratch, leadingC: tokens, alpha: scale)
        // Unnormalised probabilities exp(S − max) in place; each row's 1/sum is applied to the
        // row's 64 outputs below rather than to its T probabilities (one pass over S fewer).
        withUnsafeTemporaryAllocation(of: Float.self, capacity: rows) { inverses in
            for row in 0..<rows {
                let scores = scratch + row * tokens
                inverses[row] = 1 / exponentiateInPlace(scores, count: tokens, subtracting: rowMaximum(scores, count: tokens))
            }
            // O[rows, d] = P[rows, T] V[T, d], into this head's columns of the output rows.
            let destination = output + (image * tokens + firstRow) * width + head * headWidth
            multiply(rows: rows, columns: headWidth, inner: tokens,
                     scratch, leadingA: tokens, values, leadingB: qkvWidth,
                     into: destination, leadingC: width)
            for row in 0..<rows {
                let outputRow = destination + row * width, inverse = inverses[row]
                for column in 0..<headWidth { outputRow[column] *= inverse }
            }
        }
    }

    if workers <= 1 || tasks == 1 {
        for task in 0..<tasks { run(task: task, scratch: scores) }
        return
    }
    // Each worker runs single-threaded GEMMs (the forward pass limits OpenBLAS to one thread).
    let counter = TaskCounter()
    Parallel.forEachChunk(count: workers, minimumChunk: 1, on: team) { range in
        for worker in range {
            let scratch = scores + worker * scratchPerWorker
            while case let task = counter.next(), task < tasks {
                run(task: task, scratch: scratch)
            }
        }
    }
}

/// Hands out task numbers 0, 1, 2, ... to concurrent workers.
private final class TaskCounter: Sendable {
    private let counter = Atomic<Int>(0)

    func next() -> Int {
        counter.add(1, ordering: .relaxed).oldValue
    }
}
