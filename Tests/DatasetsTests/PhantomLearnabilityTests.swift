@testable import Datasets
import Imaging
import Testing

/// A 16×16 thumbnail in [0, 1] by block averaging.
private func thumbnail(_ image: DecodedImage, side: Int = 16) -> [Double] {
    let block = image.width / side
    let scale = Double(image.maximumSampleValue) * Double(block * block)
    var result = [Double](repeating: 0, count: side * side)
    for y in 0..<(side * block) {
        for x in 0..<(side * block) {
            result[(y / block) * side + x / block] += Double(image[x, y, 0]) / scale
        }
    }
    return result
}

/// Accuracy of a nearest-class-mean classifier trained on the first half, tested on the second.
private func nearestMeanAccuracy(_ features: [[Double]], _ classes: [String]) -> Double {
    let half = features.count / 2
    var sums: [String: [Double]] = [:], counts: [String: Int] = [:]
    for index in 0..<half {
        sums[classes[index], default: [Double](repeating: 0, count: features[index].count)] =
            zip(sums[classes[index]] ?? [Double](repeating: 0, count: features[index].count), features[index]).map(+)
        counts[classes[index], default: 0] += 1
    }
    let centroids = sums.map { entry in (entry.key, entry.value.map { $0 / Double(counts[entry.key]!) }) }
    var correct = 0
    for index in half..<features.count {
        let predicted = centroids.min { a, b in
            zip(a.1, features[index]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
                < zip(b.1, features[index]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        }!.0
        if predicted == classes[index] { correct += 1 }
    }
    return Double(correct) / Double(features.count - half)
}

struct PhantomLearnabilityTests {
    /// Even the crudest image model separates the anatomies and views of upright images: the
    /// labels are carried by the pixels, not just by the file names.
    @Test func nearestMeanOnThumbnailsSeparatesAnatomyAndView() {
        var options = PhantomOptions()
        options.rotationProbability = 0
        options.mirrorProbability = 0
        let plans = planPhantomDataset(count: 240, seed: 77, options: options)
        let features = plans.map { thumbnail(renderPhantom($0, size: 64)) }
        let anatomy = nearestMeanAccuracy(features, plans.map(\.anatomy.rawValue))
        let anatomyAndView = nearestMeanAccuracy(features, plans.map { $0.anatomy.rawValue + "-" + $0.view.rawValue })
        #expect(anatomy > 0.8, "anatomy accuracy \(anatomy), chance about 0.3")  // measured 0.97
        #expect(anatomyAndView > 0.7, "anatomy+view accuracy \(anatomyAndView), chance about 0.2")  // measured 0.92
    }
}
