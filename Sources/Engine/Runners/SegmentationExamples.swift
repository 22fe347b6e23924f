import Datasets
import Foundation
import Imaging

/// The qualitative panels of a segmentation stage (the paper's Figure 3): per example test image
/// one RGB PNG of three squares at the mask size — the image, the ground truth over it, the
/// prediction over it — classes coloured from a fixed palette at 50% opacity.
enum SegmentationExamples {
    /// One written panel.
    struct Entry: Codable {
        /// File name inside the artifact (`examples/0.png`).
        var file: String
        /// The sample shown.
        var sampleID: String
    }

    /// Class colours, in plane order (cycled beyond eight classes).
    static let palette: [(UInt16, UInt16, UInt16)] = [
        (230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60),
    ]

    /// Writes one panel per sample of `samples` into `directory/examples/`.
    /// - Parameter predicted: `[N, C, H, W]` hard masks of the same samples.
    /// - Throws: image decoding or PNG writing errors naming the file.
    static func write(_ samples: StoredSegmentationSamples, predicted: [UInt8], manifest: Manifest, to directory: URL) throws -> [Entry] {
        let folder = directory.appendingPathComponent(SegmentationArtifact.examplesFolder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let side = samples.maskHeight, plane = side * side, classes = samples.classes
        let preprocessing = Preprocessing(replicateGreyToThreeChannels: false, size: side, mean: nil, std: nil)
        var truth = [UInt8](repeating: 0, count: classes * plane)
        var entries: [Entry] = []
        for position in 0..<samples.count {
            let sample = manifest.samples[samples.rows[position]]
            let image = preprocessing.apply(to: try decodeImage(at: manifest.imageURL(of: sample)))
            var grey = [Float](repeating: 0, count: plane)
            for channel in 0..<image.channels {
                for pixel in 0..<plane { grey[pixel] += image.values[channel * plane + pixel] / Float(image.channels) }
            }
            truth.withUnsafeMutableBufferPointer { samples.copyMasks(sample: position, into: $0.baseAddress!) }
            let prediction = predicted[(position * classes * plane)..<((position + 1) * classes * plane)]
            var rgb = [UInt16](repeating: 0, count: 3 * side * 3 * side)
            for row in 0..<side {
                for column in 0..<side {
                    let pixel = row * side + column
                    let base = UInt16(max(0, min(255, (grey[pixel] * 255).rounded())))
                    for panel in 0..<3 {
                        var colour = (Double(base), Double(base), Double(base))
                        if panel > 0 {
                            for c in 0..<classes {
                                let on = panel == 1 ? truth[c * plane + pixel] : prediction[prediction.startIndex + c * plane + pixel]
                                guard on != 0 else { continue }
                                let tint = palette[c % palette.count]
                                colour = ((colour.0 + Double(tint.0)) / 2, (colour.1 + Double(tint.1)) / 2, (colour.2 + Double(tint.2)) / 2)
                            }
                        }
                        let out = (row * 3 * side + panel * side + column) * 3
                        rgb[out] = UInt16(colour.0.rounded())
                        rgb[out + 1] = UInt16(colour.1.rounded())
                        rgb[out + 2] = UInt16(colour.2.rounded())
                    }
                }
            }
            let file = "\(SegmentationArtifact.examplesFolder)/\(position).png"
            try DecodedImage(width: 3 * side, height: side, channels: 3, bitDepth: 8, samples: rgb)
                .writePNG(to: directory.appendingPathComponent(file))
            entries.append(Entry(file: file, sampleID: sample.id))
        }
        return entries
    }
}
