import ArgumentParser
import Datasets
import Foundation

extension XRBench {
    /// `xrbench phantom`: writes the procedural phantom radiograph dataset.
    struct Phantom: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write phantom radiographs (PNG files) and their manifest.csv.",
            discussion: """
            Draws radiograph-like images procedurally: six anatomies in frontal and lateral views, \
            rotations, mirroring, lead markers, chest findings (nodule, effusion, cardiomegaly), \
            patients with sex and age, and a tunable subgroup effect (nodules are fainter in \
            female patients). Writes DIR/images/*.png (8- and 16-bit grey), DIR/manifest.csv and \
            DIR/phantom.json; with --masks also DIR/masks/*.png, a label map per image (one bit per \
            class: lungs, heart, bones, ribs, clavicles, marker, nodules), the images unchanged. \
            The same count, seed and options give byte-identical files. docs/PHANTOM.md describes \
            the drawing, the labels and the masks.

            Examples:
              xrbench phantom --out data/phantom --count 600 --seed 7
              xrbench phantom --out /tmp/small --count 20 --seed 1 --size 128 --subgroup-effect 0
              xrbench phantom --out data/phantom-seg --count 200 --seed 7 --masks
            """)

        @Option(name: .long, help: ArgumentHelp("The folder to write into (created when missing).", valueName: "DIR"))
        var out: String

        @Option(name: .long, help: "How many images to draw.")
        var count: Int

        @Option(name: .long, help: "The random seed.")
        var seed: UInt64

        @Option(name: .long, help: ArgumentHelp("Image width and height in pixels (32 to 4096).", valueName: "PX"))
        var size: Int = PhantomOptions().imageSize

        @Option(name: .long, help: ArgumentHelp("Strength of the subgroup effect, 0 (off) to 1.", valueName: "S"))
        var subgroupEffect: Double = PhantomOptions().subgroupEffect

        @Flag(name: .long, help: "Also write a segmentation label map per image into DIR/masks/.")
        var masks = false

        func validate() throws {
            guard count >= 1 else { throw ValidationError("--count must be at least 1, not \(count).") }
            guard (32...4096).contains(size) else { throw ValidationError("--size must be from 32 to 4096 pixels, not \(size).") }
            guard (0...1).contains(subgroupEffect) else {
                throw ValidationError("--subgroup-effect must be between 0 and 1, not \(subgroupEffect).")
            }
        }

        func run() throws {
            var options = PhantomOptions()
            options.imageSize = size
            options.subgroupEffect = subgroupEffect
            let directory = URL(fileURLWithPath: out)
            let started = Date()
            let manifest = try generatePhantomDataset(at: directory, count: count, seed: seed, options: options, masks: masks)
            let seconds = Date().timeIntervalSince(started)
            print("wrote \(manifest.samples.count) images of \(manifest.patientIDs.count) patients to "
                + "\(directory.appendingPathComponent("images").path)"
                + (masks ? ", their label maps to \(directory.appendingPathComponent("masks").path)" : "")
                + " and \(directory.appendingPathComponent(phantomManifestFileName).path) "
                + "in \(String(format: "%.1f", seconds)) s")
        }
    }
}
