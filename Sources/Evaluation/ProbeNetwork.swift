import Random
import Tensor

/// A probe head's shape and parameters, all in one flat buffer so the optimiser updates every
/// parameter in one fused pass: for each layer, its weight `[out, in]` (PyTorch order) then its
/// bias `[out]`.
public struct ProbeNetwork: Sendable, Equatable {
    /// Widths from input to output, e.g. `[768, 512, 256, 5]`.
    public let layerSizes: [Int]
    /// Dropout probability after each hidden layer's ReLU (training only).
    public let dropout: Float
    /// All weights and biases, layer by layer.
    public var parameters: [Float]

    /// Number of linear layers.
    public var layerCount: Int { layerSizes.count - 1 }

    /// Offset of layer `layer`'s weight in `parameters`.
    public func weightOffset(_ layer: Int) -> Int {
        var offset = 0
        for previous in 0..<layer { offset += layerSizes[previous] * layerSizes[previous + 1] + layerSizes[previous + 1] }
        return offset
    }

    /// Offset of layer `layer`'s bias in `parameters`.
    public func biasOffset(_ layer: Int) -> Int { weightOffset(layer) + layerSizes[layer] * layerSizes[layer + 1] }

    /// Total parameter count for the given widths.
    public static func parameterCount(_ layerSizes: [Int]) -> Int {
        zip(layerSizes, layerSizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
    }

    /// A network with given parameters (e.g. loaded from a trained probe).
    /// - Precondition: `parameters.count == parameterCount(layerSizes)`.
    public init(layerSizes: [Int], dropout: Float, parameters: [Float]) {
        precondition(layerSizes.count >= 2 && layerSizes.allSatisfy { $0 > 0 }, "need positive widths from input to output")
        precondition(parameters.count == Self.parameterCount(layerSizes), "parameter count does not match the widths")
        self.layerSizes = layerSizes
        self.dropout = dropout
        self.parameters = parameters
    }

    /// A freshly initialised network: every weight and bias uniform in `±1/√fan_in`, the ranges
    /// of PyTorch's default `nn.Linear` initialisation (Kaiming-uniform with a = √5), drawn from
    /// `SeededGenerator(seed:)` layer by layer, weights before biases.
    public init(layerSizes: [Int], dropout: Float, seed: UInt64) {
        var generator = SeededGenerator(seed: seed, stream: stableHash("probe initialisation"))
        var parameters: [Float] = []
        parameters.reserveCapacity(Self.parameterCount(layerSizes))
        for (fanIn, fanOut) in zip(layerSizes, layerSizes.dropFirst()) {
            let bound = 1 / Float(fanIn).squareRoot()
            for _ in 0..<(fanIn * fanOut + fanOut) {
                parameters.append((2 * generator.nextUnitFloat() - 1) * bound)
            }
        }
        self.init(layerSizes: layerSizes, dropout: dropout, parameters: parameters)
    }

    /// Shape and offsets without the parameters, for the training loops.
    var layout: ProbeLayout {
        ProbeLayout(layerSizes: layerSizes, dropout: dropout,
                    weightOffsets: (0..<layerCount).map(weightOffset), biasOffsets: (0..<layerCount).map(biasOffset))
    }

    /// Widths of a head for `task` on `inputWidth` features.
    static func layerSizes(head: ProbeHead, inputWidth: Int, outputs: Int) -> [Int] {
        switch head {
        case let .mlp(hidden, _): return [inputWidth] + hidden + [outputs]
        case .linear: return [inputWidth, outputs]
        }
    }
}

/// A network's widths and parameter offsets, kept apart from the parameter buffer so a training
/// step can hold that buffer mutably while reading the shape.
struct ProbeLayout: Sendable {
    let layerSizes: [Int]
    let dropout: Float
    let weightOffsets: [Int]
    let biasOffsets: [Int]
    var layerCount: Int { layerSizes.count - 1 }
}

/// Preallocated activations for inference on batches of up to `capacity` rows (no dropout;
/// training steps use `ProbeStepper`).
final class ProbeWorkspace {
    let capacity: Int
    let layerSizes: [Int]
    /// `[capacity, layerSizes[0]]` gathered input rows.
    let input: UnsafeMutablePointer<Float>
    /// Per layer: output after ReLU (hidden) or logits (last), `[capacity, size]`.
    let outputs: [UnsafeMutablePointer<Float>]

    init(layerSizes: [Int], capacity: Int) {
        self.capacity = capacity
        self.layerSizes = layerSizes
        input = .allocate(capacity: capacity * layerSizes[0])
        outputs = layerSizes.dropFirst().map { .allocate(capacity: capacity * $0) }
    }

    deinit {
        input.deallocate()
        for buffer in outputs { buffer.deallocate() }
    }

    /// Forward pass of `rows` rows already in `input`; returns the logits buffer `[rows, out]`.
    @discardableResult
    func forward(_ network: ProbeLayout, parameters: UnsafePointer<Float>, rows: Int) -> UnsafeMutablePointer<Float> {
        precondition(rows <= capacity, "batch larger than the workspace")
        var layerInput = UnsafePointer(input)
        for layer in 0..<network.layerCount {
            let inWidth = layerSizes[layer], outWidth = layerSizes[layer + 1]
            let output = outputs[layer]
            Gradients.linearForward(input: layerInput, rows: rows, inFeatures: inWidth,
                                    weight: parameters + network.weightOffsets[layer],
                                    bias: parameters + network.biasOffsets[layer], outFeatures: outWidth,
                                    output: output)  // [rows, outWidth]
            if layer < network.layerCount - 1 {
                Gradients.reluForward(output, count: rows * outWidth, output: output)
            }
            layerInput = UnsafePointer(output)
        }
        return outputs[network.layerCount - 1]
    }
}
