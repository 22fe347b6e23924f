import Tensor

// The backward pass, in reverse order of the forward. Gradient buffers are reused as soon as
// their values are consumed (per level: A and B with the head's channels, two with the neck's,
// and the fused map's gradient, which also lends level 0 its neck-width buffers):
//
//   classifier → A0; fused BN → B0; fused conv → fused gradient
//   level 0: FPN BN (from the fused gradient's slice) → A0; FPN conv → B0 (= ∂lateral 0)
//   levels 1–2: resizeᵀ(slice) → A; FPN BN → B; FPN conv → A (= ∂lateral)
//   level 3: resizeᵀ(slice 3) → A3 (= ∂lateral 3); then the top-down sums' adjoints, finest first
//   lateral BN → A0 / B1 / B2; lateral conv → neck gradient 1; bottleneck BN → B3, conv → pyramid
//   gradient; its slices through pooling into neck gradient 1 of level 3
//   neck conv → neck gradient 2 → resizeᵀ → the 1×1 conv's weight gradient.
//
// Every writer leaves borders zero, which the 3×3 convolutions' backward passes rely on.

extension UPerNetDecoder {
    func backward(logitGradient: UnsafePointer<Float>, layers: [UnsafePointer<Float>], batch: Int) {
        precondition(layers.count == 4 && batch <= capacity, "UPerNet reads four layers of at most \(capacity) images")
        let p = parameters, team = team, scales = configuration.poolScales
        copyPlanesToPixels(logitGradient, into: logitGradients.base, logitGradients.layout(batch))
        BLASBackend.withSingleThreadedCalls {
            backwardClassifier(batch: batch)
            let a = gradientA.map { $0.base }, b = gradientB.map { $0.base }
            let headLayout = (0..<4).map { gradientA[$0].layout(batch) }
            fpnBottleneckNorm.backward(p, outputGradient: a[0], headLayout[0], input: fusedPreactivation.base,
                                       fusedPreactivation.layout(batch), inputGradient: b[0], team: team)
            fpnBottleneck.backward(p, outputGradient: b[0], headLayout[0], input: fused.base, fused.layout(batch),
                                   inputGradient: fusedGradient.base, fusedGradient.layout(batch), team: team)
            // FPN levels: the gradient of each level's output is its slice of the fused gradient.
            let slice = fusedGradient.slice(batch, channels: channels)
            fpnNorms[0].backward(p, outputGradient: fusedGradient.base, slice, input: fpnPreactivations[0].base,
                                 fpnPreactivations[0].layout(batch), inputGradient: a[0], team: team)
            fpnConvolutions[0].backward(p, outputGradient: a[0], headLayout[0], input: laterals[0].base, laterals[0].layout(batch),
                                        inputGradient: b[0], team: team)
            for level in 1..<3 {
                finestResizes[level - 1].backward(outputGradient: fusedGradient.base + level * channels, slice,
                                                  inputGradient: a[level], headLayout[level], team: team)
                fpnNorms[level].backward(p, outputGradient: a[level], headLayout[level], input: fpnPreactivations[level].base,
                                         fpnPreactivations[level].layout(batch), inputGradient: b[level], team: team)
                fpnConvolutions[level].backward(p, outputGradient: b[level], headLayout[level], input: laterals[level].base,
                                                laterals[level].layout(batch), inputGradient: a[level], team: team)
            }
            finestResizes[2].backward(outputGradient: fusedGradient.base + 3 * channels, slice,
                                      inputGradient: a[3], headLayout[3], team: team)
            // ∂lateral per level: B0, A1, A2, A3; the top-down sums pass gradients coarser.
            let lateralGradients = [b[0], a[1], a[2], a[3]]
            for level in 1...3 {
                topDownResizes[level - 1].backward(outputGradient: lateralGradients[level - 1], headLayout[level - 1],
                                                   inputGradient: lateralGradients[level], headLayout[level], accumulate: true,
                                                   team: team)
            }
            // Lateral conv–BN–ReLU of levels 0–2 into the neck outputs' gradients.
            var neckGradientMaps: [(UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, FeatureMapLayout)] = []
            for level in 0..<4 { neckGradientMaps.append(neckGradients(level: level, batch: batch)) }
            for level in 0..<3 {
                let preactivationGradient = level == 0 ? a[0] : b[level]
                lateralNorms[level].backward(p, outputGradient: lateralGradients[level], headLayout[level],
                                             input: lateralPreactivations[level].base, lateralPreactivations[level].layout(batch),
                                             inputGradient: preactivationGradient, team: team)
                lateralConvolutions[level].backward(p, outputGradient: preactivationGradient, headLayout[level],
                                                    input: neckOutputs[level].base, neckOutputs[level].layout(batch),
                                                    inputGradient: neckGradientMaps[level].0, neckGradientMaps[level].2, team: team)
            }
            // Pyramid pooling.
            bottleneckNorm.backward(p, outputGradient: a[3], headLayout[3], input: bottleneckPreactivation.base,
                                    bottleneckPreactivation.layout(batch), inputGradient: b[3], team: team)
            bottleneck.backward(p, outputGradient: b[3], headLayout[3], input: pyramid.base, pyramid.layout(batch),
                                inputGradient: pyramidGradient.base, pyramidGradient.layout(batch), team: team)
            let coarsest = neckGradientMaps[3]
            copyFeatureMap(pyramidGradient.base, pyramidGradient.slice(batch, channels: neckChannels), into: coarsest.0, coarsest.2,
                           team: team)
            for (k, _) in scales.enumerated() {
                poolResizes[k].backward(outputGradient: pyramidGradient.base + neckChannels + k * channels,
                                        pyramidGradient.slice(batch, channels: channels),
                                        inputGradient: poolGradients[k].base, poolGradients[k].layout(batch), team: team)
                poolNorms[k].backward(p, outputGradient: poolGradients[k].base, poolGradients[k].layout(batch),
                                      input: poolPreactivations[k].base, poolPreactivations[k].layout(batch),
                                      inputGradient: poolPreactivationGradients[k].base, team: team)
                poolConvolutions[k].backward(p, outputGradient: poolPreactivationGradients[k].base,
                                             poolPreactivationGradients[k].layout(batch), input: pooled[k].base,
                                             pooled[k].layout(batch), inputGradient: pooledGradients[k].base, team: team)
                poolings[k].backward(outputGradient: pooledGradients[k].base, pooledGradients[k].layout(batch),
                                     inputGradient: coarsest.0, coarsest.2, accumulate: true, team: team)
            }
            // Neck: 3×3 conv, the rescale's adjoint, the 1×1 conv's weights (tokens are frozen).
            let tokens = FeatureMapLayout(batch: batch, height: grid.height, width: grid.width, channels: grid.channels)
            for level in 0..<4 {
                let (outputGradient, resizedGradient, layout) = neckGradientMaps[level]
                neckConvolutions[level].backward(p, outputGradient: outputGradient, layout, input: resized[level].base,
                                                 resized[level].layout(batch), inputGradient: resizedGradient, layout, team: team)
                neckResizes[level].backward(outputGradient: resizedGradient, layout,
                                            inputGradient: neckLateralGradient.base, neckLateralGradient.layout(batch), team: team)
                neckLaterals[level].backward(p, outputGradient: neckLateralGradient.base, neckLateralGradient.layout(batch),
                                             input: layers[level], tokens, inputGradient: nil, team: team)
            }
        }
    }

    /// The classifier's gradients and `∂L/∂(fused output)` into gradient A of level 0, per image
    /// with the dropout-scaled weights when dropout was active.
    private func backwardClassifier(batch: Int) {
        let p = parameters
        guard dropoutActive else {
            classifier.backward(p, outputGradient: logitGradients.base, logitGradients.layout(batch), input: fusedOutput.base,
                                fusedOutput.layout(batch), inputGradient: gradientA[0].base, gradientA[0].layout(batch), team: team)
            return
        }
        let count = classes * channels
        let weights = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let imageGradient = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer {
            weights.deallocate()
            imageGradient.deallocate()
        }
        let weightGradient = p.gradient(classifier.weight), geometry = classifier.geometry
        for image in 0..<batch {
            let outputGradient = logitGradients.base + image * imageStride(logitGradients)
            let input = fusedOutput.base + image * imageStride(fusedOutput)
            imageGradient.update(repeating: 0, count: count)
            geometry.backwardWeights(outputGradient: outputGradient, logitGradients.layout(1), input: input, fusedOutput.layout(1),
                                     weightGradient: imageGradient, biasGradient: classifier.bias.map { p.gradient($0) }, team: team)
            let mask = dropoutMask + image * channels
            for output in 0..<classes {
                for channel in 0..<channels { weightGradient[output * channels + channel] += imageGradient[output * channels + channel] * mask[channel] }
            }
            maskedClassifierWeights(image: image, into: weights)
            geometry.backwardInput(outputGradient: outputGradient, logitGradients.layout(1), packedWeights: weights,
                                   inputGradient: gradientA[0].base + image * imageStride(gradientA[0]), gradientA[0].layout(1),
                                   team: team)
        }
    }
}
