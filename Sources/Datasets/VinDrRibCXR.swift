import Foundation
import Imaging

/// How to read VinDr-RibCXR (rib segmentation: 196 training and 49 validation radiographs).
///
/// Each split comes as one JSON file (`Vindr_RibCXR_train_mask.json`, `…_val_mask.json`), a
/// pandas data frame by columns: `img` maps a row number to the image's path, and each rib
/// `R1` … `R10`, `L1` … `L10` maps the row number to the rib's outline, a list of
/// `{"x": …, "y": …}` points in pixels, or `"None"` when the rib is not annotated (then an
/// empty mask). Outlines are filled by `PolygonMask`'s convention (skimage.draw.polygon's).
public struct VinDrRibOptions: Sendable, Hashable, Codable {
    /// The training JSON, relative to the root or absolute.
    public var trainJSON: String
    /// The validation JSON; nil to read the training one only.
    public var validationJSON: String?
    /// The official split the validation images get: `test` (the paper tests on VinDr's
    /// validation set, carving its validation images out of the training set) or `validation`.
    public var validationSplit: OfficialSplit
    /// One class per rib (`R1` … `L10`, the paper's "instance" column) or one class `ribs`, their
    /// union (its "semantic" column).
    public var semantic: Bool

    /// Creates options.
    public init(trainJSON: String, validationJSON: String? = nil, validationSplit: OfficialSplit = .test, semantic: Bool = false) {
        self.trainJSON = trainJSON
        self.validationJSON = validationJSON
        self.validationSplit = validationSplit
        self.semantic = semantic
    }

    /// The ribs, in class order: right 1–10, then left 1–10.
    public static let ribs = (1...10).map { "R\($0)" } + (1...10).map { "L\($0)" }
    /// The one class of the semantic variant.
    public static let semanticClass = "ribs"

    /// The class names these options give.
    public var classes: [String] { semantic ? [Self.semanticClass] : Self.ribs }
}

/// Reads VinDr-RibCXR's JSON files into a manifest (see `VinDrRibOptions`).
///
/// One sample per row (id: the image's file name without extension; its own patient and
/// study), the image found at its path relative to the root, else by name in the root or up to
/// two folders below it. Each image's size is read from its header (polygon masks are drawn on
/// the image's pixel grid), so the images must be there.
///
/// - Throws: `DatasetError`: a missing or unparsable file, `.malformedJSON` naming the key of a
///   value of the wrong shape (a missing `img`, a point without `x`), `.missingImages` listing
///   every image not found, `.unreadable` for an image whose header cannot be read, a
///   duplicate id.
public func loadVinDrRibCXRManifest(root: URL, options: VinDrRibOptions) throws(DatasetError) -> Manifest {
    var files: [(path: String, split: OfficialSplit)] = [(options.trainJSON, .train)]
    if let validation = options.validationJSON { files.append((validation, options.validationSplit)) }
    var rows: [(row: VinDrRibRow, split: OfficialSplit, file: String)] = []
    for (path, split) in files {
        let url = resolve(path, against: root)
        rows += try readVinDrRibJSON(at: url).map { ($0, split, url.path) }
    }
    // Images: where the JSON says, else by name under the root.
    let names = Set(rows.filter { !FileManager.default.fileExists(atPath: resolve($0.row.imagePath, against: root).path) }
        .map { ($0.row.imagePath as NSString).lastPathComponent })
    let found = names.isEmpty ? [:] : NIHImageLocator.locate(names, under: root)
    var missing: [String] = []
    var samples: [Sample] = []
    for (row, split, file) in rows {
        let name = (row.imagePath as NSString).lastPathComponent
        let direct = resolve(row.imagePath, against: root)
        let imagePath: String
        if FileManager.default.fileExists(atPath: direct.path) {
            imagePath = row.imagePath
        } else if let located = found[name] {
            imagePath = located
        } else {
            missing.append(row.imagePath)
            continue
        }
        let size: (width: Int, height: Int)
        do {
            size = try imageDimensions(at: resolve(imagePath, against: root))
        } catch {
            throw .unreadable(path: resolve(imagePath, against: root).path, reason: "the image's size, which its rib outlines are drawn on, cannot be read: \(error)")
        }
        var masks: [String: MaskSource] = [:]
        do {
            if options.semantic {
                let outlines = VinDrRibOptions.ribs.compactMap { row.ribs[$0] ?? nil }
                masks[VinDrRibOptions.semanticClass] = .polygons(try PolygonMask(width: size.width, height: size.height, polygons: outlines))
            } else {
                for rib in VinDrRibOptions.ribs {
                    let outline = row.ribs[rib] ?? nil
                    masks[rib] = try outline.map { .polygons(try PolygonMask(width: size.width, height: size.height, polygons: [$0])) } ?? .empty
                }
            }
        } catch {
            throw .malformedJSON(file: file, key: "row \(row.key)", reason: "\(error)")
        }
        let id = (name as NSString).deletingPathExtension
        samples.append(Sample(id: id, patientID: id, studyID: id, imagePath: imagePath, labels: [:], officialSplit: split, masks: masks))
    }
    guard missing.isEmpty else {
        throw .missingImages(root: root.path, labelFile: options.trainJSON, missing: missing, total: rows.count)
    }
    guard !samples.isEmpty else { throw .empty(file: options.trainJSON, reason: "the JSON has no rows") }
    return try Manifest(dataset: "vindr-ribcxr", root: root, schema: LabelSchema([]), samples: samples,
                        segmentation: SegmentationSchema(classes: options.classes, exclusive: false), source: options.trainJSON)
}

/// One row of a VinDr-RibCXR JSON file.
struct VinDrRibRow {
    /// The row number (the JSON's key).
    let key: String
    /// The image path as written.
    let imagePath: String
    /// Rib → its outline as `x0, y0, x1, y1, …`; nil where the rib is `"None"`.
    let ribs: [String: [Double]?]
}

/// Parses a VinDr-RibCXR JSON file into rows, in row-number order.
/// - Throws: `DatasetError` naming the file and the key of the first value of the wrong shape.
func readVinDrRibJSON(at url: URL) throws(DatasetError) -> [VinDrRibRow] {
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw .fileNotFound(path: url.path, hint: "Name VinDr-RibCXR's Vindr_RibCXR_train_mask.json (or _val_mask.json) in the dataset's options.")
    }
    let object: Any
    do {
        object = try JSONSerialization.jsonObject(with: try Data(contentsOf: url))
    } catch {
        throw .unreadable(path: url.path, reason: "not valid JSON: \(error.localizedDescription)")
    }
    let file = url.path
    guard let columns = object as? [String: Any] else {
        throw .malformedJSON(file: file, key: "", reason: "expected an object of columns (img, R1 … L10)")
    }
    guard let images = columns["img"] as? [String: Any] else {
        throw .malformedJSON(file: file, key: "img", reason: "expected an object mapping row numbers to image paths")
    }
    var ribColumns: [String: [String: Any]] = [:]
    for rib in VinDrRibOptions.ribs {
        guard let column = columns[rib] as? [String: Any] else {
            throw .malformedJSON(file: file, key: rib, reason: "expected an object mapping row numbers to outlines (VinDr-RibCXR annotates R1 … R10 and L1 … L10)")
        }
        ribColumns[rib] = column
    }
    // Row numbers in numeric order ("10" after "9").
    let keys = images.keys.sorted { (Int($0) ?? Int.max, $0) < (Int($1) ?? Int.max, $1) }
    var rows: [VinDrRibRow] = []
    for key in keys {
        guard let path = images[key] as? String, !path.isEmpty else {
            throw .malformedJSON(file: file, key: "img[\"\(key)\"]", reason: "expected an image path")
        }
        var ribs: [String: [Double]?] = [:]
        for rib in VinDrRibOptions.ribs {
            let value = ribColumns[rib]![key]
            if value == nil || value is NSNull || (value as? String) == "None" {
                ribs[rib] = .some(nil)
                continue
            }
            guard let points = value as? [Any] else {
                throw .malformedJSON(file: file, key: "\(rib)[\"\(key)\"]", reason: "expected a list of {\"x\": …, \"y\": …} points or \"None\"")
            }
            var outline: [Double] = []
            outline.reserveCapacity(2 * points.count)
            for (index, point) in points.enumerated() {
                guard let point = point as? [String: Any], let x = (point["x"] as? NSNumber)?.doubleValue,
                      let y = (point["y"] as? NSNumber)?.doubleValue, x.isFinite, y.isFinite else {
                    throw .malformedJSON(file: file, key: "\(rib)[\"\(key)\"][\(index)]", reason: "expected a point {\"x\": number, \"y\": number}")
                }
                outline += [x, y]
            }
            ribs[rib] = .some(outline)
        }
        rows.append(VinDrRibRow(key: key, imagePath: path, ribs: ribs))
    }
    return rows
}

/// Checks that a VinDr-RibCXR JSON file has the structure `loadVinDrRibCXRManifest` reads,
/// without looking at images (for plan-time checks).
/// - Returns: its number of rows.
/// - Throws: `DatasetError` as `loadVinDrRibCXRManifest` for the file's content.
public func checkVinDrRibJSON(at url: URL) throws(DatasetError) -> Int {
    try readVinDrRibJSON(at: url).count
}
