import Tensor

extension UPerNetDecoder {
    func forward(layers: [UnsafePointer<Float>], batch: Int, training: Bool, dropoutKey: UInt64) -> UnsafePointer<Float> {
        precondition(layers.count == 4 && batch <= capacity, "UPerNet reads four layers of at most \(capacity) images")
        let p = parameters, team = team, scales = configuration.poolScales
        let tokens = FeatureMapLayout(batch: batch, height: grid.height, width: grid.width, channels: grid.channels)
        BLASBackend.withSingleThreadedCalls {
            // Neck: 1×1 conv, rescale, 3×3 conv, per level.
            for level in 0..<4 {
                neckLaterals[level].forward(p, input: layers[level], tokens, output: neckLateral.base, neckLateral.layout(batch), team: team)
                neckResizes[level].forward(input: neckLateral.base, neckLateral.layout(batch),
                                           output: resized[level].base, resized[level].layout(batch), team: team)
                neckConvolutions[level].forward(p, input: resized[level].base, resized[level].layout(batch),
                                                output: neckOutputs[level].base, neckOutputs[level].layout(batch), team: team)
            }
            // Pyramid pooling on level 3: [x, up(pool_1), up(pool_2), …] then the bottleneck.
            let coarsest = neckOutputs[3].layout(batch)
            copyFeatureMap(neckOutputs[3].base, coarsest, into: pyramid.base, pyramid.slice(batch, channels: neckChannels), team: team)
            for (k, _) in scales.enumerated() {
                poolings[k].forward(input: neckOutputs[3].base, coarsest, output: pooled[k].base, pooled[k].layout(batch), team: team)
                poolConvolutions[k].forward(p, input: pooled[k].base, pooled[k].layout(batch),
                                            output: poolPreactivations[k].base, poolPreactivations[k].layout(batch), team: team)
                poolNorms[k].forward(p, training: training, input: poolPreactivations[k].base, poolPreactivations[k].layout(batch),
                                     output: poolOutputs[k].base, poolOutputs[k].layout(batch), team: team)
                poolResizes[k].forward(input: poolOutputs[k].base, poolOutputs[k].layout(batch),
                                       output: pyramid.base + neckChannels + k * channels, pyramid.slice(batch, channels: channels),
                                       team: team)
            }
            bottleneck.forward(p, input: pyramid.base, pyramid.layout(batch),
                               output: bottleneckPreactivation.base, bottleneckPreactivation.layout(batch), team: team)
            bottleneckNorm.forward(p, training: training, input: bottleneckPreactivation.base, bottleneckPreactivation.layout(batch),
                                   output: laterals[3].base, laterals[3].layout(batch), team: team)
            // Lateral conv–BN–ReLU on levels 0–2, then the top-down sums.
            for level in 0..<3 {
                lateralConvolutions[level].forward(p, input: neckOutputs[level].base, neckOutputs[level].layout(batch),
                                                   output: lateralPreactivations[level].base,
                                                   lateralPreactivations[level].layout(batch), team: team)
                lateralNorms[level].forward(p, training: training, input: lateralPreactivations[level].base,
                                            lateralPreactivations[level].layout(batch),
                                            output: laterals[level].base, laterals[level].layout(batch), team: team)
            }
            for level in stride(from: 3, through: 1, by: -1) {
                topDownResizes[level - 1].forward(input: laterals[level].base, laterals[level].layout(batch),
                                                  output: laterals[level - 1].base, laterals[level - 1].layout(batch),
                                                  accumulate: true, team: team)
            }
            // FPN convolutions; every level brought to level 0 inside the fused map.
            let fusedSlice = fused.slice(batch, channels: channels)
            for level in 0..<3 {
                fpnConvolutions[level].forward(p, input: laterals[level].base, laterals[level].layout(batch),
                                               output: fpnPreactivations[level].base, fpnPreactivations[level].layout(batch), team: team)
                if level == 0 {
                    fpnNorms[0].forward(p, training: training, input: fpnPreactivations[0].base, fpnPreactivations[0].layout(batch),
                                        output: fused.base, fusedSlice, team: team)
                } else {
                    // The level's output is only needed here: it borrows the (idle) gradient buffer.
                    let output = gradientA[level]
                    fpnNorms[level].forward(p, training: training, input: fpnPreactivations[level].base,
                                            fpnPreactivations[level].layout(batch), output: output.base, output.layout(batch), team: team)
                    finestResizes[level - 1].forward(input: output.base, output.layout(batch),
                                                     output: fused.base + level * channels, fusedSlice, team: team)
                }
            }
            finestResizes[2].forward(input: laterals[3].base, laterals[3].layout(batch),
                                     output: fused.base + 3 * channels, fusedSlice, team: team)
            fpnBottleneck.forward(p, input: fused.base, fused.layout(batch),
                                  output: fusedPreactivation.base, fusedPreactivation.layout(batch), team: team)
            fpnBottleneckNorm.forward(p, training: training, input: fusedPreactivation.base, fusedPreactivation.layout(batch),
                                      output: fusedOutput.base, fusedOutput.layout(batch), team: team)
            classify(batch: batch, training: training, dropoutKey: dropoutKey)
        }
        copyPixelsToPlanes(logits.base, logits.layout(batch), into: planes)
        return UnsafePointer(planes)
    }

    /// Dropout2d then the 1×1 classifier. Dropping channel c of image b is the same as zeroing
    /// column c of the classifier's weight for that image, so with dropout each image runs with its
    /// own scaled weight instead of a masked copy of the 512-channel map.
    private func classify(batch: Int, training: Bool, dropoutKey: UInt64) {
        let p = parameters
        dropoutActive = training && configuration.dropout > 0
        guard dropoutActive else {
            classifier.forward(p, input: fusedOutput.base, fusedOutput.layout(batch), output: logits.base, logits.layout(batch), team: team)
            return
        }
        Gradients.fillDropoutMask(dropoutMask, rows: 0..<batch, columns: 0..<channels, leading: channels,
                                  probability: Float(configuration.dropout), key: dropoutKey)
        let weights = UnsafeMutablePointer<Float>.allocate(capacity: classes * channels)
        defer { weights.deallocate() }
        for image in 0..<batch {
            maskedClassifierWeights(image: image, into: weights)
            classifier.geometry.forward(input: fusedOutput.base + image * imageStride(fusedOutput), fusedOutput.layout(1),
                                        packedWeights: weights, bias: classifier.bias.map { UnsafePointer(p.value($0)) },
                                        output: logits.base + image * imageStride(logits), logits.layout(1), team: team)
        }
    }

    /// The classifier's weight `[C, Ch]` with column c scaled by image `image`'s dropout mask.
    func maskedClassifierWeights(image: Int, into weights: UnsafeMutablePointer<Float>) {
        let weight = parameters.value(classifier.weight), mask = dropoutMask + image * channels
        for output in 0..<classes {
            for input in 0..<channels { weights[output * channels + input] = weight[output * channels + input] * mask[input] }
        }
    }

    /// Floats per image of a buffer.
    func imageStride(_ buffer: FeatureBuffer) -> Int { buffer.layout(1).bufferCount }
}
