import Foundation
import Imaging
import Random

/// Everything needed to draw one phantom image; made by the planner, drawn independently.
struct PhantomImagePlan: Sendable, Hashable {
    var sampleID: String
    var imagePath: String
    var patientID: String
    var studyID: String
    var subject: PhantomSubject
    var anatomy: PhantomAnatomy
    var view: PhantomView
    /// Clockwise rotation applied last, in degrees: 0, 90, 180 or 270.
    var rotation: Int
    /// Flipped left-right (before the rotation).
    var mirrored: Bool
    /// The lead marker letter, "L" or "R", or nil when absent.
    var markerLetter: String?
    /// 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right (before mirroring/rotation).
    var markerCorner: Int
    var findings: PhantomFindings
    var bitDepth: Int
    /// Seed of the image's own random stream (pose, exposure, noise).
    var imageSeed: UInt64

    /// Where the image's label map goes when masks are written.
    var maskPath: String { phantomMaskFolder + "/" + sampleID + ".png" }
}

/// 5×7 pixel-font glyphs of the lead markers.
let phantomMarkerGlyphs: [String: [String]] = [
    "L": ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
    "R": ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
]

/// Draws one phantom radiograph at `size`×`size` pixels.
///
/// Attenuation `A` becomes the displayed value `1 - exp(-μ A)` under a per-image exposure `μ`
/// with an anode-heel gradient along y, then Gaussian quantum noise, a per-image window and
/// gamma, quantisation to 8 or 16 bits, and finally the mirror and rotation, so those two
/// are exact pixel permutations.
func renderPhantom(_ plan: PhantomImagePlan, size: Int) -> DecodedImage {
    renderPhantom(plan, size: size, drawsMasks: false).image
}

/// Draws one phantom radiograph and its label map (`PhantomMaskParts` bits, 8-bit grey), which
/// is mirrored and rotated with the image. The image is the one `renderPhantom(_:size:)` draws:
/// drawing the map changes no pixel and draws no random number.
func renderPhantomWithMasks(_ plan: PhantomImagePlan, size: Int) -> (image: DecodedImage, labelMap: DecodedImage) {
    let drawn = renderPhantom(plan, size: size, drawsMasks: true)
    return (drawn.image, drawn.labelMap!)
}

private func renderPhantom(_ plan: PhantomImagePlan, size: Int, drawsMasks: Bool) -> (image: DecodedImage, labelMap: DecodedImage?) {
    var random = SplitMix64(seed: plan.imageSeed)
    var canvas = PhantomCanvas(size: size, drawsMasks: drawsMasks)
    canvas.poseScale = random.uniform(0.9...1.04)
    canvas.poseAngle = max(-0.08, min(0.08, 0.035 * random.normal()))
    canvas.poseShiftX = random.uniform(-0.03...0.03)
    canvas.poseShiftY = random.uniform(-0.03...0.03)
    switch plan.anatomy {
    case .chest: canvas.drawChest(view: plan.view, subject: plan.subject, findings: plan.findings, random: &random)
    case .knee: canvas.drawKnee(view: plan.view, subject: plan.subject, random: &random)
    case .hand: canvas.drawHand(view: plan.view, subject: plan.subject, random: &random)
    case .pelvis: canvas.drawPelvis(view: plan.view, subject: plan.subject, random: &random)
    case .foot: canvas.drawFoot(view: plan.view, subject: plan.subject, random: &random)
    case .spine: canvas.drawSpine(view: plan.view, subject: plan.subject, random: &random)
    }
    if let letter = plan.markerLetter, let glyph = phantomMarkerGlyphs[letter] {
        let cell = max(1, size / 110)
        let margin = max(2, size / 24)
        let width = 5 * cell, height = 7 * cell
        let x = plan.markerCorner % 2 == 0 ? margin : size - margin - width
        let y = plan.markerCorner < 2 ? margin : size - margin - height
        canvas.glyph(glyph, x: x, y: y, cell: cell, density: 4, parts: .marker)
    }

    let exposure = random.uniform(0.85...1.3)
    let heel = random.uniform(-0.12...0.12)
    let noise = random.uniform(0.008...0.022)
    let low = random.uniform(0...0.05), high = random.uniform(0.93...1.0)
    let gamma = random.uniform(0.85...1.15)
    let maximum = Double((1 << plan.bitDepth) - 1)
    var samples = [UInt16](repeating: 0, count: size * size)
    var pendingNormal: Double?
    for y in 0..<size {
        let heelFactor = 1 + heel * (Double(y) / Double(size) - 0.5)
        for x in 0..<size {
            let attenuation = max(0, Double(canvas.attenuation[y * size + x]))
            var value = 1 - exp(-exposure * heelFactor * attenuation)
            let deviate: Double
            if let pending = pendingNormal {
                deviate = pending
                pendingNormal = nil
            } else {
                // Box–Muller gives two deviates; use both.
                let u1 = max(random.nextUnitDouble(), 0x1.0p-53), u2 = random.nextUnitDouble()
                let radius = (-2 * log(u1)).squareRoot()
                deviate = radius * cos(2 * Double.pi * u2)
                pendingNormal = radius * sin(2 * Double.pi * u2)
            }
            value += noise * deviate
            value = min(max((value - low) / (high - low), 0), 1)
            value = pow(value, gamma)
            samples[y * size + x] = UInt16((value * maximum).rounded())
        }
    }
    func oriented(_ samples: [UInt16]) -> [UInt16] {
        var samples = samples
        if plan.mirrored {
            for y in 0..<size { samples[(y * size)..<((y + 1) * size)].reverse() }
        }
        return rotatedClockwise(samples, size: size, degrees: plan.rotation)
    }
    let image = DecodedImage(width: size, height: size, channels: 1, bitDepth: plan.bitDepth, samples: oriented(samples))
    let labelMap = canvas.labels.map {
        DecodedImage(width: size, height: size, channels: 1, bitDepth: 8, samples: oriented($0.map(UInt16.init)))
    }
    return (image, labelMap)
}

/// A square image rotated clockwise by a multiple of 90 degrees.
func rotatedClockwise(_ samples: [UInt16], size: Int, degrees: Int) -> [UInt16] {
    precondition(degrees % 90 == 0, "rotation must be a multiple of 90 degrees")
    let turns = ((degrees / 90) % 4 + 4) % 4
    guard turns > 0 else { return samples }
    var output = [UInt16](repeating: 0, count: samples.count)
    for y in 0..<size {
        for x in 0..<size {
            // Where source pixel (x, y) lands after `turns` clockwise quarter turns.
            let (targetX, targetY): (Int, Int)
            switch turns {
            case 1: (targetX, targetY) = (size - 1 - y, x)
            case 2: (targetX, targetY) = (size - 1 - x, size - 1 - y)
            default: (targetX, targetY) = (y, size - 1 - x)
            }
            output[targetY * size + targetX] = samples[y * size + x]
        }
    }
    return output
}
