import Foundation
import Random

extension PhantomCanvas {
    /// Pelvis. Frontal: iliac wings, sacrum with the lowest lumbar vertebrae, obturator rings,
    /// femoral heads, necks, trochanters and shafts, and bowel gas in the patient's left
    /// (image right) lower abdomen, which makes mirroring visible. Lateral: superimposed
    /// femoral heads, the curved sacrum posteriorly (image right), an iliac wing.
    mutating func drawPelvis(view: PhantomView, subject: PhantomSubject, random: inout SplitMix64) {
        let bone = 0.6 * subject.boneDensity
        let marrow = PhantomCanvas.Profile.bone(inner: 0.8, marrow: 0.45)
        switch view {
        case .frontal:
            ellipse(PhantomPoint(0.5, 0.5), radii: (0.49, 0.6), density: 1.0, squareness: 1.3)
            for side in [-1.0, 1.0] {
                ellipse(PhantomPoint(0.5 + side * 0.2, 0.3), radii: (0.17, 0.13), angle: side * 0.45, density: bone, profile: marrow, parts: .bones)
                arc(center: PhantomPoint(0.5 + side * 0.1, 0.7), radius: 0.065, from: -Double.pi, to: Double.pi,
                    halfWidth: 0.018, density: bone, parts: .bones)  // obturator ring
                ellipse(PhantomPoint(0.5 + side * 0.245, 0.56), radii: (0.065, 0.065), density: bone * 1.1, profile: marrow, parts: .bones)
                tube(PhantomPoint(0.5 + side * 0.26, 0.58), PhantomPoint(0.5 + side * 0.32, 0.68), radius: 0.04, density: bone, parts: .bones)
                ellipse(PhantomPoint(0.5 + side * 0.37, 0.66), radii: (0.04, 0.05), density: bone, profile: marrow, parts: .bones)
                tube(PhantomPoint(0.5 + side * 0.33, 0.7), PhantomPoint(0.5 + side * 0.31, 1.1), radius: 0.06, density: bone, parts: .bones)
            }
            ellipse(PhantomPoint(0.5, 0.42), radii: (0.09, 0.12), density: bone, profile: marrow, parts: .bones)  // sacrum
            for level in 0..<2 {
                ellipse(PhantomPoint(0.5, 0.2 - 0.1 * Double(level)), radii: (0.08, 0.04), density: bone,
                        profile: marrow, squareness: 2, parts: .bones)
            }
            for _ in 0..<3 {
                ellipse(PhantomPoint(random.uniform(0.62...0.78), random.uniform(0.12...0.35)),
                        radii: (random.uniform(0.03...0.06), random.uniform(0.02...0.04)), density: -0.35)
            }
        case .lateral:
            ellipse(PhantomPoint(0.5, 0.5), radii: (0.4, 0.6), density: 1.2, squareness: 1.3)
            ellipse(PhantomPoint(0.52, 0.3), radii: (0.2, 0.17), angle: 0.3, density: bone * 0.8, profile: marrow, parts: .bones)
            arc(center: PhantomPoint(0.55, 0.45), radius: 0.2, from: -0.9, to: 0.7, halfWidth: 0.04, density: bone, parts: .bones)  // sacrum
            ellipse(PhantomPoint(0.45, 0.62), radii: (0.075, 0.075), density: bone * 1.5, profile: marrow, parts: .bones)
            tube(PhantomPoint(0.45, 0.64), PhantomPoint(0.4, 1.1), radius: 0.065, density: bone * 1.4, parts: .bones)
            ellipse(PhantomPoint(0.32, 0.72), radii: (0.05, 0.03), density: bone, profile: marrow, parts: .bones)  // pubis
            for _ in 0..<2 {
                ellipse(PhantomPoint(random.uniform(0.25...0.4), random.uniform(0.15...0.35)),
                        radii: (0.04, 0.03), density: -0.3)
            }
        }
    }

    /// Lumbar spine. Frontal: five vertebral bodies with cortical rims and disc spaces,
    /// pedicles seen end-on as rings, spinous and transverse processes, the lowest ribs and
    /// iliac crests, bowel gas on the image right. Lateral: bodies in lordosis with posterior
    /// elements on the image right.
    mutating func drawSpine(view: PhantomView, subject: PhantomSubject, random: inout SplitMix64) {
        let bone = 0.65 * subject.boneDensity
        let marrow = PhantomCanvas.Profile.bone(inner: 0.8, marrow: 0.4)
        switch view {
        case .frontal:
            ellipse(PhantomPoint(0.5, 0.5), radii: (0.46, 0.7), density: 1.0, squareness: 1.3)
            for side in [-1.0, 1.0] {
                ellipse(PhantomPoint(0.5 + side * 0.22, 0.5), radii: (0.07, 0.35), angle: side * -0.25, density: 0.15)  // psoas
                arc(center: PhantomPoint(0.5, 0.1), radius: 0.3, from: side > 0 ? 0.1 : Double.pi - 0.6,
                    to: side > 0 ? 0.6 : Double.pi - 0.1, halfWidth: 0.012, density: bone * 0.8, parts: [.bones, .ribs])  // lowest ribs
                ellipse(PhantomPoint(0.5 + side * 0.33, 1.0), radii: (0.18, 0.12), angle: side * 0.4, density: bone, profile: marrow, parts: .bones)
            }
            for level in 0..<5 {
                let y = 0.14 + Double(level) * 0.17
                let width = 0.105 + 0.006 * Double(level)
                ellipse(PhantomPoint(0.5, y), radii: (width, 0.062), density: bone, profile: marrow, squareness: 2, parts: .bones)
                for side in [-1.0, 1.0] {
                    ellipse(PhantomPoint(0.5 + side * 0.065, y - 0.02), radii: (0.02, 0.028), density: bone * 0.8,
                            profile: .bone(inner: 0.6, marrow: 0.2), parts: .bones)
                    tube(PhantomPoint(0.5 + side * 0.08, y - 0.01), PhantomPoint(0.5 + side * (0.17 + 0.01 * Double(level)), y - 0.02),
                         radius: 0.014, density: bone * 0.7, parts: .bones)
                }
                ellipse(PhantomPoint(0.5, y + 0.04), radii: (0.016, 0.035), density: bone * 0.6, parts: .bones)  // spinous process
            }
            for _ in 0..<3 {
                ellipse(PhantomPoint(random.uniform(0.68...0.85), random.uniform(0.3...0.7)),
                        radii: (random.uniform(0.03...0.06), random.uniform(0.02...0.04)), density: -0.3)
            }
        case .lateral:
            ellipse(PhantomPoint(0.5, 0.5), radii: (0.42, 0.7), density: 1.2, squareness: 1.3)
            for level in 0..<5 {
                let y = 0.14 + Double(level) * 0.17
                let x = 0.48 - 0.06 * sin(Double(level) / 4 * Double.pi)
                ellipse(PhantomPoint(x, y), radii: (0.1, 0.065), angle: 0.1 * (Double(level) - 2) * 0.5,
                        density: bone * 1.2, profile: marrow, squareness: 2, parts: .bones)
                tube(PhantomPoint(x + 0.1, y - 0.03), PhantomPoint(x + 0.17, y - 0.02), radius: 0.022, density: bone * 0.8, parts: .bones)
                ellipse(PhantomPoint(x + 0.25, y + 0.02), radii: (0.06, 0.03), angle: 0.3, density: bone * 0.8, profile: marrow, parts: .bones)
            }
            for _ in 0..<2 {
                ellipse(PhantomPoint(random.uniform(0.15...0.3), random.uniform(0.3...0.7)), radii: (0.04, 0.03), density: -0.3)
            }
        }
    }
}
