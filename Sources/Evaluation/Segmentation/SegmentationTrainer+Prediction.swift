import Tensor

extension SegmentationTrainer {
    /// Class probabilities at mask resolution, `[N, C, H, W]`: logits upsampled bilinearly (as in
    /// training), then σ per class or the softmax over classes. Batch norm uses its running statistics.
    /// - Throws: `SegmentationError.inconsistent` when the samples' grid, layers or mask size differ
    ///   from the training samples'.
    public func probabilities(_ samples: any SegmentationSamples) throws -> [Float] {
        try checkCompatible(samples)
        let planeSize = samples.maskHeight * samples.maskWidth, classes = samples.classes
        var result = [Float](repeating: 0, count: samples.count * classes * planeSize)
        result.withUnsafeMutableBufferPointer { result in
            forEachPrediction(samples) { first, count, logits in
                let target = result.baseAddress! + first * classes * planeSize
                loss.resize.forwardPlanes(input: logits, planes: count * classes, output: target)
                SegmentationLoss.probabilities(logits: target, samples: count, classes: classes, pixels: planeSize,
                                               activation: configuration.activation, into: target)
            }
        }
        return result
    }

    /// Hard masks at mask resolution, `[N, C, H, W]` of 0/1: σ > 0.5 (a positive logit) per class,
    /// or, for exclusive classes, the class of the largest logit (the first on ties).
    /// - Throws: as `probabilities(_:)`.
    public func predict(_ samples: any SegmentationSamples) throws -> [UInt8] {
        try checkCompatible(samples)
        return hardMasks(samples)
    }

    /// `predict(_:)` for samples known to fit.
    func hardMasks(_ samples: any SegmentationSamples) -> [UInt8] {
        let planeSize = samples.maskHeight * samples.maskWidth, classes = samples.classes
        var result = [UInt8](repeating: 0, count: samples.count * classes * planeSize)
        result.withUnsafeMutableBufferPointer { result in
            forEachPrediction(samples) { first, count, logits in
                writeHardMasks(logits: logits, images: count, into: result.baseAddress! + first * classes * planeSize)
            }
        }
        return result
    }

    /// Dice, IoU and DicePos of the hard predictions on `samples` (see SegmentationMetrics.swift),
    /// scored batch by batch so that no full set of masks is held in memory.
    /// - Throws: as `probabilities(_:)`.
    public func evaluate(_ samples: any SegmentationSamples) throws -> SegmentationScores {
        try checkCompatible(samples)
        return scores(samples)
    }

    /// `evaluate(_:)` for samples known to fit.
    func scores(_ samples: any SegmentationSamples) -> SegmentationScores {
        let planeSize = samples.maskHeight * samples.maskWidth, classes = samples.classes
        let names = (0..<classes).map { "class \($0)" }
        var dice: [[Double]] = [], iou: [[Double]] = [], isPositive: [[Bool]] = []
        var predicted = [UInt8](repeating: 0, count: configuration.batchSize * classes * planeSize)
        var truth = predicted
        forEachPrediction(samples) { first, count, logits in
            let size = count * classes * planeSize
            predicted.withUnsafeMutableBufferPointer { writeHardMasks(logits: logits, images: count, into: $0.baseAddress!) }
            truth.withUnsafeMutableBufferPointer { truth in
                for image in 0..<count { samples.copyMasks(sample: first + image, into: truth.baseAddress! + image * classes * planeSize) }
            }
            // Shapes agree by construction.
            let batch = try! segmentationScores(predictions: Array(predicted[0..<size]), targets: Array(truth[0..<size]),
                                                images: count, classes: names, pixelsPerPlane: planeSize)
            dice += batch.dice
            iou += batch.iou
            isPositive += batch.isPositive
        }
        return SegmentationScores(classes: names, dice: dice, iou: iou, isPositive: isPositive)
    }

    /// Hard masks `[images, C, H, W]` from low-resolution logit planes: upsampled, then σ > 0.5 (a
    /// positive logit) per class, or the class of the largest logit (the first on ties).
    private func writeHardMasks(logits: UnsafePointer<Float>, images: Int, into target: UnsafeMutablePointer<UInt8>) {
        let planeSize = loss.resize.outputHeight * loss.resize.outputWidth, classes = loss.classes
        let upsampled = UnsafeMutablePointer<Float>.allocate(capacity: images * classes * planeSize)
        defer { upsampled.deallocate() }
        loss.resize.forwardPlanes(input: logits, planes: images * classes, output: upsampled)
        target.update(repeating: 0, count: images * classes * planeSize)
        for image in 0..<images {
            let source = upsampled + image * classes * planeSize, masks = target + image * classes * planeSize
            for pixel in 0..<planeSize {
                switch configuration.activation {
                case .sigmoid:
                    for c in 0..<classes where source[c * planeSize + pixel] > 0 { masks[c * planeSize + pixel] = 1 }
                case .softmax:
                    var best = 0
                    for c in 1..<classes where source[c * planeSize + pixel] > source[best * planeSize + pixel] { best = c }
                    masks[best * planeSize + pixel] = 1
                }
            }
        }
    }

    /// Runs the decoder in evaluation mode over `samples` in batches: `body(first, count, logits)`.
    private func forEachPrediction(_ samples: any SegmentationSamples,
                                   _ body: (Int, Int, UnsafePointer<Float>) -> Void) {
        var first = 0
        while first < samples.count {
            let count = min(configuration.batchSize, samples.count - first)
            gather(Array(first..<(first + count)), from: samples, masks: false)
            let logits = decoder.forward(layers: batchLayers.map { UnsafePointer($0) }, batch: count, training: false, dropoutKey: 0)
            body(first, count, logits)
            first += count
        }
    }

    private func checkCompatible(_ samples: any SegmentationSamples) throws {
        guard samples.grid == train.grid, samples.layerCount == train.layerCount, samples.classes == train.classes,
              samples.maskHeight == train.maskHeight, samples.maskWidth == train.maskWidth else {
            throw SegmentationError.inconsistent(what: "samples to predict",
                                                 reason: "token grid, layers, classes and mask size must match the training samples")
        }
    }
}
