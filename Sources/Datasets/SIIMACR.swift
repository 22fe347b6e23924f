import Foundation

/// How to read SIIM-ACR Pneumothorax Segmentation's run-length label file (`train-rle.csv`).
///
/// The file has the columns `ImageId` and `EncodedPixels` (the original header writes
/// `" EncodedPixels"` with a leading space; names are matched with surrounding spaces
/// ignored). Each row is one pneumothorax annotation of one image in SIIM's relative
/// run-length encoding of a `maskSize`×`maskSize` mask in column-major order, or `-1` for an
/// image without pneumothorax; an image with several rows has the union of their masks.
public struct SIIMOptions: Sendable, Hashable, Codable {
    /// The run-length file, relative to the root or absolute.
    public var rleFile: String
    /// A second run-length file whose images form the official test split (the others then
    /// form the training split); nil for no official split.
    public var testRLEFile: String?
    /// The extension of the image files (`png`: the DICOMs converted), found by
    /// `<ImageId>.<extension>` in the root or up to two folders below it.
    public var imageExtension: String
    /// The masks' width and height: 1024, the size of SIIM's DICOMs.
    public var maskSize: Int
    /// Report every image that is not under the root (`DatasetError.missingImages`).
    public var checkImages: Bool

    /// Creates options.
    public init(rleFile: String, testRLEFile: String? = nil, imageExtension: String = "png", maskSize: Int = 1024, checkImages: Bool = false) {
        self.rleFile = rleFile
        self.testRLEFile = testRLEFile
        self.imageExtension = imageExtension
        self.maskSize = maskSize
        self.checkImages = checkImages
    }

    /// The segmentation class and the binary label: `Pneumothorax` (torchxrayvision's name).
    public static let className = "Pneumothorax"
}

/// Reads SIIM-ACR's run-length file(s) into a manifest (see `SIIMOptions`).
///
/// Samples: one per `ImageId` (its id, patient and study: SIIM's CSV names no patient, so
/// every image is its own patient), the image `<ImageId>.<extension>` found under the root
/// (its bare name when absent), the binary label `Pneumothorax` (1 when the united mask is
/// non-empty) and the mask of class `Pneumothorax` as a run-length mask.
///
/// - Throws: `DatasetError` naming the file, line and column: a missing file or column, a
///   blank `ImageId`, a cell that is not SIIM's run-length encoding or runs past the mask, an
///   image in both files, missing images when checked; `.empty` for a file without rows.
public func loadSIIMManifest(root: URL, options: SIIMOptions) throws(DatasetError) -> Manifest {
    guard options.maskSize >= 1 else {
        throw .invalidOption(name: "mask_size", value: String(options.maskSize), reason: "must be at least 1 pixel")
    }
    var runsOfImage: [String: [Int]] = [:]
    var splitOfImage: [String: OfficialSplit] = [:]
    var order: [String] = []
    var sources: [(file: String, split: OfficialSplit?)] = [(options.rleFile, options.testRLEFile == nil ? nil : .train)]
    if let test = options.testRLEFile { sources.append((test, .test)) }
    let pixelCount = options.maskSize * options.maskSize
    var lastFile = ""
    for (file, split) in sources {
        let table = try CSVTable.read(contentsOf: resolve(file, against: root),
                                      hint: "Name SIIM-ACR's train-rle.csv (or stage 2's train.csv) in the dataset's rle_csv option.")
        lastFile = table.file
        let idColumn = try siimColumn("ImageId", in: table)
        let rleColumn = try siimColumn("EncodedPixels", in: table)
        var firstFileOfImage: [String: String] = [:]
        for row in 0..<table.rowCount {
            let id = table.string(row: row, column: idColumn).trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty else {
                throw .badValue(file: table.file, line: table.line(ofRow: row), column: table.header[idColumn], value: "", expected: "an image id")
            }
            let cell = table.string(row: row, column: rleColumn)
            let runs: [Int]
            do {
                runs = try RunLengthMask.absoluteRuns(fromSIIM: Substring(cell), pixelCount: pixelCount)
            } catch {
                throw .badValue(file: table.file, line: table.line(ofRow: row), column: table.header[rleColumn],
                                value: cell.count > 60 ? String(cell.prefix(60)) + "…" : cell,
                                expected: "-1 or SIIM's run-length pairs of a \(options.maskSize) x \(options.maskSize) mask (\(reason(error)))")
            }
            if runsOfImage[id] != nil, splitOfImage[id] != split, firstFileOfImage[id] == nil {
                throw .badValue(file: table.file, line: table.line(ofRow: row), column: table.header[idColumn], value: id,
                                expected: "an image in only one of rle_csv and test_rle_csv")
            }
            firstFileOfImage[id] = table.file
            if runsOfImage[id] == nil {
                order.append(id)
                runsOfImage[id] = runs
                splitOfImage[id] = split
            } else {
                runsOfImage[id]! += runs
            }
        }
    }
    guard !order.isEmpty else { throw .empty(file: lastFile, reason: "the run-length file has a header but no rows") }
    let fileNames = Set(order.map { "\($0).\(options.imageExtension)" })
    let found = NIHImageLocator.locate(fileNames, under: root)
    if options.checkImages {
        let missing = order.map { "\($0).\(options.imageExtension)" }.filter { found[$0] == nil }
        if !missing.isEmpty { throw .missingImages(root: root.path, labelFile: options.rleFile, missing: missing, total: order.count) }
    }
    var samples: [Sample] = []
    samples.reserveCapacity(order.count)
    for id in order {
        let runs = runsOfImage[id]!
        let mask: RunLengthMask
        do {
            mask = try RunLengthMask(width: options.maskSize, height: options.maskSize, runs: runs)
        } catch {
            preconditionFailure("runs were checked while parsing: \(error)")
        }
        let name = "\(id).\(options.imageExtension)"
        samples.append(Sample(id: id, patientID: id, studyID: id, imagePath: found[name] ?? name,
                              labels: [SIIMOptions.className: runs.isEmpty ? .negative : .positive],
                              officialSplit: splitOfImage[id], masks: [SIIMOptions.className: .runLength(mask)]))
    }
    return try Manifest(dataset: "siim-acr", root: root, schema: LabelSchema([.binary(SIIMOptions.className)]), samples: samples,
                        segmentation: SegmentationSchema(classes: [SIIMOptions.className], exclusive: false), source: lastFile)
}

/// The column whose name, spaces around it ignored, is `name`.
func siimColumn(_ name: String, in table: CSVTable) throws(DatasetError) -> Int {
    guard let index = table.header.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == name }) else {
        throw .missingColumn(file: table.file, column: name, available: table.header)
    }
    return index
}

/// The reason of a run-length error, without the general advice around it.
private func reason(_ error: MaskError) -> String {
    if case .invalidRunLength(let reason) = error { return reason }
    return error.description
}
