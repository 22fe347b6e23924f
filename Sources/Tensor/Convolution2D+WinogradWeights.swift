// The weight gradient of a stride-1, padding-1 3×3 convolution by Winograd F(2×2, 3×3): the
// adjoint of the forward's transforms (see Convolution2D+Winograd.swift and
// WinogradTransforms.swift). With V = Bᵀ d B the input tiles and ∂M = A ∂Y Aᵀ the output-gradient
// blocks, ∂L/∂U_p = Σ_tiles ∂M_pᵀ·V_p is 16 products `[Cout, tiles]·[tiles, Cin]`, and
// ∂L/∂W = Gᵀ (∂L/∂U) G per channel pair. The blocks are cut into `winogradWeightParts` fixed
// ranges, each summed (in chunks of `winogradWeightTiles` blocks) into a partial of its own; the
// partials are added in order, so the result does not depend on the thread count.

extension Convolution2D {
    /// `weightGradient += ∂L/∂W` (PyTorch order `[Cout, Cin, 3, 3]`) by Winograd, from the output
    /// gradient and the forward's input (same size, any borders).
    func winogradWeightGradient(outputGradient: UnsafePointer<Float>, _ outputLayout: FeatureMapLayout,
                                input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                                weightGradient: UnsafeMutablePointer<Float>, team: WorkerTeam?, routine: ProductRoutine) {
        precondition(supportsWinograd, "Winograd F(2×2, 3×3) on a \(kernelSize)×\(kernelSize) stride \(stride) convolution")
        let grid = WinogradGrid(outputLayout)
        let parts = Self.winogradWeightParts, chunkTiles = Self.winogradWeightTiles
        let plane = outChannels * inChannels
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: parts * 16 * plane)
        let workers = Parallel.workerCount(tasks: parts, on: team)
        let transformedInput = UnsafeMutablePointer<Float>.allocate(capacity: workers * 16 * chunkTiles * inChannels)
        let transformedGradient = UnsafeMutablePointer<Float>.allocate(capacity: workers * 16 * chunkTiles * outChannels)
        let scratch = (0..<workers).map { _ in WinogradScratch(tile: routine == .tiled) }
        defer {
            partials.deallocate()
            transformedInput.deallocate()
            transformedGradient.deallocate()
        }
        Parallel.forEachTask(count: parts, on: team) { part, worker in
            let start = grid.count * part / parts, end = grid.count * (part + 1) / parts
            let target = partials + part * 16 * plane
            let v = transformedInput + worker * 16 * chunkTiles * inChannels
            let m = transformedGradient + worker * 16 * chunkTiles * outChannels
            let work = scratch[worker]
            guard end > start else { target.update(repeating: 0, count: 16 * plane); return }
            var first = start
            while first < end {
                let count = min(chunkTiles, end - first)
                Self.transformInputTiles(input, inputLayout, grid: grid, first: first, count: count, into: v,
                                         positionStride: chunkTiles * inChannels, scratch: work)
                Self.transformGradientBlocks(outputGradient, outputLayout, grid: grid, first: first, count: count, into: m,
                                             positionStride: chunkTiles * outChannels, scratch: work)
                for position in 0..<16 {
                    // partial[p] (+)= ∂M_pᵀ · V_p, [Cout, count]·[count, Cin]
                    let a = m + position * chunkTiles * outChannels, b = v + position * chunkTiles * inChannels
                    if routine == .tiled {
                        weightGradientProduct(outputs: outChannels, inputs: inChannels, depth: count, a: a, aStride: outChannels,
                                              b: b, bStride: inChannels, c: target + position * plane,
                                              accumulate: first > start, scratch: work.tile!)
                    } else {
                        BLASBackend.sgemm(transposeA: true, m: outChannels, n: inChannels, k: count, a: a, leadingA: outChannels,
                                          b: b, leadingB: inChannels, beta: first > start ? 1 : 0,
                                          c: target + position * plane, leadingC: inChannels)
                    }
                }
                first += count
            }
        }
        // Sum the parts in order, then ∂W = Gᵀ ∂U G, output channels split over the team.
        Parallel.forEachTask(count: outChannels, on: team) { output in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 25) { buffer in
                let u = buffer.baseAddress!, g = u + 16
                for input in 0..<inChannels {
                    let index = output * inChannels + input
                    for position in 0..<16 {
                        var sum = partials[position * plane + index]
                        for part in 1..<parts { sum += partials[(part * 16 + position) * plane + index] }
                        u[position] = sum
                    }
                    transformWinogradFilterGradient(u, stride: 1, into: g)
                    for tap in 0..<9 { weightGradient[index * 9 + tap] += g[tap] }
                }
            }
        }
    }
}
