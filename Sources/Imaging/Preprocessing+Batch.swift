import Foundation

extension Preprocessing {
    /// Reads, decodes and preprocesses several files concurrently, keeping their order.
    ///
    /// Each image is independent, so the work spreads over `maximumConcurrency` tasks; the
    /// results equal those of calling `apply(to:)` on each image in turn.
    ///
    /// - Parameters:
    ///   - urls: image files (PNG or JPEG).
    ///   - maximumConcurrency: images in flight at once; defaults to the active processor count.
    ///   - maximumPixelCount: passed to `decodeImage(at:maximumPixelCount:)`.
    /// - Returns: one preprocessed image per URL, in the same order.
    /// - Throws: the first `ImageError` met; remaining work is cancelled.
    public func apply(toImagesAt urls: [URL], maximumConcurrency: Int = ProcessInfo.processInfo.activeProcessorCount,
                      maximumPixelCount: Int = defaultMaximumPixelCount) async throws -> [PreprocessedImage] {
        precondition(maximumConcurrency > 0, "maximumConcurrency must be positive")
        let preprocessing = self
        return try await withThrowingTaskGroup(of: (Int, PreprocessedImage).self) { group in
            var results = [PreprocessedImage?](repeating: nil, count: urls.count)
            var next = 0
            func submit() {
                let index = next
                let url = urls[index]
                group.addTask {
                    try Task.checkCancellation()
                    let image = try decodeImage(at: url, maximumPixelCount: maximumPixelCount)
                    return (index, preprocessing.apply(to: image))
                }
                next += 1
            }
            while next < min(maximumConcurrency, urls.count) { submit() }
            while let (index, image) = try await group.next() {
                results[index] = image
                if next < urls.count { submit() }
            }
            return results.map { $0! }
        }
    }
}
