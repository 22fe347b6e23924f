import Foundation
import Random

extension PhantomCanvas {
    /// Knee. Frontal: femoral shaft and two condyles, tibial plateau and shaft, the fibula on
    /// the lateral side (image right), the patella superimposed on the femur. Lateral: the
    /// knee slightly flexed, the patella anterior (image left), the fibula behind the tibia.
    mutating func drawKnee(view: PhantomView, subject: PhantomSubject, random: inout SplitMix64) {
        let bone = 0.75 * subject.boneDensity
        let marrow = PhantomCanvas.Profile.bone(inner: 0.7, marrow: 0.35)
        switch view {
        case .frontal:
            ellipse(PhantomPoint(0.5, 0.5), radii: (0.27, 0.75), density: 0.8)
            tube(PhantomPoint(0.5, -0.1), PhantomPoint(0.5, 0.36), radius: 0.085, density: bone, profile: marrow, parts: .bones)
            ellipse(PhantomPoint(0.42, 0.41), radii: (0.08, 0.065), density: bone, profile: marrow, parts: .bones)
            ellipse(PhantomPoint(0.59, 0.41), radii: (0.075, 0.065), density: bone, profile: marrow, parts: .bones)
            ellipse(PhantomPoint(0.5, 0.36), radii: (0.06, 0.07), density: bone * 0.45, profile: marrow, parts: .bones)  // patella
            ellipse(PhantomPoint(0.5, 0.545), radii: (0.165, 0.045), density: bone, profile: marrow, squareness: 2, parts: .bones)
            tube(PhantomPoint(0.5, 0.56), PhantomPoint(0.5, 1.1), radius: 0.075, density: bone, profile: marrow, parts: .bones)
            ellipse(PhantomPoint(0.665, 0.6), radii: (0.035, 0.03), density: bone * 0.9, profile: marrow, parts: .bones)
            tube(PhantomPoint(0.665, 0.6), PhantomPoint(0.69, 1.1), radius: 0.025, density: bone, parts: .bones)
        case .lateral:
            ellipse(PhantomPoint(0.5, 0.5), radii: (0.28, 0.75), density: 0.8)
            ellipse(PhantomPoint(0.3, 0.52), radii: (0.08, 0.12), density: 0.3)  // patellar tendon soft tissue
            tube(PhantomPoint(0.56, -0.1), PhantomPoint(0.5, 0.36), radius: 0.085, density: bone, profile: marrow, parts: .bones)
            ellipse(PhantomPoint(0.5, 0.42), radii: (0.1, 0.085), density: bone * 1.1, profile: marrow, parts: .bones)
            ellipse(PhantomPoint(0.31, 0.38), radii: (0.04, 0.085), angle: 0.2, density: bone, profile: marrow, parts: .bones)  // patella
            ellipse(PhantomPoint(0.5, 0.56), radii: (0.13, 0.04), angle: 0.08, density: bone, profile: marrow, squareness: 2, parts: .bones)
            tube(PhantomPoint(0.49, 0.58), PhantomPoint(0.44, 1.1), radius: 0.07, density: bone, profile: marrow, parts: .bones)
            ellipse(PhantomPoint(0.41, 0.6), radii: (0.035, 0.03), density: bone * 0.5, parts: .bones)  // tibial tuberosity
            tube(PhantomPoint(0.58, 0.62), PhantomPoint(0.55, 1.1), radius: 0.025, density: bone * 0.8, parts: .bones)
        }
    }

    /// Hand. Frontal (PA): distal radius and ulna, eight carpals, five metacarpals fanning
    /// out, phalanges (three per finger, two for the thumb on the image right), soft tissue
    /// around each finger. Lateral: the finger rays superimposed, the thumb anterior.
    mutating func drawHand(view: PhantomView, subject: PhantomSubject, random: inout SplitMix64) {
        let bone = 0.65 * subject.boneDensity
        let spread = random.uniform(0.8...1.2)
        switch view {
        case .frontal:
            ellipse(PhantomPoint(0.5, 1.0), radii: (0.2, 0.3), density: 0.7)
            ellipse(PhantomPoint(0.5, 0.64), radii: (0.22, 0.17), density: 0.55)
            tube(PhantomPoint(0.42, 1.1), PhantomPoint(0.43, 0.86), radius: 0.045, density: bone, parts: .bones)  // ulna
            tube(PhantomPoint(0.56, 1.1), PhantomPoint(0.56, 0.86), radius: 0.06, density: bone, parts: .bones)  // radius
            for carpal in 0..<8 {
                let column = Double(carpal % 4), row = Double(carpal / 4)
                ellipse(PhantomPoint(0.42 + 0.05 * column, 0.81 - 0.05 * row), radii: (0.027, 0.024),
                        angle: 0.3 * column, density: bone * 0.85, profile: .bone(inner: 0.7, marrow: 0.5), parts: .bones)
            }
            // Fingers from the little finger (image left) to the thumb (image right).
            let bases: [(Double, Double)] = [(0.4, 0.75), (0.45, 0.74), (0.5, 0.74), (0.55, 0.75), (0.6, 0.8)]
            let angles = [-0.32, -0.12, 0.02, 0.16, 0.7].map { $0 * spread }
            let lengths: [[Double]] = [[0.19, 0.09, 0.06, 0.05], [0.21, 0.11, 0.07, 0.05], [0.22, 0.12, 0.08, 0.05],
                                       [0.21, 0.11, 0.07, 0.05], [0.14, 0.09, 0.07]]
            for finger in 0..<5 {
                var point = PhantomPoint(bases[finger].0, bases[finger].1)
                let direction = (sin(angles[finger]), -cos(angles[finger]))
                let totalLength = lengths[finger].reduce(0, +)
                let tip = PhantomPoint(point.x + direction.0 * (totalLength + 0.02), point.y + direction.1 * (totalLength + 0.02))
                tube(PhantomPoint(point.x + direction.0 * 0.18, point.y + direction.1 * 0.18), tip,
                     radius: 0.034, density: 0.5, profile: .solid)
                for (segment, length) in lengths[finger].enumerated() {
                    let end = PhantomPoint(point.x + direction.0 * length, point.y + direction.1 * length)
                    let radius = (segment == 0 ? 0.02 : 0.017) - 0.002 * Double(segment)
                    tube(PhantomPoint(point.x + direction.0 * 0.008, point.y + direction.1 * 0.008),
                         PhantomPoint(end.x - direction.0 * 0.008, end.y - direction.1 * 0.008),
                         radius: radius, density: bone, parts: .bones)
                    point = end
                }
            }
        case .lateral:
            ellipse(PhantomPoint(0.55, 1.0), radii: (0.15, 0.3), density: 0.8)
            ellipse(PhantomPoint(0.55, 0.62), radii: (0.12, 0.2), density: 0.7)
            tube(PhantomPoint(0.55, 1.1), PhantomPoint(0.55, 0.84), radius: 0.07, density: bone * 1.3, parts: .bones)
            ellipse(PhantomPoint(0.55, 0.78), radii: (0.07, 0.06), density: bone * 1.4, profile: .bone(inner: 0.7, marrow: 0.6), parts: .bones)
            for ray in 0..<4 {
                let offset = 0.012 * Double(ray)
                let angle = -0.1 - 0.05 * Double(ray) * spread
                let direction = (sin(angle), -cos(angle))
                var point = PhantomPoint(0.56 + offset, 0.73)
                for length in [0.22, 0.11, 0.07, 0.05] {
                    let end = PhantomPoint(point.x + direction.0 * length, point.y + direction.1 * length)
                    tube(point, end, radius: 0.018, density: bone * 0.8, parts: .bones)
                    point = end
                }
                tube(PhantomPoint(0.56 + offset, 0.55), point, radius: 0.03, density: 0.35, profile: .solid)
            }
            // Thumb, anterior (image left).
            var point = PhantomPoint(0.48, 0.76)
            for length in [0.14, 0.09, 0.07] {
                let end = PhantomPoint(point.x - 0.45 * length, point.y - 0.9 * length)
                tube(point, end, radius: 0.02, density: bone, parts: .bones)
                point = end
            }
            tube(PhantomPoint(0.46, 0.7), point, radius: 0.034, density: 0.45, profile: .solid)
        }
    }

    /// Foot. Frontal (dorsoplantar): tarsals, five metatarsals converging on them, toes, the
    /// big toe on the image left. Lateral: calcaneus, talus under the distal tibia, navicular
    /// and cuboid, superimposed metatarsals running to the toes on the image right.
    mutating func drawFoot(view: PhantomView, subject: PhantomSubject, random: inout SplitMix64) {
        let bone = 0.7 * subject.boneDensity
        switch view {
        case .frontal:
            ellipse(PhantomPoint(0.5, 0.55), radii: (0.22, 0.48), density: 0.7)
            for tarsal in 0..<7 {
                let column = Double(tarsal % 3), row = Double(tarsal / 3)
                ellipse(PhantomPoint(0.42 + 0.07 * column, 0.9 - 0.08 * row), radii: (0.04, 0.035), angle: 0.2 * column,
                        density: bone, profile: .bone(inner: 0.7, marrow: 0.5), parts: .bones)
            }
            let xs = [0.36, 0.43, 0.5, 0.56, 0.62]
            for toe in 0..<5 {
                let base = PhantomPoint(0.42 + 0.045 * Double(toe), 0.68)
                let head = PhantomPoint(xs[toe], 0.36 + 0.02 * Double(toe))
                tube(base, head, radius: toe == 0 ? 0.028 : 0.019, density: bone, parts: .bones)
                let segments = toe == 0 ? 2 : 3
                var point = head
                for segment in 0..<segments {
                    let length = (toe == 0 ? 0.08 : 0.05) - 0.01 * Double(segment)
                    let end = PhantomPoint(point.x - 0.1 * length, point.y - length)
                    tube(PhantomPoint(point.x, point.y - 0.008), end, radius: toe == 0 ? 0.024 : 0.014, density: bone, parts: .bones)
                    point = end
                }
                tube(head, point, radius: toe == 0 ? 0.038 : 0.026, density: 0.35, profile: .solid)
            }
        case .lateral:
            ellipse(PhantomPoint(0.52, 0.64), radii: (0.45, 0.18), angle: 0.08, density: 0.75)
            ellipse(PhantomPoint(0.4, 0.2), radii: (0.12, 0.4), density: 0.7)  // ankle and leg
            tube(PhantomPoint(0.4, -0.1), PhantomPoint(0.4, 0.4), radius: 0.07, density: bone, parts: .bones)
            tube(PhantomPoint(0.46, -0.1), PhantomPoint(0.45, 0.45), radius: 0.025, density: bone * 0.7, parts: .bones)
            ellipse(PhantomPoint(0.24, 0.63), radii: (0.13, 0.075), angle: 0.15, density: bone, profile: .bone(inner: 0.75, marrow: 0.5), parts: .bones)
            ellipse(PhantomPoint(0.39, 0.5), radii: (0.09, 0.06), density: bone, profile: .bone(inner: 0.75, marrow: 0.5), parts: .bones)
            ellipse(PhantomPoint(0.5, 0.56), radii: (0.04, 0.05), density: bone, profile: .bone(inner: 0.7, marrow: 0.5), parts: .bones)
            ellipse(PhantomPoint(0.42, 0.64), radii: (0.05, 0.04), density: bone, profile: .bone(inner: 0.7, marrow: 0.5), parts: .bones)
            for ray in 0..<3 {
                let offset = 0.015 * Double(ray)
                tube(PhantomPoint(0.54, 0.57 + offset), PhantomPoint(0.8, 0.66 + offset), radius: 0.022, density: bone * 0.8, parts: .bones)
                tube(PhantomPoint(0.81, 0.66 + offset), PhantomPoint(0.93, 0.69 + offset), radius: 0.014, density: bone * 0.7, parts: .bones)
            }
        }
    }
}
