import Foundation

/// How a decoded image becomes a model input: every step can be switched or tuned; the
/// defaults are the paper's (zero-pad to a square, scale to [0, 1], grey to three channels,
/// antialiased bilinear resize to 518 x 518, ImageNet mean/std).
///
/// Decoding from JSON/YAML fills missing keys with the defaults, so a spec only names what it
/// changes. Apply it with `apply(to:)`; it is a value, so images can be processed in parallel.
public struct Preprocessing: Codable, Sendable, Hashable {
    /// How the image is resized to `size x size`.
    public enum Resize: String, Codable, Sendable, Hashable, CaseIterable {
        /// `F.interpolate(mode="bilinear", align_corners=False, antialias=True)`.
        case bilinearAntialiased = "bilinear-antialiased"
        /// `F.interpolate(mode="bilinear", align_corners=False, antialias=False)`; identical
        /// to the antialiased mode when enlarging.
        case bilinear
    }

    /// ImageNet channel means (RGB), the default normalisation.
    public static let imageNetMean: [Float] = [0.485, 0.456, 0.406]
    /// ImageNet channel standard deviations (RGB).
    public static let imageNetStd: [Float] = [0.229, 0.224, 0.225]

    /// Zero-pad the shorter side symmetrically to make a square (an odd pixel goes to the
    /// bottom/right) before resizing, so the aspect ratio survives.
    public var padToSquare: Bool
    /// Divide samples by 255 or 65535 (by the image's bit depth); otherwise raw sample values.
    public var scaleToUnitInterval: Bool
    /// Repeat a grey channel three times; otherwise grey images give one channel (and mean/std,
    /// if any, must then be single values).
    public var replicateGreyToThreeChannels: Bool
    /// Output side length in pixels; nil keeps the (padded) size.
    public var size: Int?
    /// The resampling filter.
    public var resize: Resize
    /// Per-channel means subtracted last; nil skips normalisation (then `std` must be nil too).
    public var mean: [Float]?
    /// Per-channel standard deviations divided by last.
    public var std: [Float]?

    /// Creates a preprocessing; every argument defaults to the paper's choice.
    public init(padToSquare: Bool = true, scaleToUnitInterval: Bool = true,
                replicateGreyToThreeChannels: Bool = true, size: Int? = 518,
                resize: Resize = .bilinearAntialiased,
                mean: [Float]? = Preprocessing.imageNetMean, std: [Float]? = Preprocessing.imageNetStd) {
        self.padToSquare = padToSquare
        self.scaleToUnitInterval = scaleToUnitInterval
        self.replicateGreyToThreeChannels = replicateGreyToThreeChannels
        self.size = size
        self.resize = resize
        self.mean = mean
        self.std = std
        if let problem = validationProblem { preconditionFailure("invalid preprocessing: \(problem)") }
    }

    /// The paper's preprocessing at the default 518 x 518.
    public static let paperDefault = Preprocessing()

    /// Why this configuration cannot be applied, or nil when it can.
    var validationProblem: String? {
        if let size, size <= 0 { return "size must be positive, got \(size)" }
        switch (mean, std) {
        case (nil, nil):
            return nil
        case (let mean?, let std?):
            guard mean.count == std.count, mean.count == 1 || mean.count == 3 else {
                return "mean and std need 1 or 3 values each, got \(mean.count) and \(std.count)"
            }
            if let bad = std.first(where: { !($0 > 0) || !$0.isFinite }) {
                return "every std value must be positive and finite, got \(bad)"
            }
            if let bad = mean.first(where: { !$0.isFinite }) { return "mean values must be finite, got \(bad)" }
            // Without replication a grey image keeps one channel and an RGB image three, so
            // only a single broadcast value fits both.
            if !replicateGreyToThreeChannels && mean.count != 1 {
                return "without grey replication the channel count depends on the image; give one mean and one std value"
            }
            return nil
        default:
            return "mean and std must be given together"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case padToSquare, scaleToUnitInterval, replicateGreyToThreeChannels, size, resize, mean, std
    }

    /// Decodes a configuration, filling missing keys with the defaults.
    ///
    /// - Throws: `DecodingError.dataCorrupted` naming the problem when values are inconsistent
    ///   (a non-positive size, mean/std of different lengths, a non-positive std).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = Preprocessing.paperDefault
        padToSquare = try container.decodeIfPresent(Bool.self, forKey: .padToSquare) ?? defaults.padToSquare
        scaleToUnitInterval = try container.decodeIfPresent(Bool.self, forKey: .scaleToUnitInterval)
            ?? defaults.scaleToUnitInterval
        replicateGreyToThreeChannels = try container.decodeIfPresent(Bool.self, forKey: .replicateGreyToThreeChannels)
            ?? defaults.replicateGreyToThreeChannels
        // An absent `size` means the default; an explicit null means "do not resize".
        if !container.contains(.size) {
            size = defaults.size
        } else if try container.decodeNil(forKey: .size) {
            size = nil
        } else {
            size = try container.decode(Int.self, forKey: .size)
        }
        resize = try container.decodeIfPresent(Resize.self, forKey: .resize) ?? defaults.resize
        let hasNormalisation = container.contains(.mean) || container.contains(.std)
        mean = hasNormalisation ? try container.decodeIfPresent([Float].self, forKey: .mean) : defaults.mean
        std = hasNormalisation ? try container.decodeIfPresent([Float].self, forKey: .std) : defaults.std
        if let problem = validationProblem {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "invalid preprocessing: \(problem)"))
        }
    }

    /// Encodes every field (nil ones as null), so the encoded form is a complete record.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(padToSquare, forKey: .padToSquare)
        try container.encode(scaleToUnitInterval, forKey: .scaleToUnitInterval)
        try container.encode(replicateGreyToThreeChannels, forKey: .replicateGreyToThreeChannels)
        try container.encode(size, forKey: .size)
        try container.encode(resize, forKey: .resize)
        try container.encode(mean, forKey: .mean)
        try container.encode(std, forKey: .std)
    }
}

/// A preprocessed image: `Float` values in channel-major (CHW) order.
public struct PreprocessedImage: Sendable, Hashable {
    /// Channels (3, or 1 for grey when replication is off).
    public let channels: Int
    /// Rows.
    public let height: Int
    /// Columns.
    public let width: Int
    /// `channels * height * width` values; element `[c, y, x]` is at `(c * height + y) * width + x`.
    public let values: [Float]

    /// `[channels, height, width]`.
    public var shape: [Int] { [channels, height, width] }

    /// Wraps CHW values.
    public init(channels: Int, height: Int, width: Int, values: [Float]) {
        precondition(values.count == channels * height * width,
                     "expected \(channels * height * width) values for [\(channels), \(height), \(width)], got \(values.count)")
        self.channels = channels
        self.height = height
        self.width = width
        self.values = values
    }
}
