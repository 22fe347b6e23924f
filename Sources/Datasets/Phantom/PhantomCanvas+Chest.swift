import Foundation
import Random

extension PhantomCanvas {
    /// Lung fields of a frontal chest: centre and radii per lung (0 right = image left).
    static let frontalLungs: [(center: PhantomPoint, radii: (Double, Double), angle: Double)] = [
        (PhantomPoint(0.33, 0.47), (0.135, 0.29), 0.08),
        (PhantomPoint(0.67, 0.47), (0.125, 0.28), -0.08),
    ]
    /// The single (superimposed) lung field of a lateral chest.
    static let lateralLung: (center: PhantomPoint, radii: (Double, Double)) = (PhantomPoint(0.5, 0.46), (0.25, 0.31))

    /// Draws a chest radiograph. Frontal: body, shoulders, lungs, posterior and anterior ribs,
    /// clavicles, spine, heart (shifted to the patient's left, i.e. image right) and aortic
    /// knob; lateral: body, one superimposed lung field, spine posteriorly (image right),
    /// sternum anteriorly, heart anteriorly. Female patients get breast shadows.
    mutating func drawChest(view: PhantomView, subject: PhantomSubject, findings: PhantomFindings,
                            random: inout SplitMix64) {
        let bone = 0.55 * subject.boneDensity
        let lungAir = -0.78
        switch view {
        case .frontal:
            ellipse(PhantomPoint(0.5, 0.58), radii: (0.43, 0.52), density: 1.0, squareness: 1.6)
            ellipse(PhantomPoint(0.5, 0.04), radii: (0.1, 0.12), density: 0.8)
            for side in [-1.0, 1.0] {
                ellipse(PhantomPoint(0.5 + side * 0.41, 0.2), radii: (0.1, 0.12), density: 0.7)
                ellipse(PhantomPoint(0.5 + side * 0.42, 0.19), radii: (0.055, 0.06), density: bone * 1.2,
                        profile: .bone(inner: 0.7, marrow: 0.4), parts: .bones)
                tube(PhantomPoint(0.5 + side * 0.42, 0.22), PhantomPoint(0.5 + side * 0.47, 0.6),
                     radius: 0.035, density: bone, parts: .bones)
            }
            for lung in Self.frontalLungs {
                ellipse(lung.center, radii: lung.radii, angle: lung.angle, density: lungAir, parts: .lungs)
            }
            for lungIndex in findings.effusionLungs {
                let lung = Self.frontalLungs[lungIndex]
                let bottom = lung.center.y + lung.radii.1
                fluid(inLung: lung.center, radii: lung.radii, lateralSide: lungIndex == 0 ? -1 : 1,
                      level: bottom - findings.effusionHeight * 2 * lung.radii.1, meniscus: 0.08,
                      airDensity: -lungAir, extraDensity: 0.25)
            }
            if subject.sex == .female {
                for side in [-1.0, 1.0] {
                    ellipse(PhantomPoint(0.5 + side * 0.22, 0.7), radii: (0.15, 0.11), density: 0.22)
                }
            }
            // Spine: vertebral bodies behind the mediastinum.
            for level in 0..<13 {
                let y = 0.1 + Double(level) * 0.068
                ellipse(PhantomPoint(0.5, y), radii: (0.04, 0.027), density: bone * 0.8,
                        profile: .bone(inner: 0.75, marrow: 0.5), squareness: 2, parts: .bones)
            }
            let heartWidth = 0.15 * findings.heartScale
            ellipse(PhantomPoint(0.54 + 0.25 * (heartWidth - 0.15), 0.63), radii: (heartWidth, 0.12 + 0.25 * (heartWidth - 0.15)),
                    angle: -0.35, density: 0.75, parts: .heart)
            ellipse(PhantomPoint(0.47, 0.42), radii: (0.06, 0.2), density: 0.3)  // mediastinum
            ellipse(PhantomPoint(0.57, 0.3), radii: (0.035, 0.03), density: 0.3)  // aortic knob
            // Posterior ribs arch up from the spine and fall laterally; anterior ribs are fainter.
            for level in 0..<10 {
                let y = 0.16 + Double(level) * 0.06
                let radius = 0.26 + 0.008 * Double(level)
                arc(center: PhantomPoint(0.49, y + radius), radius: radius, from: -Double.pi * 0.97, to: -Double.pi * 0.54,
                    halfWidth: 0.011, density: bone * 0.55, parts: [.bones, .ribs])
                arc(center: PhantomPoint(0.51, y + radius), radius: radius, from: -Double.pi * 0.46, to: -Double.pi * 0.03,
                    halfWidth: 0.011, density: bone * 0.55, parts: [.bones, .ribs])
                if level < 7 {
                    let anterior = 0.3
                    arc(center: PhantomPoint(0.5, y + 0.1 - anterior), radius: anterior, from: Double.pi * 0.62, to: Double.pi * 0.86,
                        halfWidth: 0.01, density: bone * 0.25, parts: [.bones, .ribs])
                    arc(center: PhantomPoint(0.5, y + 0.1 - anterior), radius: anterior, from: Double.pi * 0.14, to: Double.pi * 0.38,
                        halfWidth: 0.01, density: bone * 0.25, parts: [.bones, .ribs])
                }
            }
            for side in [-1.0, 1.0] {
                tube(PhantomPoint(0.5 + side * 0.05, 0.17), PhantomPoint(0.5 + side * 0.36, 0.13),
                     radius: 0.017, density: bone * 1.1, parts: [.bones, .clavicles])
            }
            for nodule in findings.nodules {
                let lung = Self.frontalLungs[nodule.lung]
                blob(PhantomPoint(lung.center.x + 0.75 * nodule.u * lung.radii.0,
                                  lung.center.y + 0.75 * nodule.v * lung.radii.1),
                     sigma: nodule.sigma, amplitude: nodule.amplitude, parts: .nodules)
            }
        case .lateral:
            ellipse(PhantomPoint(0.5, 0.58), radii: (0.36, 0.52), density: 1.1, squareness: 1.4)
            ellipse(PhantomPoint(0.55, 0.05), radii: (0.11, 0.12), density: 0.8)
            let lung = Self.lateralLung
            ellipse(lung.center, radii: lung.radii, density: lungAir, parts: .lungs)
            if !findings.effusionLungs.isEmpty {
                // Fluid collects in the posterior costophrenic sulcus (image right).
                fluid(inLung: lung.center, radii: lung.radii, lateralSide: 1,
                      level: lung.center.y + lung.radii.1 * (1 - 2 * findings.effusionHeight), meniscus: 0.06,
                      airDensity: -lungAir, extraDensity: 0.25)
            }
            for level in 0..<13 {
                let y = 0.1 + Double(level) * 0.068
                let x = 0.74 - 0.03 * sin(Double(level) / 12 * Double.pi)
                ellipse(PhantomPoint(x, y), radii: (0.045, 0.027), density: bone * 1.1,
                        profile: .bone(inner: 0.75, marrow: 0.5), squareness: 2, parts: .bones)
                tube(PhantomPoint(x + 0.05, y), PhantomPoint(x + 0.1, y + 0.02), radius: 0.012, density: bone * 0.7, parts: .bones)
            }
            tube(PhantomPoint(0.2, 0.2), PhantomPoint(0.17, 0.62), radius: 0.018, density: bone, parts: .bones)  // sternum
            let heartSize = 0.14 * findings.heartScale
            ellipse(PhantomPoint(0.36 + 0.3 * (heartSize - 0.14), 0.6), radii: (heartSize, 0.14), angle: 0.3, density: 0.6, parts: .heart)
            for level in 0..<9 {
                let y = 0.2 + Double(level) * 0.065
                arc(center: PhantomPoint(0.5, y + 0.5), radius: 0.5, from: -Double.pi * 0.62, to: -Double.pi * 0.3,
                    halfWidth: 0.009, density: bone * 0.35, parts: [.bones, .ribs])
            }
            for nodule in findings.nodules {
                blob(PhantomPoint(lung.center.x + 0.7 * nodule.u * lung.radii.0,
                                  lung.center.y + 0.7 * nodule.v * lung.radii.1),
                     sigma: nodule.sigma, amplitude: nodule.amplitude, parts: .nodules)
            }
        }
    }
}
