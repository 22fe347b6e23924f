// Bilinear resizing of single-channel planes (NCHW maps seen as N·C planes), for class logits and
// masks at mask resolution: separable, the horizontal pass on the few input rows and the
// vertical pass over output rows 16 columns at a time.

extension BilinearResize {
    /// `output[p] = resize(input[p])` for every plane `p`.
    /// - Parameters:
    ///   - input: `[planes, inputHeight, inputWidth]`.
    ///   - output: `[planes, outputHeight, outputWidth]`.
    /// - Complexity: O(planes · (inputHeight + outputHeight) · outputWidth), planes split over the team.
    public func forwardPlanes(input: UnsafePointer<Float>, planes: Int, output: UnsafeMutablePointer<Float>,
                              team: WorkerTeam? = nil) {
        Parallel.forEachTask(count: planes, on: team) { plane in
            let horizontal = UnsafeMutablePointer<Float>.allocate(capacity: inputHeight * outputWidth)
            defer { horizontal.deallocate() }
            resizeRows(input + plane * inputHeight * inputWidth, into: horizontal)
            for y in 0..<outputHeight {
                blendRows(horizontal, rows[y], into: output + (plane * outputHeight + y) * outputWidth)
            }
        }
    }

    /// Each input row resized along x: `horizontal[y, x] = w0·row[y, i0(x)] + w1·row[y, i1(x)]`.
    func resizeRows(_ plane: UnsafePointer<Float>, into horizontal: UnsafeMutablePointer<Float>) {
        for y in 0..<inputHeight {
            let source = plane + y * inputWidth, target = horizontal + y * outputWidth
            for x in 0..<outputWidth {
                let tap = columns[x]
                target[x] = source[tap.index0] * tap.weight0 + source[tap.index1] * tap.weight1
            }
        }
    }

    /// One output row from the horizontally resized rows: `w0·horizontal[i0] + w1·horizontal[i1]`.
    @inline(__always)
    func blendRows(_ horizontal: UnsafePointer<Float>, _ tap: LinearTap, into target: UnsafeMutablePointer<Float>) {
        let upper = horizontal + tap.index0 * outputWidth, lower = horizontal + tap.index1 * outputWidth
        let w0 = Vector(repeating: tap.weight0), w1 = Vector(repeating: tap.weight1)
        var x = 0
        while x + 16 <= outputWidth {
            storeVector(loadVector(upper + x) * w0 + loadVector(lower + x) * w1, target + x)
            x += 16
        }
        while x < outputWidth {
            target[x] = upper[x] * tap.weight0 + lower[x] * tap.weight1
            x += 1
        }
    }

    /// The adjoint on planes: `inputGradient[p] (+)= resizeᵀ(outputGradient[p])`.
    public func backwardPlanes(outputGradient: UnsafePointer<Float>, planes: Int,
                               inputGradient: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                               team: WorkerTeam? = nil) {
        Parallel.forEachTask(count: planes, on: team) { plane in
            let vertical = UnsafeMutablePointer<Float>.allocate(capacity: inputHeight * outputWidth)
            defer { vertical.deallocate() }
            vertical.update(repeating: 0, count: inputHeight * outputWidth)
            for y in 0..<outputHeight {
                scatterRow(outputGradient + (plane * outputHeight + y) * outputWidth, rows[y], into: vertical)
            }
            gatherColumns(vertical, into: inputGradient + plane * inputHeight * inputWidth, accumulate: accumulate)
        }
    }

    /// Adds an output-resolution gradient row into the two horizontally resized rows it came from.
    @inline(__always)
    func scatterRow(_ gradient: UnsafePointer<Float>, _ tap: LinearTap, into vertical: UnsafeMutablePointer<Float>) {
        let upper = vertical + tap.index0 * outputWidth, lower = vertical + tap.index1 * outputWidth
        let w0 = Vector(repeating: tap.weight0), w1 = Vector(repeating: tap.weight1)
        var x = 0
        while x + 16 <= outputWidth {
            let g = loadVector(gradient + x)
            storeVector(loadVector(upper + x).addingProduct(g, w0), upper + x)
            storeVector(loadVector(lower + x).addingProduct(g, w1), lower + x)
            x += 16
        }
        while x < outputWidth {
            upper[x] = upper[x].addingProduct(gradient[x], tap.weight0)
            lower[x] = lower[x].addingProduct(gradient[x], tap.weight1)
            x += 1
        }
    }

    /// The horizontal adjoint: `plane[y, i] (+)= Σ_x w_i(x)·vertical[y, x]`.
    func gatherColumns(_ vertical: UnsafePointer<Float>, into plane: UnsafeMutablePointer<Float>, accumulate: Bool) {
        for y in 0..<inputHeight {
            let source = vertical + y * outputWidth, target = plane + y * inputWidth
            if !accumulate { target.update(repeating: 0, count: inputWidth) }
            for x in 0..<outputWidth {
                let tap = columns[x]
                target[tap.index0] = target[tap.index0].addingProduct(source[x], tap.weight0)
                target[tap.index1] = target[tap.index1].addingProduct(source[x], tap.weight1)
            }
        }
    }
}
