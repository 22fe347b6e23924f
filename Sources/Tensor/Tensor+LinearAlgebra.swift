// Matrix products of `Tensor`s through OpenBLAS `sgemm` (retrieval's similarity matrix, the
// sgemm benchmark). Batched products loop over the batch on the calling thread and let OpenBLAS
// thread each GEMM (see `BLAS`); nesting our threads around OpenBLAS's would oversubscribe the cores.

/// The matrix product `alpha · op(a) · op(b)`, where `op` transposes the last two axes when asked.
///
/// Shapes (`op` applied):
/// - `[m, k] × [k, n] → [m, n]`
/// - `[..., m, k] × [..., k, n] → [..., m, n]` with identical leading (batch) axes
/// - `[..., m, k] × [k, n] → [..., m, n]` (one matrix shared by the batch)
/// - `[m, k] × [..., k, n] → [..., m, n]`
///
/// - Parameters:
///   - transposeA: use the transpose of `a`'s last two axes.
///   - transposeB: use the transpose of `b`'s last two axes.
///   - alpha: scale applied to the product (e.g. `1/√d` for attention scores).
/// - Precondition: ranks ≥ 2 and matching inner and batch extents.
/// - Complexity: O(batch · m · n · k), threaded by OpenBLAS.
public func matmul(
    _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false, alpha: Float = 1
) -> Tensor {
    let plan = MatmulPlan(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB)
    var output = Tensor(uninitializedShape: plan.outputShape)
    plan.run(a, b, alpha: alpha, beta: 0, into: &output)
    return output
}

/// Writes `alpha · op(a) · op(b) + beta · output` into `output`, without allocating.
///
/// Same shapes as `matmul(_:_:transposeA:transposeB:alpha:)`.
/// - Parameters:
///   - beta: weight of the previous contents of `output` (0 overwrites them, even NaNs).
///   - output: must already have the result shape.
/// - Precondition: `output.shape` is the product's shape.
public func matmul(
    _ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false,
    alpha: Float = 1, beta: Float = 0, into output: inout Tensor
) {
    let plan = MatmulPlan(a.shape, b.shape, transposeA: transposeA, transposeB: transposeB)
    precondition(output.shape == plan.outputShape,
                 "matmul output has shape \(output.shape), expected \(plan.outputShape)")
    plan.run(a, b, alpha: alpha, beta: beta, into: &output)
}

/// Shapes and strides of one (possibly batched) matrix product.
private struct MatmulPlan {
    var m = 0, n = 0, k = 0
    var batch = 1
    var strideA = 0, strideB = 0
    var rowsA = 0, columnsA = 0, rowsB = 0, columnsB = 0
    var transposeA: Bool, transposeB: Bool
    var outputShape: [Int] = []

    init(_ shapeA: [Int], _ shapeB: [Int], transposeA: Bool, transposeB: Bool) {
        precondition(shapeA.count >= 2 && shapeB.count >= 2,
                     "matmul needs matrices, got \(shapeA) and \(shapeB)")
        self.transposeA = transposeA
        self.transposeB = transposeB
        rowsA = shapeA[shapeA.count - 2]; columnsA = shapeA[shapeA.count - 1]
        rowsB = shapeB[shapeB.count - 2]; columnsB = shapeB[shapeB.count - 1]
        m = transposeA ? columnsA : rowsA
        k = transposeA ? rowsA : columnsA
        let innerB = transposeB ? columnsB : rowsB
        n = transposeB ? rowsB : columnsB
        precondition(k == innerB, "matmul inner extents differ: \(shapeA)\(transposeA ? "ᵀ" : "") × \(shapeB)\(transposeB ? "ᵀ" : "")")
        let batchA = Array(shapeA.dropLast(2)), batchB = Array(shapeB.dropLast(2))
        let batchShape: [Int]
        switch (batchA.isEmpty, batchB.isEmpty) {
        case (true, true): batchShape = []
        case (false, true): batchShape = batchA
        case (true, false): batchShape = batchB
        case (false, false):
            precondition(batchA == batchB, "matmul batch axes differ: \(shapeA) × \(shapeB)")
            batchShape = batchA
        }
        batch = batchShape.reduce(1, *)
        strideA = batchA.isEmpty ? 0 : rowsA * columnsA
        strideB = batchB.isEmpty ? 0 : rowsB * columnsB
        outputShape = batchShape + [m, n]
    }

    func run(_ a: Tensor, _ b: Tensor, alpha: Float, beta: Float, into output: inout Tensor) {
        let destination = output.mutableBase()
        guard m > 0, n > 0, batch > 0 else { return }
        if k == 0 {
            // BLAS leaves C untouched when k == 0; follow the definition instead.
            for index in 0..<(batch * m * n) { destination[index] = beta == 0 ? 0 : beta * destination[index] }
            return
        }
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                // A shared right-hand matrix and an untransposed batch of left-hand ones are one
                // tall GEMM: [batch·m, k] × [k, n].
                if strideB == 0 && strideA != 0 && !transposeA {
                    BLAS.sgemm(transposeA: false, transposeB: transposeB, m: batch * m, n: n, k: k,
                               alpha: alpha, a: a.baseAddress!, leadingA: columnsA,
                               b: b.baseAddress!, leadingB: columnsB,
                               beta: beta, c: destination, leadingC: n)
                    return
                }
                for item in 0..<batch {
                    BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                               alpha: alpha, a: a.baseAddress! + item * strideA, leadingA: columnsA,
                               b: b.baseAddress! + item * strideB, leadingB: columnsB,
                               beta: beta, c: destination + item * m * n, leadingC: n)
                }
            }
        }
    }
}
