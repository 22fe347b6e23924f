import Random
import Tensor

/// mmsegmentation's ViT + UPerNet decoder on four layers of frozen patch tokens:
///
/// - **neck** (`MultiLevelNeck`): per level a 1×1 convolution (bias, no norm), a bilinear rescale
///   by 4, 2, 1 and 0.5 (`interpolate(scale_factor=…)`: 37 tokens become 148, 74, 37 and 18
///   pixels), and a 3×3 convolution (bias, no norm);
/// - **head** (`UPerHead`): pyramid pooling on the last level (adaptive average pooling to each
///   scale, conv–BN–ReLU, bilinear back up, concatenated with the level and fused by a 3×3
///   conv–BN–ReLU); lateral 1×1 conv–BN–ReLU on the other levels; top-down sums of bilinearly
///   upsampled levels; a 3×3 conv–BN–ReLU per level; everything upsampled to the finest level,
///   concatenated and fused by a 3×3 conv–BN–ReLU; Dropout2d; a 1×1 classifier.
///
/// Parameter names are mmsegmentation's (`neck.convs.0.conv.weight`,
/// `decode_head.psp_modules.0.1.bn.running_mean`, …). No auxiliary FCN head. Feature maps are
/// NHWC buffers with a one-pixel zero border wherever a 3×3 convolution reads them (see
/// Tensor/FeatureMapLayout.swift); gradient buffers are reused from level to level
/// (`UPerNetDecoder+Backward.swift`).
final class UPerNetDecoder: SegmentationDecoder {
    let classes: Int
    let grid: TokenGrid
    let capacity: Int
    let configuration: UPerNetConfiguration
    let parameters: DecoderParameters
    let neckChannels: Int, channels: Int
    /// Pixel sizes of the four levels, finest first.
    let levels: [(height: Int, width: Int)]
    var logitHeight: Int { levels[0].height }
    var logitWidth: Int { levels[0].width }
    let team: WorkerTeam

    // Layers.
    let neckLaterals: [ConvolutionLayer], neckConvolutions: [ConvolutionLayer], neckResizes: [BilinearResize]
    let poolings: [AdaptiveAveragePooling], poolConvolutions: [ConvolutionLayer], poolNorms: [BatchNormLayer]
    let poolResizes: [BilinearResize]
    let bottleneck: ConvolutionLayer, bottleneckNorm: BatchNormLayer
    let lateralConvolutions: [ConvolutionLayer], lateralNorms: [BatchNormLayer]
    /// `topDownResizes[i]`: level i + 1 to level i. `finestResizes[i]`: level i + 1 to level 0.
    let topDownResizes: [BilinearResize], finestResizes: [BilinearResize]
    let fpnConvolutions: [ConvolutionLayer], fpnNorms: [BatchNormLayer]
    let fpnBottleneck: ConvolutionLayer, fpnBottleneckNorm: BatchNormLayer
    let classifier: ConvolutionLayer

    // Forward activations (see the type's documentation for what each holds).
    let neckLateral: FeatureBuffer                      // [B, h, w, N], reused per level
    let resized: [FeatureBuffer], neckOutputs: [FeatureBuffer]               // [B, Hi, Wi, N] border 1
    let pooled: [FeatureBuffer], poolPreactivations: [FeatureBuffer], poolOutputs: [FeatureBuffer]  // [B, s, s, ·]
    let pyramid: FeatureBuffer                          // [B, H3, W3, N + K·Ch] border 1
    let bottleneckPreactivation: FeatureBuffer          // [B, H3, W3, Ch] border 1
    let lateralPreactivations: [FeatureBuffer]          // levels 0–2, [B, Hi, Wi, Ch] border 1
    let laterals: [FeatureBuffer]                       // levels 0–3, after the top-down sums
    let fpnPreactivations: [FeatureBuffer]              // levels 0–2
    let fused: FeatureBuffer                            // [B, H0, W0, 4·Ch] border 1
    let fusedPreactivation: FeatureBuffer, fusedOutput: FeatureBuffer   // [B, H0, W0, Ch] border 1
    let logits: FeatureBuffer                           // [B, H0, W0, C] border 1
    let planes: UnsafeMutablePointer<Float>             // [B, C, H0, W0]
    let dropoutMask: UnsafeMutablePointer<Float>        // [B, Ch]
    var dropoutActive = false

    // Gradient buffers, reused along the backward pass.
    let gradientA: [FeatureBuffer], gradientB: [FeatureBuffer]      // per level, Ch channels, border 1
    let fusedGradient: FeatureBuffer                                // 4·Ch at level 0
    let neckGradientA: [FeatureBuffer?], neckGradientB: [FeatureBuffer?]  // per level, N channels (level 0 inside fusedGradient when it fits)
    let pyramidGradient: FeatureBuffer
    let poolGradients: [FeatureBuffer], poolPreactivationGradients: [FeatureBuffer], pooledGradients: [FeatureBuffer]
    let neckLateralGradient: FeatureBuffer
    let logitGradients: FeatureBuffer

    /// A decoder with mmsegmentation's initialisation drawn from `seed`: the neck's convolutions
    /// Xavier-uniform with zero bias; conv–BN–ReLU blocks Kaiming-normal (fan out) with γ = 1,
    /// β = 0; the classifier N(0, 0.01²) with zero bias.
    init(grid: TokenGrid, classes: Int, configuration: UPerNetConfiguration, capacity: Int, threads: Int, seed: UInt64) throws {
        try configuration.validate()
        self.grid = grid
        self.classes = classes
        self.capacity = capacity
        self.configuration = configuration
        let neck = configuration.neckChannels ?? grid.channels, width = configuration.channels
        neckChannels = neck
        channels = width
        neckResizes = UPerNetConfiguration.neckScales.map {
            BilinearResize(inputHeight: grid.height, inputWidth: grid.width, scaleFactor: $0)
        }
        levels = neckResizes.map { ($0.outputHeight, $0.outputWidth) }
        guard levels.allSatisfy({ $0.height > 0 && $0.width > 0 }) else {
            throw SegmentationError.invalidParameter(name: "token grid", value: "\(grid.height)×\(grid.width)",
                                                     reason: "UPerNet's coarsest level halves the grid; it needs at least 2×2 tokens")
        }
        team = WorkerTeam(size: max(1, threads))

        var layout = DecoderParameters.Layout()
        neckLaterals = (0..<4).map {
            ConvolutionLayer("neck.lateral_convs.\($0).conv", inChannels: grid.channels, outChannels: neck, kernelSize: 1,
                             bias: true, layout: &layout)
        }
        neckConvolutions = (0..<4).map {
            ConvolutionLayer("neck.convs.\($0).conv", inChannels: neck, outChannels: neck, kernelSize: 3, bias: true, layout: &layout)
        }
        let scales = configuration.poolScales
        poolConvolutions = scales.indices.map {
            ConvolutionLayer("decode_head.psp_modules.\($0).1.conv", inChannels: neck, outChannels: width, kernelSize: 1,
                             bias: false, layout: &layout)
        }
        poolNorms = scales.indices.map { BatchNormLayer("decode_head.psp_modules.\($0).1.bn", channels: width, relu: true, layout: &layout) }
        bottleneck = ConvolutionLayer("decode_head.bottleneck.conv", inChannels: neck + scales.count * width, outChannels: width,
                                      kernelSize: 3, bias: false, layout: &layout)
        bottleneckNorm = BatchNormLayer("decode_head.bottleneck.bn", channels: width, relu: true, layout: &layout)
        lateralConvolutions = (0..<3).map {
            ConvolutionLayer("decode_head.lateral_convs.\($0).conv", inChannels: neck, outChannels: width, kernelSize: 1,
                             bias: false, layout: &layout)
        }
        lateralNorms = (0..<3).map { BatchNormLayer("decode_head.lateral_convs.\($0).bn", channels: width, relu: true, layout: &layout) }
        fpnConvolutions = (0..<3).map {
            ConvolutionLayer("decode_head.fpn_convs.\($0).conv", inChannels: width, outChannels: width, kernelSize: 3, bias: false,
                             layout: &layout)
        }
        fpnNorms = (0..<3).map { BatchNormLayer("decode_head.fpn_convs.\($0).bn", channels: width, relu: true, layout: &layout) }
        fpnBottleneck = ConvolutionLayer("decode_head.fpn_bottleneck.conv", inChannels: 4 * width, outChannels: width,
                                         kernelSize: 3, bias: false, layout: &layout)
        fpnBottleneckNorm = BatchNormLayer("decode_head.fpn_bottleneck.bn", channels: width, relu: true, layout: &layout)
        classifier = ConvolutionLayer("decode_head.conv_seg", inChannels: width, outChannels: classes, kernelSize: 1, bias: true,
                                      layout: &layout)
        parameters = DecoderParameters(layout: layout)

        let levels = levels
        poolings = scales.map { AdaptiveAveragePooling(inputHeight: levels[3].height, inputWidth: levels[3].width,
                                                       outputHeight: $0, outputWidth: $0) }
        poolResizes = scales.map { BilinearResize(inputHeight: $0, inputWidth: $0, outputHeight: levels[3].height,
                                                  outputWidth: levels[3].width) }
        topDownResizes = (0..<3).map { BilinearResize(inputHeight: levels[$0 + 1].height, inputWidth: levels[$0 + 1].width,
                                                      outputHeight: levels[$0].height, outputWidth: levels[$0].width) }
        finestResizes = (1..<4).map { BilinearResize(inputHeight: levels[$0].height, inputWidth: levels[$0].width,
                                                     outputHeight: levels[0].height, outputWidth: levels[0].width) }

        func map(_ level: Int, _ channels: Int, border: Int = 1) -> FeatureBuffer {
            FeatureBuffer(batch: capacity, height: levels[level].height, width: levels[level].width, channels: channels, border: border)
        }
        neckLateral = FeatureBuffer(batch: capacity, height: grid.height, width: grid.width, channels: neck)
        resized = (0..<4).map { map($0, neck) }
        neckOutputs = (0..<4).map { map($0, neck) }
        pooled = scales.map { FeatureBuffer(batch: capacity, height: $0, width: $0, channels: neck) }
        poolPreactivations = scales.map { FeatureBuffer(batch: capacity, height: $0, width: $0, channels: width) }
        poolOutputs = scales.map { FeatureBuffer(batch: capacity, height: $0, width: $0, channels: width) }
        pyramid = map(3, neck + scales.count * width)
        bottleneckPreactivation = map(3, width)
        lateralPreactivations = (0..<3).map { map($0, width) }
        laterals = (0..<4).map { map($0, width) }
        fpnPreactivations = (0..<3).map { map($0, width) }
        fused = map(0, 4 * width)
        fusedPreactivation = map(0, width)
        fusedOutput = map(0, width)
        logits = map(0, classes)
        planes = .allocate(capacity: capacity * classes * levels[0].height * levels[0].width)
        dropoutMask = .allocate(capacity: capacity * width)
        dropoutMask.initialize(repeating: 1, count: capacity * width)

        gradientA = (0..<4).map { map($0, width) }
        gradientB = (0..<4).map { map($0, width) }
        fusedGradient = map(0, 4 * width)
        // Level 0's two N-channel gradients fit in the fused gradient's memory when 4·Ch ≥ 2·N
        // (they are used after it is consumed); otherwise they get buffers of their own.
        let aliasLevel0 = 4 * width >= 2 * neck
        neckGradientA = (0..<4).map { $0 == 0 && aliasLevel0 ? nil : map($0, neck) }
        neckGradientB = (0..<4).map { $0 == 0 && aliasLevel0 ? nil : map($0, neck) }
        pyramidGradient = map(3, neck + scales.count * width)
        poolGradients = scales.map { FeatureBuffer(batch: capacity, height: $0, width: $0, channels: width) }
        poolPreactivationGradients = scales.map { FeatureBuffer(batch: capacity, height: $0, width: $0, channels: width) }
        pooledGradients = scales.map { FeatureBuffer(batch: capacity, height: $0, width: $0, channels: neck) }
        neckLateralGradient = FeatureBuffer(neckLateral.capacity)
        logitGradients = map(0, classes)

        initialize(seed: seed)
        parametersChanged()
    }

    deinit {
        planes.deallocate()
        dropoutMask.deallocate()
    }

    private func initialize(seed: UInt64) {
        var initializer = DecoderInitializer(generator: SeededGenerator(seed: seed, stream: 0x0E7))
        for layer in neckLaterals + neckConvolutions {
            initializer.xavierUniform(parameters.value(layer.weight), shape: layer.weight.shape)
            if let bias = layer.bias { parameters.value(bias).update(repeating: 0, count: bias.count) }
        }
        for layer in poolConvolutions + [bottleneck] + lateralConvolutions + fpnConvolutions + [fpnBottleneck] {
            initializer.kaimingNormalFanOut(parameters.value(layer.weight), shape: layer.weight.shape)
        }
        for norm in poolNorms + [bottleneckNorm] + lateralNorms + fpnNorms + [fpnBottleneckNorm] { norm.initialize(parameters) }
        initializer.normal(parameters.value(classifier.weight), count: classifier.weight.count, standardDeviation: 0.01)
        if let bias = classifier.bias { parameters.value(bias).update(repeating: 0, count: bias.count) }
    }

    var allConvolutions: [ConvolutionLayer] {
        neckLaterals + neckConvolutions + poolConvolutions + [bottleneck] + lateralConvolutions + fpnConvolutions
            + [fpnBottleneck, classifier]
    }

    func parametersChanged() {
        for layer in allConvolutions { layer.pack(parameters) }
    }

    /// The N-channel gradient buffers of `level` (level 0's inside the fused gradient when they fit),
    /// with zeroed borders: the memory may hold values of another layout.
    func neckGradients(level: Int, batch: Int) -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, FeatureMapLayout) {
        if let first = neckGradientA[level], let second = neckGradientB[level] {
            return (first.base, second.base, first.layout(batch))
        }
        let layout = FeatureMapLayout(batch: batch, height: levels[0].height, width: levels[0].width, channels: neckChannels, border: 1)
        let first = fusedGradient.base, second = fusedGradient.base + layout.bufferCount
        layout.zeroBorder(first)
        layout.zeroBorder(second)
        return (first, second, layout)
    }
}
