import Tensor

// The building blocks decoders are made of: owned feature-map buffers, and convolution and
// batch-norm layers whose tensors live in the decoder's DecoderParameters.

/// A zero-initialised buffer for NHWC maps of up to `capacity.batch` images; borders stay zero
/// (ops never write them), so a map with a border can feed a 3×3 convolution directly.
final class FeatureBuffer {
    let capacity: FeatureMapLayout
    let base: UnsafeMutablePointer<Float>

    init(_ capacity: FeatureMapLayout) {
        self.capacity = capacity
        base = .allocate(capacity: max(capacity.bufferCount, 1))
        base.initialize(repeating: 0, count: max(capacity.bufferCount, 1))
    }

    /// Height, width, channels and border of the buffer, with `batch` images in use.
    convenience init(batch: Int, height: Int, width: Int, channels: Int, border: Int = 0) {
        self.init(FeatureMapLayout(batch: batch, height: height, width: width, channels: channels, border: border))
    }

    deinit { base.deallocate() }

    /// The layout of the first `batch` images.
    func layout(_ batch: Int) -> FeatureMapLayout {
        precondition(batch <= capacity.batch, "batch \(batch) over the buffer's \(capacity.batch)")
        return FeatureMapLayout(batch: batch, height: capacity.height, width: capacity.width, channels: capacity.channels,
                                border: capacity.border, pixelStride: capacity.pixelStride)
    }

    /// The layout of `count` channels from `start` (add `start` to `base`), for `batch` images.
    func slice(_ batch: Int, channels count: Int) -> FeatureMapLayout { layout(batch).channelSlice(count: count) }
}

/// A convolution whose weight (and bias) are slots of the decoder's parameters, with the packed
/// tap-major copy the passes read (refreshed by `pack` after each update).
final class ConvolutionLayer {
    let geometry: Convolution2D
    let weight: DecoderParameters.Slot
    let bias: DecoderParameters.Slot?
    private let packed: UnsafeMutablePointer<Float>?

    /// Declares `<name>.weight` `[Cout, Cin, k, k]` (and `<name>.bias` `[Cout]`).
    init(_ name: String, inChannels: Int, outChannels: Int, kernelSize: Int, bias: Bool, layout: inout DecoderParameters.Layout) {
        geometry = Convolution2D(inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize,
                                 padding: kernelSize / 2)
        weight = layout.parameter("\(name).weight", [outChannels, inChannels, kernelSize, kernelSize])
        self.bias = bias ? layout.parameter("\(name).bias", [outChannels]) : nil
        packed = kernelSize > 1 ? .allocate(capacity: geometry.weightCount) : nil
    }

    deinit { packed?.deallocate() }

    /// Refreshes the packed weights from the parameters.
    func pack(_ parameters: DecoderParameters) {
        if let packed { geometry.packWeights(parameters.value(weight), into: packed) }
    }

    /// The weights the passes read: packed for k > 1, the parameters themselves for 1×1.
    func passWeights(_ parameters: DecoderParameters) -> UnsafePointer<Float> {
        UnsafePointer(packed ?? parameters.value(weight))
    }

    func forward(_ parameters: DecoderParameters, input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                 output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout, team: WorkerTeam) {
        geometry.forward(input: input, inputLayout, packedWeights: passWeights(parameters),
                         bias: bias.map { UnsafePointer(parameters.value($0)) }, output: output, outputLayout, team: team)
    }

    /// Adds the weight (and bias) gradients; writes or adds the input gradient when asked.
    func backward(_ parameters: DecoderParameters, outputGradient: UnsafePointer<Float>, _ gradientLayout: FeatureMapLayout,
                  input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                  inputGradient: UnsafeMutablePointer<Float>?, _ inputGradientLayout: FeatureMapLayout? = nil,
                  accumulate: Bool = false, team: WorkerTeam) {
        geometry.backwardWeights(outputGradient: outputGradient, gradientLayout, input: input, inputLayout,
                                 weightGradient: parameters.gradient(weight), biasGradient: bias.map { parameters.gradient($0) },
                                 team: team)
        if let inputGradient {
            geometry.backwardInput(outputGradient: outputGradient, gradientLayout, packedWeights: passWeights(parameters),
                                   inputGradient: inputGradient, inputGradientLayout ?? inputLayout,
                                   accumulate: accumulate, team: team)
        }
    }
}

/// `BatchNorm2d` (γ, β trainable; running mean and variance as statistics), optionally followed
/// by ReLU; keeps the batch statistics of the last training forward for the backward pass.
final class BatchNormLayer {
    let weight: DecoderParameters.Slot, bias: DecoderParameters.Slot
    let runningMean: DecoderParameters.Slot, runningVariance: DecoderParameters.Slot
    let relu: Bool
    let channels: Int
    private let savedMean: UnsafeMutablePointer<Float>, savedInverseDeviation: UnsafeMutablePointer<Float>

    /// Declares `<name>.weight`, `.bias` (trainable) and `.running_mean`, `.running_var`.
    init(_ name: String, channels: Int, relu: Bool, layout: inout DecoderParameters.Layout) {
        weight = layout.parameter("\(name).weight", [channels])
        bias = layout.parameter("\(name).bias", [channels])
        runningMean = layout.statistic("\(name).running_mean", [channels])
        runningVariance = layout.statistic("\(name).running_var", [channels])
        self.relu = relu
        self.channels = channels
        savedMean = .allocate(capacity: channels)
        savedMean.initialize(repeating: 0, count: channels)
        savedInverseDeviation = .allocate(capacity: channels)
        savedInverseDeviation.initialize(repeating: 0, count: channels)
    }

    deinit {
        savedMean.deallocate()
        savedInverseDeviation.deallocate()
    }

    /// PyTorch's initial values: γ = 1, β = 0, running mean 0, running variance 1.
    func initialize(_ parameters: DecoderParameters) {
        parameters.value(weight).update(repeating: 1, count: channels)
        parameters.value(bias).update(repeating: 0, count: channels)
        parameters.statistic(runningMean).update(repeating: 0, count: channels)
        parameters.statistic(runningVariance).update(repeating: 1, count: channels)
    }

    func forward(_ parameters: DecoderParameters, training: Bool, input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                 output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout, team: WorkerTeam) {
        if training {
            BatchNormalization.forwardTraining(
                input: input, inputLayout, weight: parameters.value(weight), bias: parameters.value(bias),
                runningMean: parameters.statistic(runningMean), runningVariance: parameters.statistic(runningVariance),
                savedMean: savedMean, savedInverseDeviation: savedInverseDeviation,
                output: output, outputLayout, relu: relu, team: team)
        } else {
            BatchNormalization.forwardInference(
                input: input, inputLayout, weight: parameters.value(weight), bias: parameters.value(bias),
                runningMean: parameters.statistic(runningMean), runningVariance: parameters.statistic(runningVariance),
                output: output, outputLayout, relu: relu, team: team)
        }
    }

    /// Adds γ and β gradients; writes (or adds) the input gradient when asked.
    func backward(_ parameters: DecoderParameters, outputGradient: UnsafePointer<Float>, _ gradientLayout: FeatureMapLayout,
                  input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                  inputGradient: UnsafeMutablePointer<Float>?, _ inputGradientLayout: FeatureMapLayout? = nil,
                  accumulate: Bool = false, team: WorkerTeam) {
        BatchNormalization.backward(
            outputGradient: outputGradient, gradientLayout, input: input, inputLayout, savedMean: savedMean,
            savedInverseDeviation: savedInverseDeviation, weight: parameters.value(weight), bias: parameters.value(bias),
            relu: relu, inputGradient: inputGradient, inputGradientLayout, accumulate: accumulate,
            weightGradient: parameters.gradient(weight), biasGradient: parameters.gradient(bias), team: team)
    }
}
