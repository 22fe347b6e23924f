// Where a channels-last (NHWC) feature map sits in memory, for the dense ops (convolution,
// normalisation, resizing, pooling, concatenation) that decoders run on raw buffers.
//
// Why channels-last: patch tokens arrive as `[N, h, w, D]`, so a 1×1 convolution is one GEMM over
// every pixel of the batch with the weight as PyTorch stores it; a k×k convolution becomes k²
// GEMMs over shifted runs of whole pixels (see Convolution2D.swift), with no im2col copy; and
// normalisation, resizing and pooling compute their per-pixel weights once and apply them to
// vectors of channels. Two extras make the layout cheap to compose:
//
// - a zero **border** of `border` pixels around each image, so that a 3×3 convolution reads its
//   padding from memory instead of copying the input into a padded buffer; ops never write
//   non-zero values into a border they were given;
// - a **pixel stride** larger than the channel count, so that a map can be a channel slice of a
//   wider buffer: concatenation along channels is then producers writing into their slices.

/// The geometry of an NHWC feature map in a caller-owned buffer.
///
/// Element `(image, y, x, channel)` of the map (interior coordinates, `0 ≤ y < height`) is at
/// `offset(image: image, y: y, x: x) + channel`. Pixels outside the interior, up to `border`
/// away, belong to the zero border.
public struct FeatureMapLayout: Sendable, Equatable, CustomStringConvertible {
    /// Images in the batch.
    public let batch: Int
    /// Interior rows per image.
    public let height: Int
    /// Interior columns per image.
    public let width: Int
    /// Channels of this map.
    public let channels: Int
    /// Zero pixels around each image's interior, on every side.
    public let border: Int
    /// Floats from one pixel to the next (≥ `channels`; larger when the map is a channel slice).
    public let pixelStride: Int

    /// A layout; `pixelStride` defaults to `channels` (a dense map).
    /// - Precondition: non-negative extents, `pixelStride >= channels`.
    public init(batch: Int, height: Int, width: Int, channels: Int, border: Int = 0, pixelStride: Int? = nil) {
        precondition(batch >= 0 && height >= 0 && width >= 0 && channels >= 0 && border >= 0,
                     "negative extent in feature map [\(batch), \(height), \(width), \(channels)] border \(border)")
        self.batch = batch
        self.height = height
        self.width = width
        self.channels = channels
        self.border = border
        self.pixelStride = pixelStride ?? channels
        precondition(self.pixelStride >= channels, "pixel stride \(self.pixelStride) below \(channels) channels")
    }

    /// Rows per image including the border.
    public var paddedHeight: Int { height + 2 * border }
    /// Columns per image including the border.
    public var paddedWidth: Int { width + 2 * border }
    /// Interior pixels over the batch (`batch · height · width`).
    public var pixelCount: Int { batch * height * width }
    /// Floats the whole buffer spans, border included.
    public var bufferCount: Int { batch * paddedHeight * paddedWidth * pixelStride }
    /// Whether the interior is one dense run of `pixelCount · channels` floats.
    public var isDense: Bool { border == 0 && pixelStride == channels }

    /// Offset of channel 0 of interior pixel `(image, y, x)`; `y` and `x` may reach into the border.
    @inline(__always)
    public func offset(image: Int, y: Int, x: Int) -> Int {
        ((image * paddedHeight + y + border) * paddedWidth + x + border) * pixelStride
    }

    /// Index of interior pixel `(image, y, x)` counted over all padded pixels (not floats).
    @inline(__always)
    public func paddedPixelIndex(image: Int, y: Int, x: Int) -> Int {
        (image * paddedHeight + y + border) * paddedWidth + x + border
    }

    /// A dense layout (pixel stride = channels) of the same batch and size, with other channels
    /// or border (e.g. for an op's output).
    public func dense(channels: Int? = nil, border: Int? = nil) -> FeatureMapLayout {
        FeatureMapLayout(batch: batch, height: height, width: width, channels: channels ?? self.channels,
                         border: border ?? self.border)
    }

    /// The same geometry with another interior size.
    public func resized(height: Int, width: Int) -> FeatureMapLayout {
        FeatureMapLayout(batch: batch, height: height, width: width, channels: channels, border: border, pixelStride: pixelStride)
    }

    /// The layout of `count` channels starting at `start` of this map; add `start` to the base
    /// pointer to address them.
    /// - Precondition: the channels lie within this map's channels.
    public func channelSlice(count: Int) -> FeatureMapLayout {
        precondition(count <= channels, "slice of \(count) channels from \(channels)")
        return FeatureMapLayout(batch: batch, height: height, width: width, channels: count, border: border,
                                pixelStride: pixelStride)
    }

    /// Calls `body(image, y, rowOffset)` for every interior row, `rowOffset` being the offset of
    /// channel 0 of pixel `(image, y, 0)`.
    @inline(__always)
    public func forEachRow(images: Range<Int>? = nil, _ body: (_ image: Int, _ y: Int, _ rowOffset: Int) -> Void) {
        for image in images ?? 0..<batch {
            for y in 0..<height { body(image, y, offset(image: image, y: y, x: 0)) }
        }
    }

    public var description: String {
        "[\(batch), \(height), \(width), \(channels)]" + (border > 0 ? " border \(border)" : "")
            + (pixelStride != channels ? " stride \(pixelStride)" : "")
    }

    /// Sets every border pixel (all `pixelStride` floats of it) of `buffer` to zero.
    public func zeroBorder(_ buffer: UnsafeMutablePointer<Float>) {
        guard border > 0 else { return }
        let rowFloats = paddedWidth * pixelStride
        for image in 0..<batch {
            let imageBase = buffer + image * paddedHeight * rowFloats
            for row in 0..<paddedHeight {
                let rowBase = imageBase + row * rowFloats
                if row < border || row >= border + height {
                    rowBase.update(repeating: 0, count: rowFloats)
                } else {
                    rowBase.update(repeating: 0, count: border * pixelStride)
                    (rowBase + (border + width) * pixelStride).update(repeating: 0, count: border * pixelStride)
                }
            }
        }
    }
}
