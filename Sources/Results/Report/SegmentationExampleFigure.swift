import Foundation
import GRDB

/// A segmentation stage of a task whose example panels may be in the cache.
public struct RecordedSegmentation: Sendable, Hashable {
    /// The `segmentation-metric` stage (its artifact holds `examples.json` and the panels).
    public var stageKey: String
    /// Its backbone, dataset, decoder (the `head` coordinate) and seed.
    public var backbone: String, dataset: String, decoder: String
    public var seed: Int?
}

extension ResultReader {
    /// The segmentation-metric stages of `task` in the current runs, in the order they were recorded.
    public func recordedSegmentations(experiment: String, task: String) throws -> [RecordedSegmentation] {
        try read("listing segmentation stages of \(task)") { db in
            // A database last written before segmentation scores existed has no such table.
            guard try db.tableExists("segmentation_score") else { return [] }
            return try Row.fetchAll(db, sql: """
                SELECT stage_key, backbone, dataset, head, seed FROM latest_result
                WHERE experiment = ? AND task = ? AND metric = 'dice' AND label = ''
                  AND stage_key IN (SELECT stage_key FROM segmentation_score)
                GROUP BY stage_key ORDER BY min(id)
                """, arguments: [experiment, task]).map {
                RecordedSegmentation(stageKey: $0["stage_key"], backbone: $0["backbone"], dataset: $0["dataset"],
                                     decoder: $0["head"], seed: $0["seed"])
            }
        }
    }

    /// Tasks of `experiment` with per-image segmentation scores, in recorded order.
    public func segmentationTasks(experiment: String) throws -> [String] {
        try read("listing segmentation tasks of \(experiment)") { db in
            guard try db.tableExists("segmentation_score") else { return [] }
            return try String.fetchAll(db, sql: """
                SELECT task FROM latest_result WHERE experiment = ? AND stage_key IN (SELECT stage_key FROM segmentation_score)
                GROUP BY task ORDER BY min(id)
                """, arguments: [experiment])
        }
    }
}

/// The paper's Figure 3 as an SVG: rows of example panels (image, ground truth, prediction, each
/// panel a PNG written by the segmentation stage), with a title and column headings.
public struct SegmentationExampleFigure: Sendable {
    /// One example: the sample and its three-panel PNG (width three times its height).
    public struct Example: Sendable {
        public var sampleID: String
        public var png: Data
        public init(sampleID: String, png: Data) {
            self.sampleID = sampleID
            self.png = png
        }
    }

    public var title: String
    public var classes: [String]
    public var examples: [Example]
    /// Height of each drawn row in pixels.
    public var rowHeight = 160

    /// Creates a figure.
    public init(title: String, classes: [String], examples: [Example]) {
        self.title = title
        self.classes = classes
        self.examples = examples
    }

    /// The SVG text.
    public func svg() -> String {
        let margin = 10, header = 44, label = 14
        let width = 3 * rowHeight + 2 * margin
        let height = header + examples.count * (rowHeight + label + 6) + margin
        var lines = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"12\">",
                     "  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
                     "  <text x=\"\(margin)\" y=\"16\" font-weight=\"bold\">\(HTMLText.escape(title))</text>"]
        for (column, heading) in ["image", "ground truth", "prediction"].enumerated() {
            lines.append("  <text x=\"\(margin + column * rowHeight + rowHeight / 2)\" y=\"36\" text-anchor=\"middle\">\(heading)</text>")
        }
        for (row, example) in examples.enumerated() {
            let y = header + row * (rowHeight + label + 6)
            lines.append("  <text x=\"\(margin)\" y=\"\(y + 11)\" fill=\"#555\">\(HTMLText.escape(example.sampleID))</text>")
            lines.append("  <image x=\"\(margin)\" y=\"\(y + label)\" width=\"\(3 * rowHeight)\" height=\"\(rowHeight)\" "
                + "preserveAspectRatio=\"none\" href=\"data:image/png;base64,\(example.png.base64EncodedString())\"/>")
        }
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }
}
