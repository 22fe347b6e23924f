import Foundation

/// One image in a retrieval gallery: a query, or a neighbour with its similarity and relevance.
public struct GalleryItem: Sendable, Hashable {
    /// The sample id (from the dataset manifest).
    public var sampleID: String
    /// Cosine similarity to the query; nil for the query itself.
    public var score: Double?
    /// Whether the neighbour is relevant to the query; nil for the query itself.
    public var relevant: Bool?

    /// Creates an item.
    public init(sampleID: String, score: Double? = nil, relevant: Bool? = nil) {
        self.sampleID = sampleID
        self.score = score
        self.relevant = relevant
    }
}

/// One gallery row: a query and its top-k neighbours, nearest first.
public struct GalleryRow: Sendable, Hashable {
    /// The query.
    public var query: GalleryItem
    /// Its neighbours, nearest first.
    public var neighbours: [GalleryItem]

    /// Creates a row.
    public init(query: GalleryItem, neighbours: [GalleryItem]) {
        self.query = query
        self.neighbours = neighbours
    }
}

/// A retrieval gallery (the paper's Fig. 2): queries down the left, their nearest neighbours to
/// the right, framed green when relevant and red when not, rendered as a standalone SVG with
/// thumbnails embedded as PNG data (a grey tile with the sample id where none is available).
public struct RetrievalGallery: Sendable, Hashable {
    /// The title above the grid.
    public var title: String
    /// The rows.
    public var rows: [GalleryRow]
    /// PNG thumbnails by sample id.
    public var thumbnails: [String: Data]

    /// Creates a gallery.
    public init(title: String, rows: [GalleryRow], thumbnails: [String: Data] = [:]) {
        self.title = title
        self.rows = rows
        self.thumbnails = thumbnails
    }

    /// Every sample id shown (queries and neighbours), in order of appearance, each once.
    public var sampleIDs: [String] {
        var seen = Set<String>()
        var ids: [String] = []
        for row in rows {
            for item in [row.query] + row.neighbours where seen.insert(item.sampleID).inserted {
                ids.append(item.sampleID)
            }
        }
        return ids
    }

    /// The gallery as a self-contained SVG document.
    public func svg() -> String {
        let tile = 96.0, gap = 10.0, captionHeight = 30.0, left = 16.0, firstRow = 44.0, queryGap = 24.0
        let columnCount = rows.map { $0.neighbours.count }.max() ?? 0
        let width = left * 2 + tile + queryGap + Double(columnCount) * (tile + gap)
        let heading = SVGTitle(title, width: width - 2 * left)
        let top = firstRow + heading.extraHeight
        let height = top + Double(rows.count) * (tile + captionHeight + gap) + 24
        var lines = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" "
                + "viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\" font-family=\"Helvetica, Arial, sans-serif\">",
            "  <rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "  " + heading.svg(x: left, y: "24", anchor: nil, attributes: " font-weight=\"bold\"", number: Self.number,
                               escape: HTMLText.escape),
        ]
        for (rowIndex, row) in rows.enumerated() {
            let y = top + Double(rowIndex) * (tile + captionHeight + gap)
            lines += tileLines(row.query, x: left, y: y, size: tile, caption: "query")
            for (index, neighbour) in row.neighbours.enumerated() {
                let x = left + tile + queryGap + Double(index) * (tile + gap)
                let caption = "#\(index + 1)" + (neighbour.score.map { "  " + String(format: "%.3f", $0) } ?? "")
                lines += tileLines(neighbour, x: x, y: y, size: tile, caption: caption)
            }
        }
        let legendY = height - 10
        lines.append("  <text x=\"\(Self.number(left))\" y=\"\(Self.number(legendY))\" font-size=\"11\" fill=\"#444\">"
            + "Frames: green = relevant, red = not relevant; numbers: rank and cosine similarity.</text>")
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    private func tileLines(_ item: GalleryItem, x: Double, y: Double, size: Double, caption: String) -> [String] {
        let (x, y, size) = (Self.number(x), Self.number(y), Self.number(size))
        var lines: [String] = []
        if let png = thumbnails[item.sampleID] {
            lines.append("  <image x=\"\(x)\" y=\"\(y)\" width=\"\(size)\" height=\"\(size)\" "
                + "preserveAspectRatio=\"xMidYMid meet\" href=\"data:image/png;base64,\(png.base64EncodedString())\"/>")
        } else {
            lines.append("  <rect x=\"\(x)\" y=\"\(y)\" width=\"\(size)\" height=\"\(size)\" fill=\"#d0d0d0\"/>")
        }
        let stroke: String
        switch item.relevant {
        case nil: stroke = "#000000"
        case true?: stroke = "#009E73"
        case false?: stroke = "#D55E00"
        }
        lines.append("  <rect x=\"\(x)\" y=\"\(y)\" width=\"\(size)\" height=\"\(size)\" fill=\"none\" "
            + "stroke=\"\(stroke)\" stroke-width=\"3\"><title>\(HTMLText.escape(item.sampleID))</title></rect>")
        let captionY = Self.number(Double(y)! + Double(size)! + 13)
        let idY = Self.number(Double(y)! + Double(size)! + 25)
        lines.append("  <text x=\"\(x)\" y=\"\(captionY)\" font-size=\"11\">\(HTMLText.escape(caption))</text>")
        lines.append("  <text x=\"\(x)\" y=\"\(idY)\" font-size=\"9\" fill=\"#555\">\(HTMLText.escape(Self.shortened(item.sampleID)))</text>")
        return lines
    }

    /// A sample id cut to fit under a tile (the full id is in the tile's tooltip).
    static func shortened(_ id: String) -> String {
        id.count > 18 ? "…" + id.suffix(17) : id
    }

    /// A coordinate with at most two decimals and no trailing zeros.
    static func number(_ value: Double) -> String {
        let text = String(format: "%.2f", value)
        var trimmed = Substring(text)
        while trimmed.hasSuffix("0") { trimmed = trimmed.dropLast() }
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
