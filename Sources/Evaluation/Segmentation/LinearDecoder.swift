import Random
import Tensor

/// DINOv2's linear segmentation head (`BNHead`): BatchNorm over the last layer's patch tokens,
/// then a 1×1 convolution to class logits at the patch grid; the loss upsamples them bilinearly to
/// the mask size. Parameters are named as DINOv2's: `bn.*`, `conv_seg.weight` `[C, D, 1, 1]`,
/// `conv_seg.bias`.
///
/// The tokens need no gradient (the backbone is frozen), so backward stops at BatchNorm's γ and β.
final class LinearDecoder: SegmentationDecoder {
    let classes: Int
    let grid: TokenGrid
    let capacity: Int
    let parameters: DecoderParameters
    var logitHeight: Int { grid.height }
    var logitWidth: Int { grid.width }

    private let normalization: BatchNormLayer
    private let classifier: ConvolutionLayer
    private let team: WorkerTeam
    /// `[B, h, w, D]`: normalised tokens, and their gradient.
    private let normalized: FeatureBuffer, normalizedGradient: FeatureBuffer
    /// `[B, h, w, C]` logits and their gradient; `[B, C, h, w]` planes.
    private let logits: FeatureBuffer, logitGradientPixels: FeatureBuffer
    private let planes: UnsafeMutablePointer<Float>

    /// A decoder with initial weights drawn from `seed` (γ = 1, β = 0; classifier N(0, 0.01²), bias 0).
    init(grid: TokenGrid, classes: Int, capacity: Int, threads: Int, seed: UInt64) {
        self.grid = grid
        self.classes = classes
        self.capacity = capacity
        var layout = DecoderParameters.Layout()
        normalization = BatchNormLayer("bn", channels: grid.channels, relu: false, layout: &layout)
        classifier = ConvolutionLayer("conv_seg", inChannels: grid.channels, outChannels: classes, kernelSize: 1, bias: true,
                                      layout: &layout)
        parameters = DecoderParameters(layout: layout)
        team = WorkerTeam(size: max(1, threads))
        normalized = FeatureBuffer(batch: capacity, height: grid.height, width: grid.width, channels: grid.channels)
        normalizedGradient = FeatureBuffer(normalized.capacity)
        logits = FeatureBuffer(batch: capacity, height: grid.height, width: grid.width, channels: classes)
        logitGradientPixels = FeatureBuffer(logits.capacity)
        planes = .allocate(capacity: capacity * classes * grid.height * grid.width)
        var initializer = DecoderInitializer(generator: SeededGenerator(seed: seed, stream: 0x5E6))
        normalization.initialize(parameters)
        initializer.normal(parameters.value(classifier.weight), count: classifier.weight.count, standardDeviation: 0.01)
    }

    deinit { planes.deallocate() }

    func parametersChanged() {}

    private func tokenLayout(_ batch: Int) -> FeatureMapLayout {
        FeatureMapLayout(batch: batch, height: grid.height, width: grid.width, channels: grid.channels)
    }

    func forward(layers: [UnsafePointer<Float>], batch: Int, training: Bool, dropoutKey: UInt64) -> UnsafePointer<Float> {
        precondition(layers.count == 1 && batch <= capacity, "the linear head reads one layer of at most \(capacity) images")
        BLASBackend.withSingleThreadedCalls {
            normalization.forward(parameters, training: training, input: layers[0], tokenLayout(batch),
                                  output: normalized.base, normalized.layout(batch), team: team)
            classifier.forward(parameters, input: normalized.base, normalized.layout(batch),
                               output: logits.base, logits.layout(batch), team: team)
        }
        copyPixelsToPlanes(logits.base, logits.layout(batch), into: planes)
        return UnsafePointer(planes)
    }

    func backward(logitGradient: UnsafePointer<Float>, layers: [UnsafePointer<Float>], batch: Int) {
        copyPlanesToPixels(logitGradient, into: logitGradientPixels.base, logitGradientPixels.layout(batch))
        BLASBackend.withSingleThreadedCalls {
            classifier.backward(parameters, outputGradient: logitGradientPixels.base, logitGradientPixels.layout(batch),
                                input: normalized.base, normalized.layout(batch),
                                inputGradient: normalizedGradient.base, team: team)
            normalization.backward(parameters, outputGradient: normalizedGradient.base, normalizedGradient.layout(batch),
                                   input: layers[0], tokenLayout(batch), inputGradient: nil, team: team)
        }
    }
}
