// Concatenation along channels of NHWC maps, and its backward (the split). Decoders avoid the
// copy altogether by having producers write straight into channel slices of the concatenated
// buffer (`FeatureMapLayout.channelSlice`); these functions are for maps that already exist.

/// `torch.cat(dim=1)` of NCHW maps, here along the last axis of NHWC maps.
public enum ChannelConcatenation {
    /// Copies each part into its slice of `output`, in order: part `k` lands at channel offset
    /// `Σ_{j<k} C_j`.
    /// - Precondition: parts share batch and size; their channels add up to the output's.
    public static func forward(parts: [(UnsafePointer<Float>, FeatureMapLayout)],
                               output: UnsafeMutablePointer<Float>, _ outputLayout: FeatureMapLayout,
                               team: WorkerTeam? = nil) {
        precondition(parts.reduce(0) { $0 + $1.1.channels } == outputLayout.channels,
                     "parts of \(parts.map(\.1.channels)) channels into \(outputLayout)")
        var offset = 0
        for (source, layout) in parts {
            let slice = outputLayout.channelSlice(count: layout.channels)
            copyFeatureMap(source, layout, into: output + offset, slice, team: team)
            offset += layout.channels
        }
    }

    /// The backward: copies each slice of `outputGradient` into (or adds it to) its part's gradient.
    public static func backward(outputGradient: UnsafePointer<Float>, _ outputLayout: FeatureMapLayout,
                                parts: [(UnsafeMutablePointer<Float>, FeatureMapLayout)], accumulate: Bool = false,
                                team: WorkerTeam? = nil) {
        precondition(parts.reduce(0) { $0 + $1.1.channels } == outputLayout.channels,
                     "parts of \(parts.map(\.1.channels)) channels from \(outputLayout)")
        var offset = 0
        for (target, layout) in parts {
            let slice = outputLayout.channelSlice(count: layout.channels)
            if accumulate {
                addFeatureMap(outputGradient + offset, slice, into: target, layout, team: team)
            } else {
                copyFeatureMap(outputGradient + offset, slice, into: target, layout, team: team)
            }
            offset += layout.channels
        }
    }
}

/// Copies the interior of one map into another of the same batch, size and channels (any
/// borders and strides), rows split over the team; the destination's border is left as it was.
public func copyFeatureMap(_ source: UnsafePointer<Float>, _ sourceLayout: FeatureMapLayout,
                               into destination: UnsafeMutablePointer<Float>, _ destinationLayout: FeatureMapLayout,
                               team: WorkerTeam? = nil) {
    forEachPixelPair(source, sourceLayout, destination, destinationLayout, team: team) { from, to, channels in
        to.update(from: from, count: channels)
    }
}

/// `destination += source` over the interior of two maps of the same batch, size and channels.
public func addFeatureMap(_ source: UnsafePointer<Float>, _ sourceLayout: FeatureMapLayout,
                          into destination: UnsafeMutablePointer<Float>, _ destinationLayout: FeatureMapLayout,
                          team: WorkerTeam? = nil) {
    forEachPixelPair(source, sourceLayout, destination, destinationLayout, team: team) { from, to, channels in
        addScaled(to, from, 1, channels)
    }
}

/// Calls `body(source pixel, destination pixel, channels)` for every interior pixel, rows split over the team.
private func forEachPixelPair(_ source: UnsafePointer<Float>, _ sourceLayout: FeatureMapLayout,
                              _ destination: UnsafeMutablePointer<Float>, _ destinationLayout: FeatureMapLayout,
                              team: WorkerTeam?, _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
    precondition(sourceLayout.batch == destinationLayout.batch && sourceLayout.height == destinationLayout.height
                 && sourceLayout.width == destinationLayout.width && sourceLayout.channels == destinationLayout.channels,
                 "between \(sourceLayout) and \(destinationLayout)")
    let rows = sourceLayout.batch * sourceLayout.height, channels = sourceLayout.channels
    Parallel.forEachChunk(count: rows, minimumChunk: max(1, 65_536 / max(1, sourceLayout.width * channels)), on: team) { range in
        for rowIndex in range {
            let image = rowIndex / sourceLayout.height, y = rowIndex % sourceLayout.height
            let from = source + sourceLayout.offset(image: image, y: y, x: 0)
            let to = destination + destinationLayout.offset(image: image, y: y, x: 0)
            for x in 0..<sourceLayout.width {
                body(from + x * sourceLayout.pixelStride, to + x * destinationLayout.pixelStride, channels)
            }
        }
    }
}
