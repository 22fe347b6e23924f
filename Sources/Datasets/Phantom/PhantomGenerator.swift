import Dispatch
import Foundation
import Imaging
import Synchronization

/// Generates the phantom radiograph dataset: `count` PNG images under `directory/images/`,
/// the label file `directory/manifest.csv` and the settings in `directory/phantom.json`; with
/// `masks`, also a label map per image under `directory/masks/` (see `phantomMaskClasses`).
///
/// The images are drawn procedurally (see `docs/PHANTOM.md`): six anatomies (chest, knee,
/// hand, pelvis, foot, lumbar spine) in frontal and lateral views, built from projected
/// ellipsoids and hollow bones with cortical rims, then exposed, given quantum noise, windowed
/// and quantised to 8 or 16 bits. Labels per image (the columns of `manifest.csv`):
/// - `anatomy`: chest, knee, hand, pelvis, foot, spine;
/// - `view`: frontal or lateral;
/// - `rotation`: 0, 90, 180 or 270, the clockwise quarter turns applied last;
/// - `mirrored`: 1 when flipped left-right (before the rotation);
/// - `marker`: 1 when a lead marker glyph is drawn in a corner; `marker_letter` L, R or none;
/// - chest only (blank otherwise): `nodule` (1–3 round blobs in the lungs), `effusion`
///   (basal fluid with a lateral meniscus, one or both sides), `cardiomegaly` (heart about
///   1.4 times wider);
/// - attributes `sex`, `age` (bone density falls with age; women have breast shadows), and
///   `bit_depth`. Patients have 1–3 studies of one anatomy each, with one or two views.
///
/// The subgroup effect: nodules in female patients are fainter and smaller (contrast times
/// `1 - 0.6 s`, size times `1 - 0.3 s`, `s = options.subgroupEffect`, default 0.6), so a
/// nodule classifier should score lower on women — the kind of gap the fairness analysis is
/// meant to find.
///
/// The output is bit-exact for a given `count`, `seed` and `options` in any thread schedule:
/// every random choice comes from a SplitMix64 stream of the seed. Labels are the same on every
/// platform; pixels use the C math library, so another libm may move a rare pixel by one step.
///
/// - Parameters:
///   - directory: where to write; created if missing. Existing files of the same names are replaced.
///   - count: number of images, at least 1.
///   - seed: the random seed.
///   - options: generator settings.
///   - masks: also write each image's label map, `masks/<id>.png` (8-bit grey, bit `k` set where
///     class `phantomMaskClasses[k]` is: lungs, heart, bones, ribs, clavicles, marker, nodules),
///     and a `mask` column in `manifest.csv`. The images are the same either way.
/// - Returns: the manifest of the written dataset, as `loadPhantomManifest(root:)` reads it
///   (with segmentation classes when `masks`).
/// - Throws: `DatasetError.invalidOption` for bad settings, `.writeFailed` naming the file
///   that could not be written.
/// - Complexity: O(count × imageSize²); images are drawn on all processor cores.
@discardableResult
public func generatePhantomDataset(at directory: URL, count: Int, seed: UInt64,
                                   options: PhantomOptions = PhantomOptions(), masks: Bool = false) throws(DatasetError) -> Manifest {
    guard count >= 1 else {
        throw .invalidOption(name: "count", value: String(count), reason: "generate at least one image")
    }
    try options.validate()
    for folder in ["images"] + (masks ? [phantomMaskFolder] : []) {
        let url = directory.appendingPathComponent(folder, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: url.path, reason: error.localizedDescription)
        }
    }
    let plans = planPhantomDataset(count: count, seed: seed, options: options)
    let failures = FirstFailure()
    let size = options.imageSize
    DispatchQueue.concurrentPerform(iterations: plans.count) { index in
        guard !failures.hasFailed else { return }
        let plan = plans[index]
        let url = directory.appendingPathComponent(plan.imagePath)
        let maskURL = directory.appendingPathComponent(plan.maskPath)
        do {
            if masks {
                let drawn = renderPhantomWithMasks(plan, size: size)
                try drawn.image.writePNG(to: url)
                do {
                    try drawn.labelMap.writePNG(to: maskURL)
                } catch {
                    failures.record(index: index, .writeFailed(path: maskURL.path, reason: "\(error)"))
                }
            } else {
                try renderPhantom(plan, size: size).writePNG(to: url)
            }
        } catch {
            failures.record(index: index, .writeFailed(path: url.path, reason: "\(error)"))
        }
    }
    if let failure = failures.first { throw failure }
    try writeFile(phantomManifestCSV(plans, masks: masks), to: directory.appendingPathComponent(phantomManifestFileName))
    try writeFile(phantomSettingsJSON(count: count, seed: seed, options: options, masks: masks),
                  to: directory.appendingPathComponent("phantom.json"))
    return try loadPhantomManifest(root: directory)
}

/// The label file the generator writes and the `phantom` adapter reads.
public let phantomManifestFileName = "manifest.csv"

/// Writes bytes atomically (temporary file, then rename).
func writeFile(_ text: String, to url: URL) throws(DatasetError) {
    do {
        try Data(text.utf8).write(to: url, options: .atomic)
    } catch {
        throw .writeFailed(path: url.path, reason: error.localizedDescription)
    }
}

/// The provenance record: generator version, count, seed and every option, as sorted-key JSON.
private func phantomSettingsJSON(count: Int, seed: UInt64, options: PhantomOptions, masks: Bool) throws(DatasetError) -> String {
    struct Settings: Encodable {
        let generator = "xrbench-phantom"
        let version = phantomGeneratorVersion
        let count: Int
        let seed: UInt64
        let options: PhantomOptions
        /// Present (true) only when label maps were written, so image-only datasets keep their bytes.
        let masks: Bool?
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    do {
        return String(decoding: try encoder.encode(Settings(count: count, seed: seed, options: options, masks: masks ? true : nil)),
                      as: UTF8.self) + "\n"
    } catch {
        throw .writeFailed(path: "phantom.json", reason: "\(error)")
    }
}

/// Bumped whenever a change to the drawing or planning changes the output for a seed (the
/// images and labels; adding label maps, which are written only on request, did not). Version 2:
/// nodules in half the chest studies, larger and brighter. The manifest stage's code version
/// (`ManifestRunner`) must move with it, or cached phantoms of the old version are reused.
public let phantomGeneratorVersion = 2

/// Collects the lowest-index failure of a parallel loop, so the reported error is the same
/// whatever the thread schedule.
private final class FirstFailure: Sendable {
    private let failure = Mutex<(index: Int, error: DatasetError)?>(nil)

    var hasFailed: Bool { failure.withLock { $0 != nil } }
    var first: DatasetError? { failure.withLock { $0?.error } }

    func record(index: Int, _ error: DatasetError) {
        failure.withLock { failure in
            if failure == nil || index < failure!.index { failure = (index, error) }
        }
    }
}
