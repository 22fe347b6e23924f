import Tensor

/// A decoder's named tensors in flat buffers: the trainable parameters (with their gradients, one
/// buffer each so that Adam runs over one range) and the batch-norm running statistics.
///
/// Names and shapes are PyTorch's (mmsegmentation's for UPerNet, DINOv2's for the linear head),
/// and weights keep PyTorch's order (`[Cout, Cin, k, k]`), so state dicts move between the two
/// unchanged: `stateDictionary()` out, `load(_:)` in with strict verification.
final class DecoderParameters {
    /// One named tensor's place in its buffer.
    struct Slot: Sendable {
        let name: String
        let shape: [Int]
        let range: Range<Int>
        var count: Int { range.count }
    }

    /// Collects slots in declaration order before the buffers are allocated.
    struct Layout {
        private(set) var trainable: [Slot] = []
        private(set) var statistics: [Slot] = []
        private(set) var trainableCount = 0, statisticsCount = 0

        /// Declares a trainable tensor.
        mutating func parameter(_ name: String, _ shape: [Int]) -> Slot {
            let count = shape.reduce(1, *)
            let slot = Slot(name: name, shape: shape, range: trainableCount..<(trainableCount + count))
            trainable.append(slot)
            trainableCount += count
            return slot
        }

        /// Declares a running statistic (not trained; updated in training forward passes).
        mutating func statistic(_ name: String, _ shape: [Int]) -> Slot {
            let count = shape.reduce(1, *)
            let slot = Slot(name: name, shape: shape, range: statisticsCount..<(statisticsCount + count))
            statistics.append(slot)
            statisticsCount += count
            return slot
        }
    }

    let layout: Layout
    /// Trainable values and their gradients (`layout.trainableCount` each).
    let values: UnsafeMutablePointer<Float>
    let gradients: UnsafeMutablePointer<Float>
    /// Running statistics (`layout.statisticsCount`).
    let statistics: UnsafeMutablePointer<Float>

    /// Allocates the buffers: values and statistics from `initialize`, gradients zero.
    init(layout: Layout) {
        self.layout = layout
        values = .allocate(capacity: max(layout.trainableCount, 1))
        values.initialize(repeating: 0, count: max(layout.trainableCount, 1))
        gradients = .allocate(capacity: max(layout.trainableCount, 1))
        gradients.initialize(repeating: 0, count: max(layout.trainableCount, 1))
        statistics = .allocate(capacity: max(layout.statisticsCount, 1))
        statistics.initialize(repeating: 0, count: max(layout.statisticsCount, 1))
    }

    deinit {
        values.deallocate()
        gradients.deallocate()
        statistics.deallocate()
    }

    var count: Int { layout.trainableCount }

    func value(_ slot: Slot) -> UnsafeMutablePointer<Float> { values + slot.range.lowerBound }
    func gradient(_ slot: Slot) -> UnsafeMutablePointer<Float> { gradients + slot.range.lowerBound }
    func statistic(_ slot: Slot) -> UnsafeMutablePointer<Float> { statistics + slot.range.lowerBound }

    /// Every tensor, trainable and statistic, by name.
    func stateDictionary() -> [String: Tensor] {
        var dictionary: [String: Tensor] = [:]
        for slot in layout.trainable {
            dictionary[slot.name] = Tensor(shape: slot.shape, scalars: Array(UnsafeBufferPointer(start: value(slot), count: slot.count)))
        }
        for slot in layout.statistics {
            dictionary[slot.name] = Tensor(shape: slot.shape,
                                           scalars: Array(UnsafeBufferPointer(start: statistic(slot), count: slot.count)))
        }
        return dictionary
    }

    /// The gradients of the trainable tensors, by name.
    func gradientDictionary() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: layout.trainable.map { slot in
            (slot.name, Tensor(shape: slot.shape, scalars: Array(UnsafeBufferPointer(start: gradient(slot), count: slot.count))))
        })
    }

    /// Replaces every tensor from `dictionary`, after checking that it has exactly this decoder's
    /// names and shapes (`num_batches_tracked`, which PyTorch keeps beside running statistics, is ignored).
    /// - Throws: `SegmentationError.stateDictionary` naming the missing, unexpected or misshapen tensors.
    func load(_ dictionary: [String: Tensor]) throws {
        let slots = layout.trainable + layout.statistics
        let known = Set(slots.map(\.name))
        let unexpected = dictionary.keys.filter { !known.contains($0) && !$0.hasSuffix("num_batches_tracked") }.sorted()
        let missing = slots.map(\.name).filter { dictionary[$0] == nil }
        let misshapen = slots.compactMap { slot -> String? in
            guard let tensor = dictionary[slot.name], tensor.shape != slot.shape else { return nil }
            return "\(slot.name) is \(tensor.shape), expected \(slot.shape)"
        }
        guard unexpected.isEmpty && missing.isEmpty && misshapen.isEmpty else {
            throw SegmentationError.stateDictionary(missing: missing, unexpected: unexpected, misshapen: misshapen)
        }
        for slot in layout.trainable {
            dictionary[slot.name]!.withUnsafeBufferPointer { value(slot).update(from: $0.baseAddress!, count: slot.count) }
        }
        for slot in layout.statistics {
            dictionary[slot.name]!.withUnsafeBufferPointer { statistic(slot).update(from: $0.baseAddress!, count: slot.count) }
        }
    }

    /// A copy of the trainable values and statistics (to keep the best weights while training).
    func snapshot() -> (values: [Float], statistics: [Float]) {
        (Array(UnsafeBufferPointer(start: values, count: layout.trainableCount)),
         Array(UnsafeBufferPointer(start: statistics, count: layout.statisticsCount)))
    }

    /// Restores a `snapshot()`.
    func restore(_ snapshot: (values: [Float], statistics: [Float])) {
        values.update(from: snapshot.values, count: layout.trainableCount)
        statistics.update(from: snapshot.statistics, count: layout.statisticsCount)
    }
}
