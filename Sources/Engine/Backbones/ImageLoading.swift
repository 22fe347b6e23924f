import Dispatch
import Foundation
import Imaging

/// Decodes and preprocesses images on several threads, keeping their order; the first failing
/// image (lowest index, whatever the schedule) is the error reported.
func preprocessImages(_ urls: [URL], with preprocessing: Preprocessing, threads: Int) throws -> [PreprocessedImage] {
    let collector = OrderedCollector<PreprocessedImage>(count: urls.count)
    let workers = max(1, min(threads, urls.count))
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        for index in stride(from: worker, to: urls.count, by: workers) {
            do {
                collector.store(preprocessing.apply(to: try decodeImage(at: urls[index])), at: index)
            } catch {
                collector.fail(error, at: index)
            }
        }
    }
    return try collector.results()
}

/// Results of a parallel loop by index, with the lowest-index error.
private final class OrderedCollector<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Element?]
    private var failure: (index: Int, error: Error)?

    init(count: Int) {
        values = [Element?](repeating: nil, count: count)
    }

    func store(_ value: Element, at index: Int) {
        lock.withLock { values[index] = value }
    }

    func fail(_ error: Error, at index: Int) {
        lock.withLock {
            if failure == nil || index < failure!.index { failure = (index, error) }
        }
    }

    func results() throws -> [Element] {
        try lock.withLock {
            if let failure { throw failure.error }
            return values.map { $0! }
        }
    }
}
