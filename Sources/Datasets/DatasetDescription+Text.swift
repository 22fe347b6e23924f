extension DatasetDescription {
    /// The description as aligned text tables, for a terminal: sizes, official splits, binary
    /// labels (one row each: 1, 0, uncertain, missing), multi-class labels (one row per class),
    /// attributes (one row per value, `(unknown)` last), further sections, the same label and
    /// attribute tables for each official split when described per split, then the first
    /// consistency warnings.
    public func text() -> String {
        var lines = ["dataset \(dataset): \(summary.rows) rows, \(summary.patients) patients, \(summary.studies) studies",
                     "root \(root)"]
        lines.append("")
        if officialSplits.isEmpty {
            lines.append("official split: none")
        } else {
            var table = TextTable(["official split", "rows", "patients", "studies"])
            for split in officialSplits {
                table.append([split.name, String(split.summary.rows), String(split.summary.patients), String(split.summary.studies)])
            }
            lines += table.lines
        }
        lines += Self.countLines(summary)
        for section in sections {
            lines += ["", section.title]
            var table = TextTable([""] + section.columns)
            for row in section.rows { table.append([row.name] + row.values.map(Self.text)) }
            lines += table.lines
        }
        if isPerOfficialSplit {
            for split in officialSplits {
                lines += ["", "official split \(split.name): \(split.summary.rows) rows, \(split.summary.patients) patients, \(split.summary.studies) studies"]
                lines += Self.countLines(split.summary)
            }
        }
        if !issues.isEmpty {
            lines += ["", "\(issues.count) warning\(issues.count == 1 ? "" : "s"): rows that contradict each other (recorded by a run; see docs/DATASETS.md)"]
            lines += issues.prefix(Self.listedIssues).map { "  " + $0.description }
            if issues.count > Self.listedIssues { lines.append("  … \(issues.count - Self.listedIssues) more (--format json lists all)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Warnings listed in the text rendering (JSON lists all).
    static let listedIssues = 20

    /// The label and attribute tables of a summary, each preceded by a blank line.
    private static func countLines(_ summary: Summary) -> [String] {
        var lines: [String] = []
        let binary = summary.labels.filter { $0.kind == .binary }
        if !binary.isEmpty {
            var table = TextTable(["label", "1", "0", "uncertain", "missing"])
            for label in binary { table.append([label.name] + label.counts.map { String($0.count) } + [String(label.missing)]) }
            lines += [""] + table.lines
        }
        let multiClass = summary.labels.filter { $0.kind == .multiClass }
        if !multiClass.isEmpty {
            var table = TextTable(["label", "class", "rows"], leftAligned: 2)
            for label in multiClass {
                for (index, count) in label.counts.enumerated() { table.append([index == 0 ? label.name : "", count.value, String(count.count)]) }
                table.append([label.counts.isEmpty ? label.name : "", "(missing)", String(label.missing)])
            }
            lines += [""] + table.lines
        }
        if !summary.attributes.isEmpty {
            var table = TextTable(["attribute", "value", "rows"], leftAligned: 2)
            for attribute in summary.attributes {
                var name = attribute.name
                if let counts = attribute.counts {
                    for count in counts {
                        let value = attribute.name == AttributeName.age ? ageBinLabel(count.value) : count.value
                        table.append([name, value, String(count.count)])
                        name = ""
                    }
                } else {
                    table.append([name, "(\(attribute.distinct) distinct values)", String(attribute.known)])
                    name = ""
                }
                table.append([name, "(unknown)", String(attribute.unknown)])
            }
            lines += [""] + table.lines
        }
        return lines
    }

    /// `young (0-34)` for the age bin `young`, and so on.
    private static func ageBinLabel(_ bin: String) -> String {
        switch AgeGroup(rawValue: bin) {
        case .young: "young (0-34)"
        case .middle: "middle (35-59)"
        case .elderly: "elderly (60+)"
        case nil: bin
        }
    }

    private static func text(_ value: DescriptionTable.Value) -> String {
        switch value {
        case .count(let count): String(count)
        case .number(let number): number.isFinite ? String(number) : "-"
        case .text(let text): text
        case .none: "-"
        }
    }
}

/// A text table whose leading name columns are left-aligned and whose other columns are
/// right-aligned (they hold counts), separated by two spaces.
struct TextTable {
    private let header: [String]
    private let leftAligned: Int
    private var rows: [[String]] = []

    /// A table with these column names, the first `leftAligned` of them holding names.
    init(_ header: [String], leftAligned: Int = 1) {
        self.header = header
        self.leftAligned = leftAligned
    }

    mutating func append(_ row: [String]) {
        precondition(row.count == header.count, "a row needs one cell per column")
        rows.append(row)
    }

    var lines: [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                let separator = column == 0 ? "" : "  "
                if column < leftAligned {
                    line += separator + cell + padding
                } else {
                    line += "  " + padding + cell
                }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }
}
