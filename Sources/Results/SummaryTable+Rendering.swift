import Foundation

extension SummaryTable {
    /// A Markdown caption and table: best mean per column in bold, second best in italics,
    /// `–` where no seed has a value.
    public func markdown() -> String {
        func escape(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        var lines = ["**\(spec.title).** \(spreadDescription.prefix(1).uppercased() + spreadDescription.dropFirst()); "
                     + "best in bold, second best in italics.", ""]
        lines.append("| " + ([spec.rowHeader] + columns).map(escape).joined(separator: " | ") + " |")
        lines.append("| --- |" + String(repeating: " ---: |", count: columns.count))
        for (rowIndex, row) in rows.enumerated() {
            let cells = columns.indices.map { column -> String in
                guard let text = cellText(row: rowIndex, column: column, plusMinus: "±") else { return "–" }
                let marks = markText(row: rowIndex, column: column)
                switch ranks[rowIndex][column] {
                case .best: return "**\(text)**" + marks
                case .secondBest: return "*\(text)*" + marks
                case .other: return text + marks
                }
            }
            lines.append("| " + ([escape(row)] + cells).joined(separator: " | ") + " |")
        }
        if !footnotes.isEmpty { lines += [""] + footnotes }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A LaTeX `table` with a booktabs `tabular`: best mean per column in bold, second best
    /// underlined, `--` where no seed has a value; grouped columns get a spanning header.
    public func latex() -> String {
        let groups = columnGroups()
        var lines = [
            "\\begin{table}[t]",
            "  \\centering",
            "  \\caption{\(Self.escapeLaTeX(spec.title)) (\(Self.escapeLaTeX(spreadDescription))"
                + "; best in bold, second best underlined)." + footnotes.map { " " + Self.escapeLaTeX($0) }.joined() + "}",
            "  \\label{tab:\(spec.name)}",
            "  \\begin{tabular}{l" + String(repeating: "c", count: columns.count) + "}",
            "    \\toprule",
        ]
        if groups.contains(where: { !$0.name.isEmpty }) {
            var header = [""]
            var rules: [String] = []
            var firstColumn = 2
            for group in groups {
                if group.name.isEmpty {
                    header += Array(repeating: "", count: group.count)
                } else {
                    header.append("\\multicolumn{\(group.count)}{c}{\(Self.escapeLaTeX(group.name))}")
                    rules.append("\\cmidrule(lr){\(firstColumn)-\(firstColumn + group.count - 1)}")
                }
                firstColumn += group.count
            }
            lines.append("    " + header.joined(separator: " & ") + " \\\\")
            lines.append("    " + rules.joined(separator: " "))
        }
        let subheaders = groups.flatMap { $0.subheaders }
        lines.append("    " + ([Self.escapeLaTeX(spec.rowHeader)] + subheaders.map(Self.escapeLaTeX))
            .joined(separator: " & ") + " \\\\")
        lines.append("    \\midrule")
        for (rowIndex, row) in rows.enumerated() {
            let cells = columns.indices.map { column -> String in
                guard let text = cellText(row: rowIndex, column: column, plusMinus: "$\\pm$") else { return "--" }
                let marks = markText(row: rowIndex, column: column, latex: true)
                switch ranks[rowIndex][column] {
                case .best: return "\\textbf{\(text)}" + marks
                case .secondBest: return "\\underline{\(text)}" + marks
                case .other: return text + marks
                }
            }
            lines.append("    " + ([Self.escapeLaTeX(row)] + cells).joined(separator: " & ") + " \\\\")
        }
        lines += ["    \\bottomrule", "  \\end{tabular}", "\\end{table}"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// CSV for further analysis: per column its mean, spread and seed count, scaled, with three
    /// more decimals than the printed table; empty where no seed has a value.
    public func csv() -> String {
        let digits = spec.decimals + 3
        func number(_ value: Double?) -> String { value.map { Self.fixed(spec.scale * $0, decimals: digits) } ?? "" }
        var header = [spec.rowHeader]
        for column in columns {
            switch spec.spread {
            case .standardDeviation: header += ["\(column) mean", "\(column) std", "\(column) n"]
            case .confidenceInterval95: header += ["\(column) mean", "\(column) ci95 low", "\(column) ci95 high", "\(column) n"]
            }
        }
        var records = [header]
        for (rowIndex, row) in rows.enumerated() {
            var record = [row]
            for column in columns.indices {
                let summary = cells[rowIndex][column]
                record.append(number(summary?.mean))
                switch spec.spread {
                case .standardDeviation:
                    record.append(number(summary?.standardDeviation))
                case .confidenceInterval95:
                    record += [number(summary?.interval?.lowerBound), number(summary?.interval?.upperBound)]
                }
                record.append(String(summary?.count ?? 0))
            }
            records.append(record)
        }
        return CSVText.document(records)
    }

    /// Consecutive columns sharing a group name (the part before `columnGroupSeparator`).
    func columnGroups() -> [(name: String, count: Int, subheaders: [String])] {
        var groups: [(name: String, count: Int, subheaders: [String])] = []
        for column in columns {
            var name = ""
            var subheader = column
            if let separator = spec.columnGroupSeparator, let range = column.range(of: separator) {
                name = String(column[..<range.lowerBound])
                subheader = String(column[range.upperBound...])
            }
            if let last = groups.last, !name.isEmpty, last.name == name {
                groups[groups.count - 1].count += 1
                groups[groups.count - 1].subheaders.append(subheader)
            } else {
                groups.append((name, 1, [subheader]))
            }
        }
        return groups
    }

    /// Text with LaTeX's special characters escaped.
    static func escapeLaTeX(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\textbackslash{}"
            case "&", "%", "$", "#", "_", "{", "}": escaped += "\\" + String(character)
            case "~": escaped += "\\textasciitilde{}"
            case "^": escaped += "\\textasciicircum{}"
            case "±": escaped += "$\\pm$"
            case "†": escaped += "$^{\\dagger}$"
            case "‡": escaped += "$^{\\ddagger}$"
            case "α": escaped += "$\\alpha$"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
