import Random
import Tensor

/// Training steps of a probe head (forward, loss, backward, Adam), each split over a
/// `WorkerTeam` with OpenBLAS at one thread per call.
///
/// The paper's head is small (768 → 512 → 256 → labels, batch 64): each GEMM of a step takes
/// 30–250 µs, too little for OpenBLAS's own threads, which then spend a third of the CPU spinning.
/// Instead every layer's features are cut into `blockCount` blocks (`part(width, block)`), each
/// computed by one member of the team, and a step runs as a few fork–join phases. A member owns
/// the same block of every layer, which lines the work up so that few phases are needed.
///
/// Activations and their gradients are kept feature-major (`[width, samples]`), so a block is a
/// run of whole rows, and the products put the weight block first (`W_l[part] · inputᵀ` with 256
/// rows and 64 columns rather than 64 × 256): OpenBLAS ran that shape 10% faster here, and the
/// whole epoch 9% faster than with sample-major activations. The phases:
///
/// - gather: each member copies its share of the batch's samples (sample-major, as stored) and
///   applies a pending update of the output layer;
/// - forward, one phase per hidden layer `l`: block `b` is rows `part(b)` of the layer's output
///   (`W_l[part] · inputᵀ + b`), then ReLU and dropout on them;
/// - output layer, redundantly on every member (its width is the label count): logits, loss and
///   `∂L/∂logits`; then rows `part(b)` of the last layer's weight gradient;
/// - backward, one phase per layer `l ≥ 1` (the output layer's phase is the same one): rows
///   `part(b)` of `∂L/∂input_l = W_l[:, part]ᵀ · G` (through dropout and ReLU that is the gradient
///   of layer `l − 1`'s output), then rows `part(b)` of `∂L/∂W_{l−1}` and `∂L/∂bias_{l−1}`, which
///   need only those rows;
/// - Adam updates a block's rows once no member reads them any more: layer 0's right after its
///   gradient (no phase reads `W_0` after the forward), layer `l + 1`'s in the phase after the one
///   that read it, and layer 1's (or a linear head's only layer) in the next step's gather phase.
///
/// The number of blocks is fixed, not the thread count, so every GEMM call has the same shape on
/// any number of threads and a seed gives the same weights to the bit (a test checks 1 against 2
/// and more threads); element-wise work, sums in sample order and dropout masks hashed from
/// (feature, sample) positions do not depend on the split either.
final class ProbeStepper {
    let layout: ProbeLayout
    let task: ProbeTask
    let capacity: Int
    private let team: WorkerTeam
    let optimizer: AdamOptimizer
    /// All weights and biases, laid out as `ProbeNetwork.parameters`.
    let parameters: UnsafeMutablePointer<Float>
    let parameterCount: Int
    private let parameterGradients: UnsafeMutablePointer<Float>
    /// `[capacity, layerSizes[0]]`: the batch's features, filled by the caller.
    let input: UnsafeMutablePointer<Float>
    /// `[capacity, outputs]` multi-label targets, or `[capacity]` class indices: filled by the caller.
    let floatTargets: UnsafeMutablePointer<Float>
    let classTargets: UnsafeMutablePointer<Int32>
    /// Per hidden layer, feature-major (`[width, capacity]`: one row per feature, one column per
    /// sample): its output after ReLU and dropout, the dropout mask, and the loss gradient with
    /// respect to its output before ReLU.
    private let activations: [UnsafeMutablePointer<Float>]
    private let masks: [UnsafeMutablePointer<Float>]
    private let hiddenGradients: [UnsafeMutablePointer<Float>]
    /// Per member: the logits and their gradient (every member computes them), sample-major for
    /// the loss and feature-major for the products.
    private let logits: [UnsafeMutablePointer<Float>]
    private let logitGradients: [UnsafeMutablePointer<Float>]
    private let transposedLogits: [UnsafeMutablePointer<Float>]
    private let transposedLogitGradients: [UnsafeMutablePointer<Float>]
    /// Layer 1's Adam update, left for the start of the next step (see the type's documentation).
    private var pendingUpdate: (layer: Int, constants: AdamOptimizer.StepConstants)?

    init(layout: ProbeLayout, task: ProbeTask, initialParameters: [Float], capacity: Int, threads: Int,
         optimizer: AdamOptimizer) {
        precondition(initialParameters.count == ProbeNetwork.parameterCount(layout.layerSizes), "parameter count mismatch")
        self.layout = layout
        self.task = task
        self.capacity = capacity
        self.optimizer = optimizer
        team = WorkerTeam(size: max(1, min(threads, Self.blockCount)))
        let sizes = layout.layerSizes, outputs = sizes.last!
        parameterCount = initialParameters.count
        parameters = .allocate(capacity: parameterCount)
        parameters.initialize(from: initialParameters, count: parameterCount)
        parameterGradients = .allocate(capacity: parameterCount)
        parameterGradients.initialize(repeating: 0, count: parameterCount)
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            return pointer
        }
        input = buffer(capacity * sizes[0])
        floatTargets = buffer(capacity * outputs)
        classTargets = .allocate(capacity: max(capacity, 1))
        classTargets.initialize(repeating: 0, count: max(capacity, 1))
        let hiddenWidths = sizes.dropFirst().dropLast()
        activations = hiddenWidths.map { buffer(capacity * $0) }
        masks = hiddenWidths.map { buffer(capacity * $0) }
        hiddenGradients = hiddenWidths.map { buffer(capacity * $0) }
        logits = (0..<team.size).map { _ in buffer(capacity * outputs) }
        logitGradients = (0..<team.size).map { _ in buffer(capacity * outputs) }
        transposedLogits = (0..<team.size).map { _ in buffer(capacity * outputs) }
        transposedLogitGradients = (0..<team.size).map { _ in buffer(capacity * outputs) }
    }

    deinit {
        for pointer in [parameters, parameterGradients, input, floatTargets] + activations + masks + hiddenGradients
            + logits + logitGradients + transposedLogits + transposedLogitGradients { pointer.deallocate() }
        classTargets.deallocate()
    }

    /// The current parameters (after any pending update).
    var currentParameters: [Float] {
        finishPendingUpdate()
        return Array(UnsafeBufferPointer(start: parameters, count: parameterCount))
    }

    /// Replaces the parameters (e.g. with given initial weights for a parity check).
    func setParameters(_ values: [Float]) {
        precondition(values.count == parameterCount, "parameter count mismatch")
        finishPendingUpdate()
        parameters.update(from: values, count: parameterCount)
    }

    /// Applies an update left over from the last step, so that `parameters` is current.
    func finishPendingUpdate() {
        guard let pending = pendingUpdate else { return }
        pendingUpdate = nil
        BLASBackend.withSingleThreadedCalls {
            team.run { member in
                for block in blocks(of: member) { adam(layer: pending.layer, block: block, constants: pending.constants) }
            }
        }
    }

    /// One optimisation step on the training samples `rows` of the row-major `features`, whose
    /// targets the caller has put in `floatTargets` or `classTargets`; returns the loss.
    /// - Parameter dropoutKey: the step's dropout key (masks hashed from it), or nil for no dropout.
    func step(rows: UnsafeBufferPointer<Int>, features: UnsafePointer<Float>, dropoutKey: UInt64?) -> Double {
        run(rows: rows, features: features, dropoutKey: dropoutKey, updating: true)
    }

    /// The loss and its gradient with respect to every parameter (laid out as the parameters) on
    /// the given samples, without updating anything: the same phases as `step`, for gradient checks.
    func lossAndGradient(rows: UnsafeBufferPointer<Int>, features: UnsafePointer<Float>,
                         dropoutKey: UInt64?) -> (loss: Double, gradient: [Float]) {
        finishPendingUpdate()
        let loss = run(rows: rows, features: features, dropoutKey: dropoutKey, updating: false)
        let gradient = Array(UnsafeBufferPointer(start: parameterGradients, count: parameterCount))
        parameterGradients.update(repeating: 0, count: parameterCount)
        return (loss, gradient)
    }

    private func run(rows: UnsafeBufferPointer<Int>, features: UnsafePointer<Float>, dropoutKey: UInt64?,
                     updating: Bool) -> Double {
        let count = rows.count
        precondition(count > 0 && count <= capacity, "batch of \(count) rows for a workspace of \(capacity)")
        let last = layout.layerCount - 1
        let constants = updating ? optimizer.nextStep() : nil
        func adam(layer: Int, block: Int, constants: AdamOptimizer.StepConstants?) {
            if let constants { self.adam(layer: layer, block: block, constants: constants) }
        }
        var loss = 0.0
        BLASBackend.withSingleThreadedCalls {
            // Gather the batch, each member its share of the rows (beside the pending update).
            let pending = pendingUpdate
            pendingUpdate = nil
            team.run { member in
                if let pending {
                    for block in blocks(of: member) { adam(layer: pending.layer, block: block, constants: pending.constants) }
                }
                let width = layout.layerSizes[0]
                for position in (count * member / team.size)..<(count * (member + 1) / team.size) {
                    (input + position * width).update(from: features + rows[position] * width, count: width)
                }
            }
            for layer in 0..<last {
                team.run { member in
                    for block in blocks(of: member) { forwardHidden(layer: layer, block: block, rows: count, dropoutKey: dropoutKey) }
                }
            }
            if last == 0 {
                team.run { member in
                    let memberLoss = outputLayer(member: member, rows: count)
                    if member == 0 { loss = memberLoss }
                    for block in blocks(of: member) {
                        weightGradient(layer: 0, block: block, rows: count, outputGradient: UnsafePointer(transposedLogitGradients[member]))
                    }
                }
                // Every member read all of the weights for its logits: update them next phase.
                if let constants { pendingUpdate = (0, constants) }
                return
            }
            for layer in stride(from: last, through: 1, by: -1) {
                team.run { member in
                    if layer == last {
                        let memberLoss = outputLayer(member: member, rows: count)
                        if member == 0 { loss = memberLoss }
                    }
                    for block in blocks(of: member) {
                        if layer == last {
                            weightGradient(layer: last, block: block, rows: count, outputGradient: UnsafePointer(transposedLogitGradients[member]))
                        } else {
                            adam(layer: layer + 1, block: block, constants: constants)
                        }
                        backwardThrough(layer: layer, block: block, member: member, rows: count, usedDropout: dropoutKey != nil)
                        if layer == 1 { adam(layer: 0, block: block, constants: constants) }
                    }
                }
            }
            if let constants { pendingUpdate = (1, constants) }
        }
        return loss
    }

    // MARK: - Phases

    /// How many blocks of features every layer is cut into. A constant, not the thread count:
    /// OpenBLAS's rounding depends on the shape of each call (blocking, edge kernels), so the
    /// same blocks, whichever thread computes them, give the same bits on any machine.
    static let blockCount = 2

    /// The blocks member `member` computes (round-robin).
    @inline(__always)
    private func blocks(of member: Int) -> StrideTo<Int> { stride(from: member, to: Self.blockCount, by: team.size) }

    /// Block `block` of `width` features.
    @inline(__always)
    private func part(_ width: Int, _ block: Int) -> Range<Int> {
        (width * block / Self.blockCount)..<(width * (block + 1) / Self.blockCount)
    }

    /// Hidden layer `layer`'s output block `block`: rows `part` of `W · inputᵀ + b` in the
    /// feature-major activations, then ReLU and dropout.
    private func forwardHidden(layer: Int, block: Int, rows: Int, dropoutKey: UInt64?) {
        let inWidth = layout.layerSizes[layer], outWidth = layout.layerSizes[layer + 1]
        let features = part(outWidth, block)
        guard !features.isEmpty else { return }
        let output = activations[layer], bias = parameters + layout.biasOffsets[layer]
        for feature in features { (output + feature * capacity).update(repeating: bias[feature], count: rows) }
        let weights = parameters + layout.weightOffsets[layer] + features.lowerBound * inWidth
        if layer == 0 {
            // The gathered batch is sample-major [rows, in]: multiply by its transpose.
            BLASBackend.sgemm(transposeB: true, m: features.count, n: rows, k: inWidth, a: weights, leadingA: inWidth,
                              b: input, leadingB: inWidth, beta: 1, c: output + features.lowerBound * capacity, leadingC: capacity)
        } else {
            BLASBackend.sgemm(m: features.count, n: rows, k: inWidth, a: weights, leadingA: inWidth,
                              b: activations[layer - 1], leadingB: capacity, beta: 1,
                              c: output + features.lowerBound * capacity, leadingC: capacity)
        }
        var mask: UnsafePointer<Float>?
        if let dropoutKey, layout.dropout > 0 {
            Gradients.fillDropoutMask(masks[layer], rows: features, columns: 0..<rows, leading: capacity,
                                      probability: layout.dropout, key: Self.layerKey(dropoutKey, layer: layer))
            mask = UnsafePointer(masks[layer])
        }
        for feature in features {
            let offset = feature * capacity
            Self.forEachBlock(0..<rows) { row in
                let value = Block(output + offset + row)
                Block.store(value.keepingPositive * (mask.map { Block($0 + offset + row) } ?? .one), output + offset + row)
            } tail: { row in
                let value = output[offset + row]
                output[offset + row] = (value < 0 ? 0 : value) * (mask?[offset + row] ?? 1)
            }
        }
    }

    /// Every member: logits, loss and their gradient, in its own buffers (the gradient also
    /// feature-major, for the backward products). Returns the loss.
    private func outputLayer(member: Int, rows: Int) -> Double {
        let last = layout.layerCount - 1
        let inWidth = layout.layerSizes[last], outputs = layout.layerSizes[last + 1]
        let transposed = transposedLogits[member], bias = parameters + layout.biasOffsets[last]
        for output in 0..<outputs { (transposed + output * capacity).update(repeating: bias[output], count: rows) }
        let weights = parameters + layout.weightOffsets[last]
        if last == 0 {
            BLASBackend.sgemm(transposeB: true, m: outputs, n: rows, k: inWidth, a: weights, leadingA: inWidth,
                              b: input, leadingB: inWidth, beta: 1, c: transposed, leadingC: capacity)
        } else {
            BLASBackend.sgemm(m: outputs, n: rows, k: inWidth, a: weights, leadingA: inWidth,
                              b: activations[last - 1], leadingB: capacity, beta: 1, c: transposed, leadingC: capacity)
        }
        let memberLogits = logits[member], gradient = logitGradients[member]
        for row in 0..<rows {
            for output in 0..<outputs { memberLogits[row * outputs + output] = transposed[output * capacity + row] }
        }
        let loss: Double
        switch task {
        case .multiLabel:
            loss = Gradients.binaryCrossEntropyWithLogits(logits: memberLogits, targets: floatTargets, count: rows * outputs,
                                                          gradient: gradient)
        case .multiClass:
            loss = Gradients.softmaxCrossEntropy(logits: memberLogits, rows: rows, classes: outputs, targets: classTargets,
                                                 gradient: gradient)
        }
        let transposedGradient = transposedLogitGradients[member]
        for row in 0..<rows {
            for output in 0..<outputs { transposedGradient[output * capacity + row] = gradient[row * outputs + output] }
        }
        return loss
    }

    /// Rows `part` of `∂L/∂W_layer = G · input` and of `∂L/∂b_layer = Σ_samples G`, where `G` is
    /// the feature-major `[out, rows]` gradient with respect to the layer's output.
    private func weightGradient(layer: Int, block: Int, rows: Int, outputGradient: UnsafePointer<Float>) {
        let inWidth = layout.layerSizes[layer], outWidth = layout.layerSizes[layer + 1]
        let outRows = part(outWidth, block)
        guard !outRows.isEmpty else { return }
        // Adam leaves the gradient buffer zeroed, so the GEMM adds onto zeros (β = 1, the same
        // sums as β = 0) and OpenBLAS skips the pass that would clear it first.
        let gradientRows = outputGradient + outRows.lowerBound * capacity
        let target = parameterGradients + layout.weightOffsets[layer] + outRows.lowerBound * inWidth
        if layer == 0 {
            BLASBackend.sgemm(m: outRows.count, n: inWidth, k: rows, a: gradientRows, leadingA: capacity,
                              b: input, leadingB: inWidth, beta: 1, c: target, leadingC: inWidth)
        } else {
            BLASBackend.sgemm(transposeB: true, m: outRows.count, n: inWidth, k: rows, a: gradientRows, leadingA: capacity,
                              b: activations[layer - 1], leadingB: capacity, beta: 1, c: target, leadingC: inWidth)
        }
        let biasGradient = parameterGradients + layout.biasOffsets[layer]
        for feature in outRows {
            let gradientRow = outputGradient + feature * capacity
            var sum: Float = 0
            for row in 0..<rows { sum += gradientRow[row] }
            biasGradient[feature] = sum
        }
    }

    /// Rows `part` of layer `layer − 1`'s feature-major output gradient, `W_layer[:, part]ᵀ · G_layer`
    /// through dropout and ReLU; then rows `part` of layer `layer − 1`'s weight and bias gradients.
    private func backwardThrough(layer: Int, block: Int, member: Int, rows: Int, usedDropout: Bool) {
        let inWidth = layout.layerSizes[layer], outWidth = layout.layerSizes[layer + 1]
        let outputGradient = UnsafePointer(layer == layout.layerCount - 1 ? transposedLogitGradients[member] : hiddenGradients[layer])
        let features = part(inWidth, block)
        if !features.isEmpty {
            let gradient = hiddenGradients[layer - 1], activation = activations[layer - 1], mask = masks[layer - 1]
            BLASBackend.sgemm(transposeA: true, m: features.count, n: rows, k: outWidth,
                              a: parameters + layout.weightOffsets[layer] + features.lowerBound, leadingA: inWidth,
                              b: outputGradient, leadingB: capacity,
                              c: gradient + features.lowerBound * capacity, leadingC: capacity)
            // The stored output is positive exactly where ReLU passed and dropout kept the unit.
            let scaled = usedDropout && layout.dropout > 0
            for feature in features {
                let offset = feature * capacity
                Self.forEachBlock(0..<rows) { row in
                    var value = Block(gradient + offset + row)
                    if scaled { value *= Block(mask + offset + row) }
                    Block.store(Block.zero.replacing(with: value, where: Block(activation + offset + row) .> 0),
                                gradient + offset + row)
                } tail: { row in
                    let value = scaled ? gradient[offset + row] * mask[offset + row] : gradient[offset + row]
                    gradient[offset + row] = activation[offset + row] > 0 ? value : 0
                }
            }
        }
        weightGradient(layer: layer - 1, block: block, rows: rows, outputGradient: UnsafePointer(hiddenGradients[layer - 1]))
    }

    /// Adam on rows `part` of layer `layer`'s weight and bias.
    private func adam(layer: Int, block: Int, constants: AdamOptimizer.StepConstants) {
        let inWidth = layout.layerSizes[layer], outWidth = layout.layerSizes[layer + 1]
        let outRows = part(outWidth, block)
        guard !outRows.isEmpty else { return }
        let weights = layout.weightOffsets[layer], biases = layout.biasOffsets[layer]
        optimizer.update(range: (weights + outRows.lowerBound * inWidth)..<(weights + outRows.upperBound * inWidth),
                         parameters: parameters, gradients: parameterGradients, constants: constants)
        optimizer.update(range: (biases + outRows.lowerBound)..<(biases + outRows.upperBound),
                         parameters: parameters, gradients: parameterGradients, constants: constants)
    }

    typealias Block = SIMD8<Float>

    /// Calls `block` at every 8th column of `columns` that starts a full block of 8, then `tail`
    /// for the rest (the same arithmetic, one element at a time).
    @inline(__always)
    private static func forEachBlock(_ columns: Range<Int>, _ block: (Int) -> Void, tail: (Int) -> Void) {
        var column = columns.lowerBound
        while column + 8 <= columns.upperBound {
            block(column)
            column += 8
        }
        while column < columns.upperBound {
            tail(column)
            column += 1
        }
    }

    /// A layer's dropout key from the step's: output `layer` of SplitMix64 seeded with it.
    static func layerKey(_ stepKey: UInt64, layer: Int) -> UInt64 {
        SplitMix64.output(seed: stepKey, index: UInt64(layer))
    }
}

extension SIMD8<Float> {
    /// Eight floats loaded from `pointer` (any alignment).
    @inline(__always)
    init(_ pointer: UnsafePointer<Float>) { self = UnsafeRawPointer(pointer).loadUnaligned(as: Self.self) }
    @inline(__always)
    init(_ pointer: UnsafeMutablePointer<Float>) { self.init(UnsafePointer(pointer)) }

    /// Stores eight floats at `pointer` (any alignment).
    @inline(__always)
    static func store(_ value: Self, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Self.self)
    }

    /// Negative lanes replaced by 0 (ReLU), as `x < 0 ? 0 : x` lane by lane.
    @inline(__always)
    var keepingPositive: Self { replacing(with: 0, where: self .< 0) }
}
