import Dispatch
import Foundation
import Imaging
import Synchronization

/// Decodes and preprocesses images on several threads, keeping their order; an image that
/// cannot be read is a failure in its slot, not the end of the batch.
func preprocessEach(_ urls: [URL], with preprocessing: Preprocessing, threads: Int) -> [Result<PreprocessedImage, any Error>] {
    let results = Mutex([Result<PreprocessedImage, any Error>?](repeating: nil, count: urls.count))
    let workers = max(1, min(threads, urls.count))
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        for index in stride(from: worker, to: urls.count, by: workers) {
            let result = Result { () throws -> PreprocessedImage in preprocessing.apply(to: try decodeImage(at: urls[index])) }
            results.withLock { $0[index] = result }
        }
    }
    return results.withLock { $0.map { $0! } }
}

/// Runs `batches` through `body` in order while the next batch's images are decoded and
/// preprocessed on another thread (a queue one batch deep), so image loading overlaps the
/// forward pass instead of adding to it.
/// - Parameters:
///   - loaderThreads: threads that decode a batch (the forward pass has the others).
///   - body: receives a batch's index and its images' results.
func withPrefetchedImages(_ batches: [[URL]], preprocessing: Preprocessing, loaderThreads: Int,
                          _ body: (Int, [Result<PreprocessedImage, any Error>]) throws -> Void) throws {
    guard !batches.isEmpty else { return }
    let ready = Mutex<[Result<PreprocessedImage, any Error>]?>(nil)
    let done = DispatchSemaphore(value: 0)
    func load(_ index: Int) {
        let urls = batches[index]
        DispatchQueue.global(qos: .userInitiated).async {
            let images = preprocessEach(urls, with: preprocessing, threads: loaderThreads)
            ready.withLock { $0 = images }
            done.signal()
        }
    }
    load(0)
    for index in batches.indices {
        done.wait()
        let images = ready.withLock { value in
            defer { value = nil }
            return value!
        }
        if index + 1 < batches.count { load(index + 1) }
        do {
            try body(index, images)
        } catch {
            // Let a load already under way finish before unwinding (it captures nothing that ends).
            if index + 1 < batches.count { done.wait() }
            throw error
        }
    }
}
