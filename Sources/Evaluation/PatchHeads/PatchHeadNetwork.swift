import Random
import Tensor

/// The network of a patch head (see `PatchHeadArchitecture`), forward and backward on batches of
/// token grids, with its parameters under PyTorch's names (`convs.<i>.conv.weight`,
/// `convs.<i>.bn.*`, `classifier.weight` `[K, C]`, `classifier.bias`, and for the segmentation
/// branch `segmenter.weight` `[M, C, 1, 1]`, `segmenter.bias`), so a state dict of the reference
/// module in scripts/fixtures/patch_heads.py loads unchanged.
///
/// Every map has a one-pixel zero border, so 1×1 and 3×3 convolutions take the no-copy path of
/// `Convolution2D`. Tokens need no gradient (frozen backbone): backward stops at the first
/// convolution's weights.
final class PatchHeadNetwork {
    let architecture: PatchHeadArchitecture
    let grid: TokenGrid
    let outputs: Int
    let maskClasses: Int
    let capacity: Int
    let parameters: DecoderParameters

    private let convolutions: [ConvolutionLayer]
    private let normalizations: [BatchNormLayer]
    private let classifierWeight: DecoderParameters.Slot, classifierBias: DecoderParameters.Slot
    private let segmenter: ConvolutionLayer?
    private let team: WorkerTeam
    /// The batch's tokens with a border (`[B, h, w, D]`), per layer the convolution's output
    /// (BN input) and the activation, and gradient buffers of each width.
    let tokens: FeatureBuffer
    private let convolved: [FeatureBuffer], activations: [FeatureBuffer]
    private let activationGradients: [FeatureBuffer], convolvedGradient: [FeatureBuffer]
    private let segmentationPixels: FeatureBuffer?
    /// `[B, C]` pooled features and `[B, K]` logits; `[B, M, h, w]` segmentation logit planes.
    private let pooled: UnsafeMutablePointer<Float>, pooledGradient: UnsafeMutablePointer<Float>
    /// `[B, C]`: the pixel (y·w + x) of each maximum, for max pooling's backward.
    private let maxIndices: UnsafeMutablePointer<Int>
    private let logits: UnsafeMutablePointer<Float>
    private let segmentationPlanes: UnsafeMutablePointer<Float>?

    var width: Int { architecture.channels.last! }

    /// A network with initial weights drawn from `seed`: convolutions as mmcv's ConvModule
    /// (Kaiming normal, fan out), BN γ = 1, β = 0, classifier and segmenter N(0, 0.01²), biases 0.
    init(architecture: PatchHeadArchitecture, grid: TokenGrid, outputs: Int, maskClasses: Int, capacity: Int,
         threads: Int, seed: UInt64) {
        self.architecture = architecture
        self.grid = grid
        self.outputs = outputs
        self.maskClasses = architecture.segmentation ? maskClasses : 0
        self.capacity = capacity
        var layout = DecoderParameters.Layout()
        var convolutions: [ConvolutionLayer] = [], normalizations: [BatchNormLayer] = []
        var inChannels = grid.channels
        for (index, (channels, kernel)) in zip(architecture.channels, architecture.kernels).enumerated() {
            convolutions.append(ConvolutionLayer("convs.\(index).conv", inChannels: inChannels, outChannels: channels,
                                                 kernelSize: kernel, bias: false, layout: &layout))
            normalizations.append(BatchNormLayer("convs.\(index).bn", channels: channels, relu: true, layout: &layout))
            inChannels = channels
        }
        self.convolutions = convolutions
        self.normalizations = normalizations
        classifierWeight = layout.parameter("classifier.weight", [outputs, inChannels])
        classifierBias = layout.parameter("classifier.bias", [outputs])
        segmenter = architecture.segmentation
            ? ConvolutionLayer("segmenter", inChannels: inChannels, outChannels: maskClasses, kernelSize: 1, bias: true, layout: &layout)
            : nil
        parameters = DecoderParameters(layout: layout)
        team = WorkerTeam(size: max(1, threads))
        let border = max(1, (architecture.kernels.max() ?? 1) / 2)
        func map(_ channels: Int) -> FeatureBuffer {
            FeatureBuffer(batch: capacity, height: grid.height, width: grid.width, channels: channels, border: border)
        }
        tokens = map(grid.channels)
        convolved = architecture.channels.map(map)
        activations = architecture.channels.map(map)
        activationGradients = architecture.channels.map(map)
        convolvedGradient = architecture.channels.map(map)
        segmentationPixels = architecture.segmentation ? map(maskClasses) : nil
        pooled = .allocate(capacity: capacity * inChannels)
        pooledGradient = .allocate(capacity: capacity * inChannels)
        maxIndices = .allocate(capacity: capacity * inChannels)
        maxIndices.initialize(repeating: 0, count: capacity * inChannels)
        logits = .allocate(capacity: capacity * outputs)
        segmentationPlanes = architecture.segmentation ? .allocate(capacity: capacity * maskClasses * grid.height * grid.width) : nil

        var initializer = DecoderInitializer(generator: SeededGenerator(seed: seed, stream: 0x9A7C))
        for convolution in convolutions {
            initializer.kaimingNormalFanOut(parameters.value(convolution.weight), shape: convolution.weight.shape)
        }
        for normalization in normalizations { normalization.initialize(parameters) }
        initializer.normal(parameters.value(classifierWeight), count: classifierWeight.count, standardDeviation: 0.01)
        if let segmenter {
            initializer.normal(parameters.value(segmenter.weight), count: segmenter.weight.count, standardDeviation: 0.01)
        }
        parametersChanged()
    }

    deinit {
        pooled.deallocate()
        pooledGradient.deallocate()
        maxIndices.deallocate()
        logits.deallocate()
        segmentationPlanes?.deallocate()
    }

    /// Refreshes the convolutions' packed weights after the parameters changed.
    func parametersChanged() {
        for convolution in convolutions { convolution.pack(parameters) }
        segmenter?.pack(parameters)
    }

    /// Copies one sample's `[h, w, D]` tokens (dense) into row `row` of the token buffer.
    func setTokens(row: Int, _ source: UnsafePointer<Float>) {
        let layout = tokens.layout(capacity)
        for y in 0..<grid.height {
            (tokens.base + layout.offset(image: row, y: y, x: 0)).update(from: source + y * grid.width * grid.channels,
                                                                        count: grid.width * grid.channels)
        }
    }

    /// Forward on the first `batch` rows of the token buffer. Returns `[B, K]` logits and, with
    /// the segmentation branch, `[B, M, h, w]` mask logit planes; both valid until the next call.
    /// In training, BatchNorm uses the batch's statistics and updates the running ones.
    func forward(batch: Int, training: Bool) -> (logits: UnsafePointer<Float>, segmentation: UnsafePointer<Float>?) {
        precondition(batch >= 1 && batch <= capacity, "batch \(batch) outside 1...\(capacity)")
        BLASBackend.withSingleThreadedCalls {
            var input = tokens
            for index in convolutions.indices {
                convolutions[index].forward(parameters, input: input.base, input.layout(batch),
                                            output: convolved[index].base, convolved[index].layout(batch), team: team)
                normalizations[index].forward(parameters, training: training, input: convolved[index].base, convolved[index].layout(batch),
                                              output: activations[index].base, activations[index].layout(batch), team: team)
                input = activations[index]
            }
            let last = activations[activations.count - 1]
            switch architecture.pooling {
            case .average:
                let pooling = AdaptiveAveragePooling(inputHeight: grid.height, inputWidth: grid.width, outputHeight: 1, outputWidth: 1)
                pooling.forward(input: last.base, last.layout(batch), output: pooled, pooledLayout(batch), team: team)
            case .max:
                maxPool(last, batch: batch)
            }
            // logits[B, K] = pooled[B, C] · Wᵀ + b
            let weight = parameters.value(classifierWeight), bias = parameters.value(classifierBias)
            for row in 0..<batch {
                for output in 0..<outputs {
                    var sum = bias[output]
                    for channel in 0..<width { sum += pooled[row * width + channel] * weight[output * width + channel] }
                    logits[row * outputs + output] = sum
                }
            }
            if let segmenter, let segmentationPixels, let segmentationPlanes {
                segmenter.forward(parameters, input: last.base, last.layout(batch),
                                  output: segmentationPixels.base, segmentationPixels.layout(batch), team: team)
                copyPixelsToPlanes(segmentationPixels.base, segmentationPixels.layout(batch), into: segmentationPlanes)
            }
        }
        return (UnsafePointer(logits), segmentationPlanes.map { UnsafePointer($0) })
    }

    /// Global max pooling per image and channel; keeps each maximum's pixel (the first in
    /// row-major order among equal values, as PyTorch's `adaptive_max_pool2d`).
    private func maxPool(_ map: FeatureBuffer, batch: Int) {
        let layout = map.layout(batch), channels = width
        Parallel.forEachTask(count: batch, on: team) { image in
            for channel in 0..<channels {
                var best = -Float.infinity, position = 0
                for y in 0..<grid.height {
                    for x in 0..<grid.width {
                        let value = map.base[layout.offset(image: image, y: y, x: x) + channel]
                        if value > best || value.isNaN { best = value; position = y * grid.width + x }
                    }
                }
                pooled[image * channels + channel] = best
                maxIndices[image * channels + channel] = position
            }
        }
    }

    /// Each pooled gradient to its maximum's pixel; every other pixel's gradient is zero.
    private func maxPoolBackward(_ gradient: FeatureBuffer, batch: Int) {
        let layout = gradient.layout(batch), channels = width
        Parallel.forEachTask(count: batch, on: team) { image in
            for y in 0..<grid.height {
                for x in 0..<grid.width { (gradient.base + layout.offset(image: image, y: y, x: x)).update(repeating: 0, count: channels) }
            }
            for channel in 0..<channels {
                let pixel = maxIndices[image * channels + channel]
                gradient.base[layout.offset(image: image, y: pixel / grid.width, x: pixel % grid.width) + channel]
                    = pooledGradient[image * channels + channel]
            }
        }
    }

    private func pooledLayout(_ batch: Int) -> FeatureMapLayout {
        FeatureMapLayout(batch: batch, height: 1, width: 1, channels: width)
    }

    /// Backward of the last training forward: adds every parameter's gradient from `∂L/∂logits`
    /// `[B, K]` and, with the segmentation branch, `∂L/∂(mask logit planes)` `[B, M, h, w]`.
    func backward(logitGradient: UnsafePointer<Float>, segmentationGradient: UnsafePointer<Float>?, batch: Int) {
        BLASBackend.withSingleThreadedCalls {
            let weight = parameters.value(classifierWeight)
            let weightGradient = parameters.gradient(classifierWeight), biasGradient = parameters.gradient(classifierBias)
            for row in 0..<batch {
                for channel in 0..<width { pooledGradient[row * width + channel] = 0 }
                for output in 0..<outputs {
                    let g = logitGradient[row * outputs + output]
                    biasGradient[output] += g
                    for channel in 0..<width {
                        weightGradient[output * width + channel] += g * pooled[row * width + channel]
                        pooledGradient[row * width + channel] += g * weight[output * width + channel]
                    }
                }
            }
            let lastIndex = activations.count - 1
            let last = activations[lastIndex], lastGradient = activationGradients[lastIndex]
            switch architecture.pooling {
            case .average:
                let pooling = AdaptiveAveragePooling(inputHeight: grid.height, inputWidth: grid.width, outputHeight: 1, outputWidth: 1)
                pooling.backward(outputGradient: pooledGradient, pooledLayout(batch), inputGradient: lastGradient.base,
                                 lastGradient.layout(batch), team: team)
            case .max:
                maxPoolBackward(lastGradient, batch: batch)
            }
            if let segmenter, let segmentationPixels, let segmentationGradient {
                copyPlanesToPixels(segmentationGradient, into: segmentationPixels.base, segmentationPixels.layout(batch))
                segmenter.backward(parameters, outputGradient: segmentationPixels.base, segmentationPixels.layout(batch),
                                   input: last.base, last.layout(batch), inputGradient: lastGradient.base, accumulate: true, team: team)
            }
            for index in convolutions.indices.reversed() {
                normalizations[index].backward(parameters, outputGradient: activationGradients[index].base,
                                               activationGradients[index].layout(batch),
                                               input: convolved[index].base, convolved[index].layout(batch),
                                               inputGradient: convolvedGradient[index].base, team: team)
                let input = index == 0 ? tokens : activations[index - 1]
                convolutions[index].backward(parameters, outputGradient: convolvedGradient[index].base,
                                             convolvedGradient[index].layout(batch), input: input.base, input.layout(batch),
                                             inputGradient: index == 0 ? nil : activationGradients[index - 1].base, team: team)
            }
        }
    }
}
