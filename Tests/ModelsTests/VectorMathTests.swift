import Foundation
import Testing
@testable import Models

/// The vectorised exp, erf and GELU against Foundation's scalar functions.
struct VectorMathTests {
    @Test func expIsAccurateOverTheSoftmaxRange() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let lanes = Vector16((0..<16).map { x + Float($0) * 0.001 })
            let result = exp16(lanes)
            for lane in 0..<16 {
                let reference = Foundation.exp(Double(lanes[lane]))
                worst = max(worst, Float(abs(Double(result[lane]) - reference) / reference))
            }
            x += 0.0137
        }
        #expect(worst < 4e-7, "relative error \(worst)")
        #expect(exp16(Vector16(repeating: -200))[0] == 0)
        #expect(exp16(Vector16(repeating: 0))[0] == 1)
    }

    @Test func erfAndGELUAreAccurate() {
        var worstErf: Double = 0
        var worstGELU: Double = 0
        var x: Float = -9
        while x < 9 {
            let value = erf8(Vector8(repeating: x))[0]
            worstErf = max(worstErf, abs(Double(value) - Foundation.erf(Double(x))))
            let gelu = gelu1(x)
            let reference = 0.5 * Double(x) * (1 + Foundation.erf(Double(x) / 2.0.squareRoot()))
            worstGELU = max(worstGELU, abs(Double(gelu) - reference))
            x += 0.001
        }
        #expect(worstErf < 1e-6, "erf error \(worstErf)")
        #expect(worstGELU < 5e-6, "gelu error \(worstGELU)")
    }

    @Test func softmaxRowSumsToOne() {
        var row: [Float] = (0..<37).map { Float($0 % 7) * 0.9 - 2 }
        let reference = row.map { Foundation.exp(Double($0 - row.max()!)) }
        let total = reference.reduce(0, +)
        row.withUnsafeMutableBufferPointer { softmaxRow($0.baseAddress!, count: $0.count) }
        for (value, expected) in zip(row, reference) { #expect(abs(Double(value) - expected / total) < 1e-7) }
    }
}
