import Dispatch
import Foundation
import Synchronization

extension DatasetDescription {
    /// The `masks` section of a segmentation dataset's description: per class, how many images
    /// have a non-empty mask and how many mask pixels there are in all, at the masks' own size;
    /// a last row counts the images with any non-empty mask.
    ///
    /// - Parameters:
    ///   - manifest: a manifest with `segmentation` (else the error says so).
    ///   - threads: samples read at once.
    /// - Throws: the `MaskError` of the first sample (in manifest order) whose masks cannot be read.
    /// - Complexity: reads every mask file once; run-length and polygon masks are counted without drawing.
    public static func maskSection(of manifest: Manifest, threads: Int) throws(MaskError) -> DescriptionTable {
        guard let segmentation = manifest.segmentation else { throw .noSegmentation(dataset: manifest.dataset) }
        let samples = manifest.samples
        let results = Mutex([Result<[Int], MaskError>?](repeating: nil, count: samples.count))
        let next = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, samples.count))) { _ in
            while true {
                let index: Int = next.withLock { value in
                    defer { value += 1 }
                    return value
                }
                guard index < samples.count else { return }
                let counts = Result { () throws(MaskError) -> [Int] in try manifest.maskPixelCounts(of: samples[index]) }
                results.withLock { $0[index] = counts }
            }
        }
        var images = [Int](repeating: 0, count: segmentation.classes.count)
        var pixels = images
        var anyClass = 0
        for result in results.withLock({ $0 }) {
            let counts = try result!.get()
            for (index, count) in counts.enumerated() where count > 0 {
                images[index] += 1
                pixels[index] += count
            }
            if counts.contains(where: { $0 > 0 }) { anyClass += 1 }
        }
        var rows: [(name: String, values: [DescriptionTable.Value])] = segmentation.classes.indices.map {
            (segmentation.classes[$0], [.count(images[$0]), .count(pixels[$0])])
        }
        rows.append(("(any class)", [.count(anyClass), .none]))
        return DescriptionTable(key: "masks", title: "segmentation masks (\(segmentation.classes.count) class\(segmentation.classes.count == 1 ? "" : "es"), "
                                    + (segmentation.exclusive ? "exclusive" : "may overlap") + "; pixels at the masks' own size)",
                                columns: ["images with mask", "mask pixels"], rows: rows)
    }
}
