import Tensor

/// Training steps of a probe head (forward, loss, backward, Adam), each split over a
/// `WorkerTeam` with OpenBLAS at one thread per call.
///
/// The paper's head is small (768 → 512 → 256 → labels, batch 64): each GEMM of a step takes
/// 30–250 µs, too little for OpenBLAS's own threads, which then spend a third of the CPU spinning.
/// Instead every layer's features are cut into `blockCount` blocks (`part(width, block)`), each
/// computed by one member of the team, and a step runs as a few fork–join phases. A member owns
/// the same block of every layer, which lines the work up so that few phases are needed:
///
/// - gather: each member copies its share of the batch's rows (and applies a pending update);
/// - forward, one phase per hidden layer `l`: block `b` is columns `part(b)` of the layer's output
///   (`input · W_lᵀ` for rows `part(b)` of `W_l`), then ReLU and dropout on them;
/// - output layer, redundantly on every member (its width is the label count): logits, loss and
///   `∂L/∂logits`; then rows `part(b)` of the last layer's weight gradient;
/// - backward, one phase per layer `l ≥ 1` (the output layer's phase is the same one): columns
///   `part(b)` of `∂L/∂input_l = G · W_l` (through dropout and ReLU that is the gradient of layer
///   `l − 1`'s output), then rows `part(b)` of `∂L/∂W_{l−1}` and `∂L/∂bias_{l−1}`, which need only
///   those columns;
/// - Adam updates a block's rows once no member reads them any more: layer 0's right after its
///   gradient (no phase reads `W_0` after the forward), layer `l + 1`'s in the phase after the one
///   that read it, and layer 1's (or a linear head's only layer) in the next step's gather phase.
///
/// The number of blocks is fixed, not the thread count, so every GEMM call has the same shape on
/// any number of threads and a seed gives the same weights to the bit (a test checks 1 against 2
/// and more threads); element-wise work, column sums in row order and dropout masks hashed from
/// positions do not depend on the split either.
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
    /// Per hidden layer: its output after ReLU and dropout, the dropout mask, and the loss gradient
    /// with respect to its output before ReLU.
    private let activations: [UnsafeMutablePointer<Float>]
    private let masks: [UnsafeMutablePointer<Float>]
    private let hiddenGradients: [UnsafeMutablePointer<Float>]
    /// Per member: the logits and their gradient (every member computes them).
    private let logits: [UnsafeMutablePointer<Float>]
    private let logitGradients: [UnsafeMutablePointer<Float>]
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
    }

    deinit {
        for pointer in [parameters, parameterGradients, input, floatTargets] + activations + masks + hiddenGradients
            + logits + logitGradients { pointer.deallocate() }
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
                        weightGradient(layer: 0, block: block, rows: count, outputGradient: UnsafePointer(logitGradients[member]))
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
                            weightGradient(layer: last, block: block, rows: count, outputGradient: UnsafePointer(logitGradients[member]))
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

    private func layerInput(_ layer: Int) -> UnsafePointer<Float> {
        UnsafePointer(layer == 0 ? input : activations[layer - 1])
    }

    /// Columns `part` of hidden layer `layer`'s output: `input · W[part]ᵀ + b[part]`, ReLU, dropout.
    private func forwardHidden(layer: Int, block: Int, rows: Int, dropoutKey: UInt64?) {
        let inWidth = layout.layerSizes[layer], outWidth = layout.layerSizes[layer + 1]
        let columns = part(outWidth, block)
        guard !columns.isEmpty else { return }
        let output = activations[layer], bias = parameters + layout.biasOffsets[layer]
        for row in 0..<rows { (output + row * outWidth + columns.lowerBound).update(from: bias + columns.lowerBound, count: columns.count) }
        BLASBackend.sgemm(transposeB: true, m: rows, n: columns.count, k: inWidth,
                          a: layerInput(layer), leadingA: inWidth,
                          b: parameters + layout.weightOffsets[layer] + columns.lowerBound * inWidth, leadingB: inWidth,
                          beta: 1, c: output + columns.lowerBound, leadingC: outWidth)
        var mask: UnsafePointer<Float>?
        if let dropoutKey, layout.dropout > 0 {
            Gradients.fillDropoutMask(masks[layer], rows: rows, columns: columns, leading: outWidth, probability: layout.dropout,
                                      key: Self.layerKey(dropoutKey, layer: layer))
            mask = UnsafePointer(masks[layer])
        }
        for row in 0..<rows {
            let offset = row * outWidth
            Self.forEachBlock(columns) { column in
                let value = Block(output + offset + column)
                Block.store(value.keepingPositive * (mask.map { Block($0 + offset + column) } ?? .one), output + offset + column)
            } tail: { column in
                let value = output[offset + column]
                output[offset + column] = (value < 0 ? 0 : value) * (mask?[offset + column] ?? 1)
            }
        }
    }

    /// Every member: logits, loss and their gradient, in its own buffers. Returns the loss.
    private func outputLayer(member: Int, rows: Int) -> Double {
        let last = layout.layerCount - 1
        let inWidth = layout.layerSizes[last], outputs = layout.layerSizes[last + 1]
        let memberLogits = logits[member], gradient = logitGradients[member]
        Gradients.linearForward(input: layerInput(last), rows: rows, inFeatures: inWidth,
                                weight: parameters + layout.weightOffsets[last], bias: parameters + layout.biasOffsets[last],
                                outFeatures: outputs, output: memberLogits)
        let loss: Double
        switch task {
        case .multiLabel:
            loss = Gradients.binaryCrossEntropyWithLogits(logits: memberLogits, targets: floatTargets, count: rows * outputs,
                                                          gradient: gradient)
        case .multiClass:
            loss = Gradients.softmaxCrossEntropy(logits: memberLogits, rows: rows, classes: outputs, targets: classTargets,
                                                 gradient: gradient)
        }
        return loss
    }

    /// Rows `part` of `∂L/∂W_layer = Gᵀ · input` and of `∂L/∂b_layer = Σ_rows G`, where `G` is
    /// the `[rows, out]` gradient with respect to the layer's output.
    private func weightGradient(layer: Int, block: Int, rows: Int, outputGradient: UnsafePointer<Float>) {
        let inWidth = layout.layerSizes[layer], outWidth = layout.layerSizes[layer + 1]
        let outRows = part(outWidth, block)
        guard !outRows.isEmpty else { return }
        // Adam leaves the gradient buffer zeroed, so the GEMM adds onto zeros (β = 1, the same
        // sums as β = 0) and OpenBLAS skips the pass that would clear it first.
        BLASBackend.sgemm(transposeA: true, m: outRows.count, n: inWidth, k: rows,
                          a: outputGradient + outRows.lowerBound, leadingA: outWidth,
                          b: layerInput(layer), leadingB: inWidth,
                          beta: 1, c: parameterGradients + layout.weightOffsets[layer] + outRows.lowerBound * inWidth, leadingC: inWidth)
        let biasGradient = parameterGradients + layout.biasOffsets[layer]
        for column in outRows { biasGradient[column] = 0 }
        for row in 0..<rows {
            let gradientRow = outputGradient + row * outWidth
            for column in outRows { biasGradient[column] += gradientRow[column] }
        }
    }

    /// Columns `part` of layer `layer − 1`'s output gradient, `G_layer · W_layer[:, part]` through
    /// dropout and ReLU; then rows `part` of layer `layer − 1`'s weight and bias gradients.
    private func backwardThrough(layer: Int, block: Int, member: Int, rows: Int, usedDropout: Bool) {
        let inWidth = layout.layerSizes[layer], outWidth = layout.layerSizes[layer + 1]
        let outputGradient = UnsafePointer(layer == layout.layerCount - 1 ? logitGradients[member] : hiddenGradients[layer])
        let columns = part(inWidth, block)
        if !columns.isEmpty {
            let gradient = hiddenGradients[layer - 1], activation = activations[layer - 1], mask = masks[layer - 1]
            BLASBackend.sgemm(m: rows, n: columns.count, k: outWidth,
                              a: outputGradient, leadingA: outWidth,
                              b: parameters + layout.weightOffsets[layer] + columns.lowerBound, leadingB: inWidth,
                              c: gradient + columns.lowerBound, leadingC: inWidth)
            // The stored output is positive exactly where ReLU passed and dropout kept the unit.
            let scaled = usedDropout && layout.dropout > 0
            for row in 0..<rows {
                let offset = row * inWidth
                Self.forEachBlock(columns) { column in
                    var value = Block(gradient + offset + column)
                    if scaled { value *= Block(mask + offset + column) }
                    Block.store(Block.zero.replacing(with: value, where: Block(activation + offset + column) .> 0),
                                gradient + offset + column)
                } tail: { column in
                    let value = scaled ? gradient[offset + column] * mask[offset + column] : gradient[offset + column]
                    gradient[offset + column] = activation[offset + column] > 0 ? value : 0
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
                         parameters: parameters, gradients: parameterGradients, constants: constants, clearingGradients: true)
        optimizer.update(range: (biases + outRows.lowerBound)..<(biases + outRows.upperBound),
                         parameters: parameters, gradients: parameterGradients, constants: constants, clearingGradients: true)
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

    /// A layer's dropout key from the step's.
    static func layerKey(_ stepKey: UInt64, layer: Int) -> UInt64 {
        var z = stepKey &+ UInt64(layer + 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
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
