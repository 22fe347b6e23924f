import Foundation

/// The anatomical structures the SCR database (Segmentation in Chest Radiographs) outlines on
/// the JSRT images, each a separate mask: the classes of the `jsrt` adapter.
public enum JSRTStructure: String, Sendable, Hashable, Codable, CaseIterable {
    case rightLung = "right_lung"
    case leftLung = "left_lung"
    case heart
    case rightClavicle = "right_clavicle"
    case leftClavicle = "left_clavicle"

    /// The folder-name spelling SCR uses (`right lung`), compared after `folderKey`.
    var folderKey: String { Self.folderKey(rawValue) }

    /// A folder name lower-cased without spaces, underscores and hyphens: `Right Lung`,
    /// `right_lung` and `right-lung` are all `rightlung`.
    static func folderKey(_ name: String) -> String {
        String(name.lowercased().filter { $0 != " " && $0 != "_" && $0 != "-" })
    }
}

/// How to read JSRT images with SCR's masks (the `jsrt` adapter; docs/DATASETS.md).
///
/// The layout, PNG throughout (JSRT ships raw `.IMG` files and SCR GIF masks; convert both):
///
///     root/images/JPCLN001.png            the 247 radiographs (PNG or JPEG)
///     root/masks/right lung/JPCLN001.png  one folder per structure, one PNG per image
///     root/masks/left lung/…   heart/…   right clavicle/…   left clavicle/…
///
/// Structure folders may be spelt with spaces, underscores or hyphens in any case and may
/// sit up to three levels below the masks folder, so SCR's own `fold1/masks/heart/` and
/// `fold2/masks/heart/` layout works with `masks` pointing at their parent. A mask is found by
/// the image's file name with the extension `.png`; any non-zero pixel is the structure.
public struct JSRTOptions: Sendable, Hashable, Codable {
    /// The image folder, relative to the root (or absolute).
    public var imagesFolder: String
    /// The folder holding the structure folders, relative to the root (or absolute).
    public var masksFolder: String
    /// The structures to read, in class order.
    public var structures: [JSRTStructure]

    /// Creates options; by default all five structures.
    public init(imagesFolder: String = "images", masksFolder: String = "masks", structures: [JSRTStructure] = JSRTStructure.allCases) {
        self.imagesFolder = imagesFolder
        self.masksFolder = masksFolder
        self.structures = structures
    }
}

/// Reads JSRT with SCR's masks into a manifest (see `JSRTOptions`).
///
/// One sample per image (id: the file name without extension, its own patient and study), the
/// binary label `nodule` from JSRT's names (`JPCLN…` 154 images with a lung nodule, `JPCNN…` 93
/// without; missing for other names), the attribute `fold` (`fold1`, `fold2`) when SCR's fold
/// folders hold the masks, and one mask per structure. Classes may overlap (clavicles lie over
/// the lungs).
///
/// - Throws: `DatasetError`: `.fileNotFound` for a missing images or masks folder or
///   structure folder, `.invalidMasks` listing the images without a mask of some structure,
///   `.unreadable` for GIF masks (SCR's format: convert them), a mask found twice, `.empty`
///   without images.
public func loadJSRTManifest(root: URL, options: JSRTOptions) throws(DatasetError) -> Manifest {
    let layout = try JSRTLayout(root: root, options: options)
    var samples: [Sample] = []
    var incomplete: [String] = []
    for (stem, imagePath) in layout.images.sorted(by: { $0.key < $1.key }) {
        var masks: [String: MaskSource] = [:]
        var fold: String?
        for structure in options.structures {
            guard let mask = layout.masks[structure]?[stem] else {
                incomplete.append("\(stem) (\(structure.rawValue))")
                continue
            }
            masks[structure.rawValue] = .file(path: mask, pixels: .nonZero)
            fold = fold ?? mask.split(separator: "/").first { $0.count > 4 && $0.lowercased().hasPrefix("fold") && $0.dropFirst(4).allSatisfy(\.isNumber) }
                .map { String($0).lowercased() }
        }
        let nodule: LabelValue = stem.hasPrefix("JPCLN") ? .positive : stem.hasPrefix("JPCNN") ? .negative : .missing
        samples.append(Sample(id: stem, patientID: stem, studyID: stem, imagePath: imagePath, labels: ["nodule": nodule],
                              attributes: fold.map { ["fold": $0] } ?? [:], masks: masks))
    }
    guard incomplete.isEmpty else {
        throw .invalidMasks(file: layout.masksFolder.path, sampleID: String(incomplete[0].prefix { $0 != " " }),
                            reason: "\(incomplete.count) masks are missing: " + incomplete.prefix(20).joined(separator: ", ")
                                + (incomplete.count > 20 ? ", …" : "") + "; each image needs `<image name>.png` in every structure folder")
    }
    guard !samples.isEmpty else {
        throw .empty(file: layout.imagesFolder.path, reason: "no PNG or JPEG image in the images folder")
    }
    return try Manifest(dataset: "jsrt", root: root, schema: LabelSchema([.binary("nodule")]), samples: samples,
                        segmentation: SegmentationSchema(classes: options.structures.map(\.rawValue), exclusive: false),
                        source: layout.masksFolder.path)
}

/// The files of a JSRT/SCR folder: images by name and each structure's masks by image name.
struct JSRTLayout {
    let imagesFolder: URL
    let masksFolder: URL
    /// Image file name without extension → path relative to the root.
    let images: [String: String]
    /// Structure → image name → mask path relative to the root.
    let masks: [JSRTStructure: [String: String]]

    /// How deep below the masks folder structure folders are looked for (`fold1/masks/heart`).
    static let maximumDepth = 3

    /// Lists the folders (without decoding anything).
    /// - Throws: `DatasetError` as `loadJSRTManifest` for missing folders, GIF masks and masks found twice.
    init(root: URL, options: JSRTOptions) throws(DatasetError) {
        guard !options.structures.isEmpty, Set(options.structures).count == options.structures.count else {
            throw .invalidOption(name: "structures", value: options.structures.map(\.rawValue).joined(separator: ", "),
                                 reason: "name at least one structure, each once")
        }
        let fileManager = FileManager.default
        imagesFolder = resolve(options.imagesFolder, against: root)
        masksFolder = resolve(options.masksFolder, against: root)
        func isFolder(_ url: URL) -> Bool {
            var isDirectory: ObjCBool = false
            return fileManager.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        guard isFolder(imagesFolder) else {
            throw .fileNotFound(path: imagesFolder.path, hint: "Put the JSRT radiographs (converted to PNG) there, or name their folder in the `images` option.")
        }
        guard isFolder(masksFolder) else {
            throw .fileNotFound(path: masksFolder.path, hint: "Put SCR's structure folders (right lung, left lung, heart, right clavicle, left clavicle) there, or name their parent in the `masks` option.")
        }
        let rootPath = root.standardizedFileURL.path
        func relative(_ url: URL) -> String {
            let path = url.standardizedFileURL.path
            return path.hasPrefix(rootPath + "/") ? String(path.dropFirst(rootPath.count + 1)) : path
        }
        var images: [String: String] = [:]
        for entry in ((try? fileManager.contentsOfDirectory(atPath: imagesFolder.path)) ?? []).sorted() where !entry.hasPrefix(".") {
            let url = imagesFolder.appendingPathComponent(entry)
            guard ["png", "jpg", "jpeg"].contains(url.pathExtension.lowercased()) else { continue }
            images[url.deletingPathExtension().lastPathComponent] = relative(url)
        }
        self.images = images
        // Structure folders anywhere up to `maximumDepth` below the masks folder.
        let wanted = Dictionary(uniqueKeysWithValues: options.structures.map { ($0.folderKey, $0) })
        var folders: [JSRTStructure: [URL]] = [:]
        var level = [masksFolder]
        for _ in 0..<Self.maximumDepth {
            var next: [URL] = []
            for folder in level {
                for entry in ((try? fileManager.contentsOfDirectory(atPath: folder.path)) ?? []).sorted() where !entry.hasPrefix(".") {
                    let url = folder.appendingPathComponent(entry)
                    guard isFolder(url) else { continue }
                    if let structure = wanted[JSRTStructure.folderKey(entry)] { folders[structure, default: []].append(url) } else { next.append(url) }
                }
            }
            level = next
        }
        var masks: [JSRTStructure: [String: String]] = [:]
        for structure in options.structures {
            guard let found = folders[structure] else {
                throw .fileNotFound(path: masksFolder.appendingPathComponent(structure.rawValue.replacingOccurrences(of: "_", with: " ")).path,
                                    hint: "No folder of the structure \(structure.rawValue) (spelt \"\(structure.rawValue.replacingOccurrences(of: "_", with: " "))\", "
                                        + "\"\(structure.rawValue)\" or with hyphens) up to \(Self.maximumDepth) levels below \(masksFolder.path); "
                                        + "add it, or leave the structure out of the `structures` option.")
            }
            var files: [String: String] = [:]
            for folder in found {
                for entry in ((try? fileManager.contentsOfDirectory(atPath: folder.path)) ?? []).sorted() where !entry.hasPrefix(".") {
                    let url = folder.appendingPathComponent(entry)
                    let stem = url.deletingPathExtension().lastPathComponent
                    switch url.pathExtension.lowercased() {
                    case "png":
                        if let earlier = files[stem] {
                            throw .unreadable(path: url.path, reason: "a second \(structure.rawValue) mask of \(stem) (the first is \(earlier)); keep one")
                        }
                        files[stem] = relative(url)
                    case "gif":
                        throw .unreadable(path: url.path, reason: "SCR's masks come as GIF files, which xrbench does not read; convert them to PNG "
                                          + "(Python: PIL.Image.open(gif).convert(\"L\").save(png)) and keep the folder layout")
                    default:
                        continue
                    }
                }
            }
            masks[structure] = files
        }
        self.masks = masks
    }
}
