/// Where one class's mask of one sample comes from.
///
/// Mask files are content, like images: the manifest stage digests every file a manifest
/// names (`maskFilePaths`), and those digests key the segmentation stages, never the paths.
/// Run-length and polygon masks live in the manifest itself, so its content digest covers them.
/// `Manifest.masks(of:height:width:)` reads any of them as binary planes.
public enum MaskSource: Sendable, Hashable {
    /// No pixel of the sample belongs to the class.
    case empty
    /// A PNG file, relative to the manifest's root (or absolute); `pixels` says which of its
    /// pixels belong to the class.
    case file(path: String, pixels: MaskPixelRule)
    /// A run-length encoded mask (SIIM-ACR's format, decoded).
    case runLength(RunLengthMask)
    /// Polygons, filled and united (VinDr-RibCXR).
    case polygons(PolygonMask)

    /// The mask file, for `.file`.
    public var filePath: String? {
        if case .file(let path, _) = self { return path }
        return nil
    }
}

/// Which pixels of a mask file belong to a class.
public enum MaskPixelRule: Sendable, Hashable {
    /// Every pixel that is not 0 (a binary mask: 0/1, 0/255 or 0/65535, grey or colour).
    case nonZero
    /// Pixels whose stored value equals this (a label map of exclusive classes: 1 lung, 2 heart …).
    case value(Int)
    /// Pixels whose value has this bit set (0 = the lowest): a label map of classes that may
    /// overlap, one bit per class (the phantom's masks).
    case bit(Int)

    /// Whether a stored value belongs to the class.
    @inline(__always)
    func contains(_ value: UInt16) -> Bool {
        switch self {
        case .nonZero: value != 0
        case .value(let wanted): Int(value) == wanted
        case .bit(let bit): bit < 16 && (value >> UInt16(bit)) & 1 == 1
        }
    }

    /// Whether the rule reads values as numbers (a colour file has none).
    var readsValues: Bool {
        if case .nonZero = self { return false }
        return true
    }
}

/// The segmentation classes of a manifest, in mask-plane order.
public struct SegmentationSchema: Sendable, Hashable, Codable {
    /// Class names; every sample has one `MaskSource` per class.
    public let classes: [String]
    /// Whether a pixel belongs to at most one class (a label map of values), so a decoder may
    /// use a softmax over classes; false when classes may overlap (lungs and clavicles).
    public let exclusive: Bool

    /// Creates a schema; class names must be unique and non-empty.
    public init(classes: [String], exclusive: Bool) {
        precondition(!classes.isEmpty && Set(classes).count == classes.count && !classes.contains(""),
                     "segmentation classes must be unique, non-empty names: \(classes)")
        self.classes = classes
        self.exclusive = exclusive
    }
}

extension MaskSource: Codable {
    private enum Keys: String, CodingKey {
        case kind, path, value, bit, width, height, runs, polygons
    }

    /// `{"kind": "empty"}`, `{"kind": "file", "path": …}` (with `"value": v` or `"bit": b` for
    /// label maps), `{"kind": "rle", "width", "height", "runs": [start, length, …]}`,
    /// `{"kind": "polygons", "width", "height", "polygons": [[x0, y0, x1, y1, …], …]}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        switch self {
        case .empty:
            try container.encode("empty", forKey: .kind)
        case .file(let path, let pixels):
            try container.encode("file", forKey: .kind)
            try container.encode(path, forKey: .path)
            switch pixels {
            case .nonZero: break
            case .value(let value): try container.encode(value, forKey: .value)
            case .bit(let bit): try container.encode(bit, forKey: .bit)
            }
        case .runLength(let mask):
            try container.encode("rle", forKey: .kind)
            try container.encode(mask.width, forKey: .width)
            try container.encode(mask.height, forKey: .height)
            try container.encode(mask.runs, forKey: .runs)
        case .polygons(let mask):
            try container.encode("polygons", forKey: .kind)
            try container.encode(mask.width, forKey: .width)
            try container.encode(mask.height, forKey: .height)
            try container.encode(mask.polygons, forKey: .polygons)
        }
    }

    /// Reads the form `encode(to:)` writes; the masks' invariants are checked again.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        let kind = try container.decode(String.self, forKey: .kind)
        func invalid(_ reason: String) -> DecodingError {
            .dataCorruptedError(forKey: .kind, in: container, debugDescription: reason)
        }
        switch kind {
        case "empty":
            self = .empty
        case "file":
            let path = try container.decode(String.self, forKey: .path)
            if let value = try container.decodeIfPresent(Int.self, forKey: .value) {
                self = .file(path: path, pixels: .value(value))
            } else if let bit = try container.decodeIfPresent(Int.self, forKey: .bit) {
                self = .file(path: path, pixels: .bit(bit))
            } else {
                self = .file(path: path, pixels: .nonZero)
            }
        case "rle":
            do {
                self = .runLength(try RunLengthMask(width: try container.decode(Int.self, forKey: .width),
                                                    height: try container.decode(Int.self, forKey: .height),
                                                    runs: try container.decode([Int].self, forKey: .runs)))
            } catch let error as MaskError {
                throw invalid("\(error)")
            }
        case "polygons":
            do {
                self = .polygons(try PolygonMask(width: try container.decode(Int.self, forKey: .width),
                                                 height: try container.decode(Int.self, forKey: .height),
                                                 polygons: try container.decode([[Double]].self, forKey: .polygons)))
            } catch let error as MaskError {
                throw invalid("\(error)")
            }
        default:
            throw invalid("unknown mask kind \"\(kind)\" (empty, file, rle or polygons)")
        }
    }
}
