import Foundation

/// Why a segmentation mask could not be read or built. Every case names the file (or the
/// sample and class), what is wrong and what to do.
public enum MaskError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// The manifest has no segmentation classes (its adapter read no masks).
    case noSegmentation(dataset: String)
    /// A mask file the manifest names does not exist.
    case missingFile(path: String, sampleID: String, className: String)
    /// A mask file exists but cannot be decoded as a PNG (corrupt, truncated, JPEG, empty).
    case unreadableFile(path: String, sampleID: String, className: String, reason: String)
    /// A label map (read by value or bit) is a colour PNG, whose pixels are colours, not class numbers.
    case colourLabelMap(path: String, className: String)
    /// Masks of one sample disagree in size.
    case sizeMismatch(sampleID: String, className: String, source: String, size: MaskSize, expected: MaskSize, expectedFrom: String)
    /// An image whose size an empty sample's masks take could not be read.
    case unreadableImage(path: String, sampleID: String, reason: String)
    /// Run-length data that does not describe a mask of its size.
    case invalidRunLength(reason: String)
    /// Polygon data that cannot be filled.
    case invalidPolygon(reason: String)
    /// The requested output size is not positive, or has more pixels than the decoding limit.
    case invalidSize(height: Int, width: Int)

    /// A message naming the file or sample, the problem and the remedy.
    public var description: String {
        switch self {
        case .noSegmentation(let dataset):
            "dataset \(dataset) has no segmentation masks. Use an adapter that reads masks (phantom with masks: true, "
                + "csv with mask_columns or label_map_column, siim-acr, jsrt, vindr-ribcxr)."
        case .missingFile(let path, let sampleID, let className):
            "\(path): mask file not found (sample \(sampleID), class \(className)). Check the mask paths and the dataset root."
        case .unreadableFile(let path, let sampleID, let className, let reason):
            "\(path): cannot read the mask of sample \(sampleID), class \(className): \(reason). "
                + "Masks must be PNG files (grey or colour; JPEG's lossy compression changes mask values); re-export the mask."
        case .colourLabelMap(let path, let className):
            "\(path): a colour (RGB or palette) PNG read as a label map for class \(className); its pixels are colours, not class numbers. "
                + "Save label maps as greyscale PNGs whose values are the class numbers (numpy: Image.fromarray(labels.astype(np.uint8)))."
        case .sizeMismatch(let sampleID, let className, let source, let size, let expected, let expectedFrom):
            "sample \(sampleID), class \(className): the mask \(source) is \(size) but \(expectedFrom) is \(expected). "
                + "All masks of one image must have one size; re-export the mask at the size of the others."
        case .unreadableImage(let path, let sampleID, let reason):
            "\(path): cannot read the size of sample \(sampleID)'s image, which its empty masks take: \(reason). "
                + "Fix the image, or ask for the masks at a given size."
        case .invalidRunLength(let reason):
            "invalid run-length mask: \(reason). Check the RLE cell (pairs of start and length; -1 for an empty mask)."
        case .invalidPolygon(let reason):
            "invalid polygon mask: \(reason). Check the annotation's coordinates."
        case .invalidSize(let height, let width):
            "masks cannot be read at \(width) x \(height) pixels; ask for a positive size within the decoding limit."
        }
    }

    /// Same as `description`, for `LocalizedError` consumers.
    public var errorDescription: String? { description }
}

/// A mask's width and height in pixels.
public struct MaskSize: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int

    /// Creates a size.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// `width x height`.
    public var description: String { "\(width) x \(height)" }
}
