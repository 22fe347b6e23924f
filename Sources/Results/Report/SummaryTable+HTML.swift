import Foundation

extension SummaryTable {
    /// An HTML `<table>` with a caption, as the Markdown version reads: best mean per column in
    /// bold, second best underlined, `–` where no seed has a value; grouped columns get a
    /// spanning header.
    public func html() -> String {
        var lines = ["<table>", "  <caption>\(HTMLText.escape(spec.title)) (\(HTMLText.escape(spreadDescription)); "
                     + "best in bold, second best underlined)" + footnotes.map { " " + HTMLText.escape($0) }.joined() + "</caption>", "  <thead>"]
        let groups = columnGroups()
        let subheaders = groups.flatMap(\.subheaders)
        if groups.contains(where: { !$0.name.isEmpty }) {
            let cells = groups.map { "<th colspan=\"\($0.count)\">\(HTMLText.escape($0.name))</th>" }
            lines.append("    <tr><th></th>" + cells.joined() + "</tr>")
        }
        lines.append("    <tr><th>\(HTMLText.escape(spec.rowHeader))</th>"
            + subheaders.map { "<th>\(HTMLText.escape($0))</th>" }.joined() + "</tr>")
        lines += ["  </thead>", "  <tbody>"]
        for (rowIndex, row) in rows.enumerated() {
            let cells = columns.indices.map { column -> String in
                guard let text = cellText(row: rowIndex, column: column, plusMinus: "±") else { return "<td>–</td>" }
                let marks = HTMLText.escape(markText(row: rowIndex, column: column))
                switch ranks[rowIndex][column] {
                case .best: return "<td><b>\(HTMLText.escape(text))</b>\(marks)</td>"
                case .secondBest: return "<td><u>\(HTMLText.escape(text))</u>\(marks)</td>"
                case .other: return "<td>\(HTMLText.escape(text))\(marks)</td>"
                }
            }
            lines.append("    <tr><th>\(HTMLText.escape(row))</th>" + cells.joined() + "</tr>")
        }
        lines += ["  </tbody>", "</table>"]
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Escaping for HTML and SVG text and attribute values.
enum HTMLText {
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
