import Foundation
import Imaging
import Testing
import TestSupport

/// The deterministic parts of the paper's augmentations against PyTorch and NumPy
/// (`scripts/fixtures/segmentation_augmentation.py`): affine maps with fixed parameters through
/// `affine_grid` + `grid_sample` (bilinear images, nearest masks at another resolution), gamma.
@Suite struct SegmentationAugmentationTests {
    struct Reference: Decodable {
        struct Affine: Decodable {
            let rotation: Double, scale: Double, translateX: Double, translateY: Double, shear: Double
            let size: Int, maskSize: Int
            let theta: [Double]
            let image: [Float], masks: [Float], imageOut: [Float], masksOut: [Float]
        }

        struct Gamma: Decodable {
            let gamma: Double
            let values: [Float]
            let out: [Float]
        }

        let affine: [Affine]
        let gamma: [Gamma]
    }

    let reference: Reference

    init() throws {
        reference = try JSONDecoder().decode(Reference.self,
                                             from: Data(contentsOf: fixturesDirectory().appendingPathComponent("augmentation.json")))
    }

    @Test func affineMapsEqualTorchForFixedParameters() {
        #expect(reference.affine.count == 6)
        for item in reference.affine {
            let transform = SpatialTransform.affine(rotation: item.rotation, scale: item.scale, translateX: item.translateX,
                                                    translateY: item.translateY, shear: item.shear, size: item.size)
            for (mine, theirs) in zip(transform.theta, item.theta) {
                #expect(abs(mine - theirs) <= 1e-12, "theta of rotation \(item.rotation)")
            }
            let image = transform.resample(item.image, planes: 2, height: item.size, width: item.size, nearest: false)
            let worst = zip(image, item.imageOut).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-5, "bilinear, rotation \(item.rotation): \(worst)")
            let masks = transform.resample(item.masks, planes: 3, height: item.maskSize, width: item.maskSize, nearest: true)
            let differing = zip(masks, item.masksOut).filter { $0 != $1 }.count
            #expect(differing == 0, "nearest, rotation \(item.rotation): \(differing) pixels differ")
        }
    }

    @Test func gammaEqualsNumPy() {
        for item in reference.gamma {
            let out = SegmentationAugmentation.adjustGamma(item.values, gamma: item.gamma)
            let worst = zip(out, item.out).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-6, "gamma \(item.gamma): \(worst)")
        }
    }

    @Test func drawsAreSeededAndFollowThePaperProbabilities() {
        let augmentation = SegmentationAugmentation()
        var counts = (affine: 0, gamma: 0, noise: 0)
        struct Counter: RandomNumberGenerator {
            var state: UInt64
            mutating func next() -> UInt64 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return state
            }
        }
        var seeded = Counter(state: 7)
        let draws = 4_000
        for _ in 0..<draws {
            let draw = augmentation.draw(size: 64, using: &seeded)
            if draw.transforms.contains(where: { $0.controlDisplacements.isEmpty }) { counts.affine += 1 }
            if draw.gamma != nil { counts.gamma += 1 }
            if draw.noise != nil { counts.noise += 1 }
        }
        // Binomial 95% bands (± 2 standard deviations).
        #expect(abs(Double(counts.affine) / Double(draws) - 0.5) < 2 * (0.25 / Double(draws)).squareRoot())
        #expect(abs(Double(counts.gamma) / Double(draws) - 0.1) < 2 * (0.09 / Double(draws)).squareRoot())
        #expect(abs(Double(counts.noise) / Double(draws) - 0.1) < 2 * (0.09 / Double(draws)).squareRoot())
        // The same seed gives the same image.
        var first = Counter(state: 99), second = Counter(state: 99)
        let image = (0..<(64 * 64)).map { Float($0 % 64) / 64 }
        let masks = [Float](repeating: 1, count: 32 * 32)
        let a = SegmentationAugmentation.apply(augmentation.draw(size: 64, using: &first), image: image, channels: 1, size: 64,
                                               masks: masks, classes: 1, maskSize: 32)
        let b = SegmentationAugmentation.apply(augmentation.draw(size: 64, using: &second), image: image, channels: 1, size: 64,
                                               masks: masks, classes: 1, maskSize: 32)
        #expect(a.image == b.image && a.masks == b.masks)
    }
}
