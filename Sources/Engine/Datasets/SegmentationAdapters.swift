import Datasets
import Foundation
import Pipeline

/// `siim-acr`: SIIM-ACR Pneumothorax Segmentation's run-length file (`train-rle.csv`): one
/// sample per image with the binary label and the mask of class `Pneumothorax`.
public struct SIIMAdapter: DatasetAdapter {
    public var name: String { "siim-acr" }
    public var summary: String { "SIIM-ACR pneumothorax segmentation (train-rle.csv): run-length masks of 1024x1024, label Pneumothorax" }
    public var options: [SchemaField] {
        [
            SchemaField("rle_csv", .path(.file), required: true),
            SchemaField("root", .path(.dataRoot), required: true),
            SchemaField("test_rle_csv", .path(.file)),
            SchemaField("image_extension", .string()),
            SchemaField("check_images", .boolean),
        ]
    }

    /// Creates the adapter.
    public init() {}

    /// Each run-length file must have the columns `ImageId` and `EncodedPixels` (read now).
    public func check(_ options: [String: ParameterValue]) -> [SpecProblem] {
        ["rle_csv", "test_rle_csv"].flatMap { key -> [SpecProblem] in
            guard let path = options[key]?.stringValue else { return [] }
            do {
                let header = try CSVAdapter.header(of: URL(fileURLWithPath: path), encoding: .utf8).map { $0.trimmingCharacters(in: .whitespaces) }
                return ["ImageId", "EncodedPixels"].filter { !header.contains($0) }.map {
                    SpecProblem(at: key, "\(path) has no column \"\($0)\" (it has \(header.joined(separator: ", "))); name SIIM-ACR's train-rle.csv, whose columns are ImageId and EncodedPixels")
                }
            } catch {
                return [SpecProblem(at: key, "\(error)")]
            }
        }
    }

    public func fields(_ options: [String: ParameterValue]) throws(SpecProblem) -> DatasetFields? {
        DatasetFields(labels: [SIIMOptions.className], attributes: [], masks: [SIIMOptions.className])
    }

    public func manifest(_ options: ComponentOptions, context: DatasetContext) throws -> Manifest {
        let settings = SIIMOptions(rleFile: try options.requiredPath("rle_csv").path, testRLEFile: try options.string("test_rle_csv"),
                                   imageExtension: try options.string("image_extension") ?? "png",
                                   checkImages: try options.bool("check_images") ?? false)
        return try loadSIIMManifest(root: try options.requiredPath("root"), options: settings)
    }
}

/// `jsrt`: the JSRT radiographs with SCR's masks of the lungs, heart and clavicles, one mask
/// per structure (docs/DATASETS.md has the folder layout).
public struct JSRTAdapter: DatasetAdapter {
    public var name: String { "jsrt" }
    public var summary: String { "JSRT with SCR masks (PNG): right/left lung, heart, right/left clavicle, one mask per structure" }
    public var options: [SchemaField] {
        [
            SchemaField("root", .path(.dataRoot), required: true),
            SchemaField("images", .string()),
            SchemaField("masks", .string()),
            SchemaField("structures", .list(.string(choices: JSRTStructure.allCases.map(\.rawValue)), minimumCount: 1)),
        ]
    }

    /// Creates the adapter.
    public init() {}

    /// The folders must be there, with a mask of every structure for every image (listed now;
    /// no image is read).
    public func check(_ options: [String: ParameterValue]) -> [SpecProblem] {
        guard let root = options["root"]?.stringValue else { return [] }
        let settings = Self.settings(options)
        do {
            _ = try loadJSRTManifest(root: URL(fileURLWithPath: root), options: settings)
            return []
        } catch {
            let rootURL = URL(fileURLWithPath: root)
            let key: String? = switch error {
            case .fileNotFound(let path, _) where path == rootURL.appendingPathComponent(settings.imagesFolder).path: "images"
            case .fileNotFound(let path, _) where path == rootURL.appendingPathComponent(settings.masksFolder).path: "masks"
            case .fileNotFound: "structures"
            case .invalidOption: "structures"
            default: nil
            }
            return [SpecProblem(at: key, "\(error)")]
        }
    }

    public func fields(_ options: [String: ParameterValue]) throws(SpecProblem) -> DatasetFields? {
        DatasetFields(labels: ["nodule"], attributes: ["fold"], masks: Self.settings(options).structures.map(\.rawValue))
    }

    static func settings(_ options: [String: ParameterValue]) -> JSRTOptions {
        let structures = options["structures"]?.listValue?.compactMap { $0.stringValue.flatMap(JSRTStructure.init(rawValue:)) }
        return JSRTOptions(imagesFolder: options["images"]?.stringValue ?? "images", masksFolder: options["masks"]?.stringValue ?? "masks",
                           structures: structures ?? JSRTStructure.allCases)
    }

    public func manifest(_ options: ComponentOptions, context: DatasetContext) throws -> Manifest {
        for key in ["images", "masks"] { _ = try options.string(key) }
        if let structures = try options.strings("structures"), let bad = structures.first(where: { JSRTStructure(rawValue: $0) == nil }) {
            throw options.bad("structures", .string(bad), "expected one of \(JSRTStructure.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return try loadJSRTManifest(root: try options.requiredPath("root"), options: Self.settings(options.values))
    }
}

/// `vindr-ribcxr`: VinDr-RibCXR's rib outlines (JSON), filled: 20 rib classes or their union.
public struct VinDrRibCXRAdapter: DatasetAdapter {
    public var name: String { "vindr-ribcxr" }
    public var summary: String { "VinDr-RibCXR rib segmentation (JSON outlines): 20 ribs (instance) or their union (semantic)" }
    public var options: [SchemaField] {
        [
            SchemaField("root", .path(.dataRoot), required: true),
            SchemaField("train_json", .path(.file), required: true),
            SchemaField("val_json", .path(.file)),
            SchemaField("val_split", .string(choices: [OfficialSplit.test.rawValue, OfficialSplit.validation.rawValue])),
            SchemaField("ribs", .string(choices: ["instance", "semantic"])),
        ]
    }

    /// Creates the adapter.
    public init() {}

    /// The JSON files must have VinDr-RibCXR's structure (read now; no image is read).
    public func check(_ options: [String: ParameterValue]) -> [SpecProblem] {
        ["train_json", "val_json"].compactMap { key in
            guard let path = options[key]?.stringValue else { return nil }
            do {
                _ = try checkVinDrRibJSON(at: URL(fileURLWithPath: path))
                return nil
            } catch {
                return SpecProblem(at: key, "\(error)")
            }
        }
    }

    public func fields(_ options: [String: ParameterValue]) throws(SpecProblem) -> DatasetFields? {
        DatasetFields(labels: [], attributes: [], masks: Self.settings(options, train: "").classes)
    }

    static func settings(_ options: [String: ParameterValue], train: String) -> VinDrRibOptions {
        VinDrRibOptions(trainJSON: train, validationJSON: options["val_json"]?.stringValue,
                        validationSplit: options["val_split"]?.stringValue == OfficialSplit.validation.rawValue ? .validation : .test,
                        semantic: options["ribs"]?.stringValue == "semantic")
    }

    public func manifest(_ options: ComponentOptions, context: DatasetContext) throws -> Manifest {
        for key in ["val_json", "val_split", "ribs"] { _ = try options.string(key) }
        return try loadVinDrRibCXRManifest(root: try options.requiredPath("root"),
                                           options: Self.settings(options.values, train: try options.requiredPath("train_json").path))
    }
}
