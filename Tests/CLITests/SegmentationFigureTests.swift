import Foundation
import Testing
import TestSupport

/// `xrbench run` of a segmentation spec, then `xrbench tables`: the example figure (the paper's
/// Figure 3 layout) comes from the cache, and the report page shows it.
@Suite struct SegmentationFigureTests {
    @Test func tablesDrawTheExamplePanelsOfASegmentationRun() throws {
        let folder = try makeTemporaryDirectory()
        try """
            experiment: seg-cli
            backbones:
              tiny: {kind: vit-tiny-random, seed: 0, resolution: 56}
            datasets:
              phantom: {kind: phantom, count: 24, seed: 3, size: 48, masks: true}
            tasks:
              - name: organs
                kind: segmentation
                classes: [lungs, heart]
                mask_size: 16
                iterations: 20
                validation_interval: 10
                examples: 2
                bootstrap: {replicates: 20, seed: 0}
                matrix: {backbone: [tiny], dataset: [phantom]}
            """.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", "spec.yaml"], in: folder)
        #expect(run.status == 0, "\(run.errorOutput)")

        let tables = try CLI.run(["tables"], in: folder)
        #expect(tables.status == 0, "\(tables.errorOutput)")
        let svg = try String(contentsOf: folder.appendingPathComponent("results/figures/seg-cli-organs-examples.svg"), encoding: .utf8)
        #expect(svg.components(separatedBy: "href=\"data:image/png;base64,").count - 1 == 2)
        #expect(svg.contains(">ground truth<") && svg.contains(">prediction<"))
        #expect(svg.contains("tiny, linear s=0"))
        let index = try String(contentsOf: folder.appendingPathComponent("results/index.html"), encoding: .utf8)
        #expect(index.contains("figures/seg-cli-organs-examples.svg"))
        #expect(index.contains("lungs red, heart green"))

        // Without the cache the figure is skipped with a note, not an error.
        try FileManager.default.removeItem(at: folder.appendingPathComponent(".xrbench"))
        let again = try CLI.run(["tables"], in: folder)
        #expect(again.status == 0, "\(again.errorOutput)")
        #expect(again.errorOutput.contains("no example panels for tiny linear"))
    }
}
