import Foundation
import Testing
@testable import Tensor

/// The vectorised logarithm and logistic function of the segmentation losses against Double libm.
@Suite struct VectorLogTests {
    @Test func logarithmIsAccurate() {
        var worst = 0.0
        var x: Float = 1e-30
        while x < 1e30 {
            let lanes = Vector((0..<16).map { x * (1 + Float($0) * 0.0137) })
            let result = VectorMath.log(lanes)
            for lane in 0..<16 {
                let reference = Foundation.log(Double(lanes[lane]))
                worst = max(worst, abs(Double(result[lane]) - reference) / max(abs(reference), 1))
            }
            x *= 1.37
        }
        #expect(worst < 3e-7, "error \(worst)")
        #expect(VectorMath.log(Vector(repeating: 1))[0] == 0)
    }

    @Test func sigmoidAndSoftplusTail() {
        for z: Float in [-100, -30, -5, -0.5, 0, 0.5, 5, 30, 100] {
            let sigmoid = VectorMath.sigmoid(Vector(repeating: z))[0]
            #expect(abs(Double(sigmoid) - 1 / (1 + Foundation.exp(-Double(z)))) < 1e-7)
            let softplus = VectorMath.softplusOfNegativeMagnitude(Vector(repeating: z))[0]
            #expect(abs(Double(softplus) - Foundation.log1p(Foundation.exp(-abs(Double(z))))) < 1e-7)
        }
    }
}
