import Dispatch
import Tensor

/// Single-precision GEMM throughput through `Tensor.matmul`, in GFLOP/s (2·n³ per product).
///
/// Multiplies two 2048×2048 matrices into a preallocated result: one untimed warm-up (OpenBLAS
/// starts its threads and the pages are touched), then the median of five timed runs. Runs on
/// the calling thread; OpenBLAS uses all cores itself.
func measureSgemmGigaflops() -> Double {
    let size = 2048
    // Deterministic, non-trivial inputs (denormals or zeros could change the speed).
    let left = Tensor(shape: [size, size], scalars: (0..<(size * size)).map { Float(($0 * 7 + 3) % 101) / 101 - 0.5 })
    let right = Tensor(shape: [size, size], scalars: (0..<(size * size)).map { Float(($0 * 13 + 5) % 97) / 97 - 0.5 })
    var product = Tensor(zeros: [size, size])
    matmul(left, right, into: &product)
    var seconds: [Double] = []
    for _ in 0..<5 {
        let start = DispatchTime.now().uptimeNanoseconds
        matmul(left, right, into: &product)
        seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let median = seconds.sorted()[seconds.count / 2]
    return 2 * Double(size * size * size) / median / 1e9
}
