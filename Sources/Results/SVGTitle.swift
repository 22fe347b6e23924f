/// A figure title broken into lines that fit the figure's width.
///
/// SVG text does not wrap, and long titles (a caption plus the backbone, dataset and label)
/// ran off the figure; this wraps at spaces, estimating a character's width from the font size
/// (0.55 em, a little wider than Helvetica's average, so the estimate errs on the short side).
struct SVGTitle {
    /// The lines, first to last.
    let lines: [String]
    /// The font size.
    let fontSize: Double

    /// Vertical distance between lines.
    var lineHeight: Double { fontSize * 1.25 }
    /// The height added to a figure laid out for one title line.
    var extraHeight: Double { Double(max(lines.count - 1, 0)) * lineHeight }

    /// Wraps `title` into lines of at most `width` pixels.
    init(_ title: String, width: Double, fontSize: Double = 15) {
        self.fontSize = fontSize
        let limit = max(12, Int(width / (fontSize * 0.55)))
        var lines: [String] = []
        var current = ""
        for word in title.split(separator: " ", omittingEmptySubsequences: true) {
            if current.isEmpty {
                current = String(word)
            } else if current.count + 1 + word.count <= limit {
                current += " " + word
            } else {
                lines.append(current)
                current = String(word)
            }
        }
        if !current.isEmpty || lines.isEmpty { lines.append(current) }
        self.lines = lines
    }

    /// `<text>` of the title (one `<tspan>` per line when it wraps); `x`/`anchor` place it, `y`
    /// is the first baseline, `number` formats coordinates as the rest of the figure does.
    func svg(x: Double, y: String, anchor: String?, attributes: String = "", number: (Double) -> String,
             escape: (String) -> String) -> String {
        let anchorText = anchor.map { " text-anchor=\"\($0)\"" } ?? ""
        var text = "<text x=\"\(number(x))\" y=\"\(y)\"\(anchorText) font-size=\"\(Int(fontSize))\"\(attributes)>"
        guard lines.count > 1 else { return text + escape(lines[0]) + "</text>" }
        for (index, line) in lines.enumerated() {
            text += "<tspan x=\"\(number(x))\" dy=\"\(index == 0 ? "0" : number(lineHeight))\">\(escape(line))</tspan>"
        }
        return text + "</text>"
    }
}
