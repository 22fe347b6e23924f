// ReLU on feature maps, forward and backward. Batch norm fuses its own ReLU (BatchNormalization's
// `relu:`); this is for maps that are not normalised first.

/// `max(x, 0)` on NHWC maps and its gradient.
public enum ReLU {
    /// `output = max(input, 0)`; input and output may be the same buffer with the same layout.
    public static func forward(input: UnsafePointer<Float>, _ inputLayout: FeatureMapLayout,
                               output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout,
                               team: WorkerTeam? = nil) {
        map(input, inputLayout, nil, nil, output, outputLayout, team: team) { x, _ in x.replacing(with: 0, where: x .< 0) }
    }

    /// `inputGradient = outputGradient · [output > 0]` (the gradient PyTorch uses, from the output).
    public static func backward(outputGradient: UnsafePointer<Float>, _ gradientLayout: FeatureMapLayout,
                                output: UnsafePointer<Float>, _ outputLayout: FeatureMapLayout,
                                inputGradient: UnsafeMutablePointer<Float>, _ inputGradientLayout: FeatureMapLayout,
                                team: WorkerTeam? = nil) {
        map(outputGradient, gradientLayout, output, outputLayout, inputGradient, inputGradientLayout, team: team) { g, y in
            g.replacing(with: 0, where: .!(y .> 0))
        }
    }

    /// `target = body(first, second)` pixel by pixel over the interior, rows split over the team.
    private static func map(_ first: UnsafePointer<Float>, _ firstLayout: FeatureMapLayout,
                            _ second: UnsafePointer<Float>?, _ secondLayout: FeatureMapLayout?,
                            _ target: UnsafeMutablePointer<Float>, _ targetLayout: FeatureMapLayout,
                            team: WorkerTeam?, _ body: (Vector, Vector) -> Vector) {
        precondition(firstLayout.batch == targetLayout.batch && firstLayout.height == targetLayout.height
                     && firstLayout.width == targetLayout.width && firstLayout.channels == targetLayout.channels,
                     "ReLU from \(firstLayout) to \(targetLayout)")
        let channels = firstLayout.channels
        let rows = firstLayout.batch * firstLayout.height
        Parallel.forEachChunk(count: rows, minimumChunk: max(1, 32_768 / max(1, firstLayout.width * channels)), on: team) { range in
            for rowIndex in range {
                let image = rowIndex / firstLayout.height, y = rowIndex % firstLayout.height
                for x in 0..<firstLayout.width {
                    let a = first + firstLayout.offset(image: image, y: y, x: x)
                    let b = second.map { $0 + secondLayout!.offset(image: image, y: y, x: x) }
                    let t = target + targetLayout.offset(image: image, y: y, x: x)
                    var channel = 0
                    while channel < channels {
                        let lanes = min(16, channels - channel)
                        let left = lanes == 16 ? loadVector(a + channel) : loadPartialVector(a + channel, count: lanes)
                        let right = b.map { lanes == 16 ? loadVector($0 + channel) : loadPartialVector($0 + channel, count: lanes) } ?? Vector()
                        let value = body(left, right)
                        if lanes == 16 { storeVector(value, t + channel) } else { storePartialVector(value, t + channel, count: lanes) }
                        channel += 16
                    }
                }
            }
        }
    }
}
