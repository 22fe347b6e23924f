// TEMPORARY local driver (not committed).
import Foundation
import Tensor
BLASBackend.restartWithRecommendedCoreTypeIfNeeded()
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }
func best(_ label: String, _ body: () -> Void) {
    body(); var b = Double.infinity
    for _ in 0..<3 { let s = now(); body(); b = min(b, now() - s) }
    print(label, b, "ms")
}
let matrix = Tensor(shape: [8192, 768]) { for i in $0.indices { $0[i] = Float(i % 101) } }
best("transpose 8192x768") { _ = matrix.transposed() }
best("permute [8192,768]->reshape[8192,12,64]->[12,8192,64]") { _ = matrix.reshaped([8192, 12, 64]).permuted([1, 0, 2]) }
best("mean axis 0 of 8192x768") { _ = matrix.mean(axis: 0) }
best("mean axis 1 of 8192x768") { _ = matrix.mean(axis: 1) }
best("copy via + zero") { _ = matrix + Tensor(zeros: [768]) }
