import Foundation

/// Output formats of `xrbench query`.
public enum QueryFormat: String, CaseIterable, Sendable {
    /// Aligned plain text with a header rule and a row count.
    case table
    /// RFC 4180 CSV: CRLF line ends; fields with a comma, quote or line break are quoted.
    case csv
    /// A JSON array with one object per row, keys in column order.
    case json
    /// A GitHub-flavoured Markdown table.
    case markdown
}

extension QueryTable {
    /// The table rendered in `format`, ending with a line break.
    public func formatted(_ format: QueryFormat) -> String {
        switch format {
        case .table: return alignedText()
        case .csv: return csv()
        case .json: return json()
        case .markdown: return markdown()
        }
    }

    /// Columns whose non-NULL values are all numbers (and at least one is): aligned right.
    private var numericColumns: [Bool] {
        columns.indices.map { column in
            let values = rows.map { $0[column] }.filter { $0 != .null }
            return !values.isEmpty && values.allSatisfy(\.isNumeric)
        }
    }

    /// Aligned text: columns two spaces apart, numbers right-aligned, NULL shown as `NULL`,
    /// line breaks inside values shown as `\n`, then `(N rows)`.
    public func alignedText() -> String {
        let cells = rows.map { row in
            row.map { ($0.textValue ?? "NULL").replacingOccurrences(of: "\n", with: "\\n") }
        }
        let widths = columns.indices.map { column in
            ([columns[column]] + cells.map { $0[column] }).map(\.count).max() ?? 0
        }
        let numeric = numericColumns
        func line(_ values: [String]) -> String {
            let padded = values.indices.map { column -> String in
                let padding = String(repeating: " ", count: widths[column] - values[column].count)
                return numeric[column] ? padding + values[column] : values[column] + padding
            }
            return String(padded.joined(separator: "  ").reversed().drop(while: { $0 == " " }).reversed())
        }
        var lines = [line(columns), line(widths.map { String(repeating: "-", count: $0) })]
        lines += cells.map(line)
        lines.append(rows.count == 1 ? "(1 row)" : "(\(rows.count) rows)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// RFC 4180 CSV with a header record; NULL is an empty field.
    public func csv() -> String {
        CSVText.document([columns] + rows.map { $0.map { $0.textValue ?? "" } })
    }

    /// A JSON array of objects, one per row and one line each; non-finite numbers become null.
    public func json() -> String {
        guard !rows.isEmpty else { return "[]\n" }
        let keys = columns.map(JSONText.string)
        let objects = rows.map { row in
            "  {" + zip(keys, row).map { key, value in key + ": " + JSONText.value(value) }.joined(separator: ", ") + "}"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }

    /// A Markdown table; `|` inside values is escaped, line breaks become `<br>`.
    public func markdown() -> String {
        func cell(_ text: String) -> String {
            text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\r\n", with: "<br>")
                .replacingOccurrences(of: "\n", with: "<br>")
        }
        let numeric = numericColumns
        var lines = ["| " + columns.map(cell).joined(separator: " | ") + " |"]
        lines.append("|" + numeric.map { $0 ? " ---: |" : " --- |" }.joined())
        lines += rows.map { row in "| " + row.map { cell($0.textValue ?? "NULL") }.joined(separator: " | ") + " |" }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// RFC 4180 CSV text.
enum CSVText {
    /// A field, quoted (with doubled quotes) when it holds a comma, a quote or a line break.
    static func field(_ text: String) -> String {
        let needsQuotes = text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
        return needsQuotes ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// Records joined by CRLF, each ending with CRLF.
    static func document(_ records: [[String]]) -> String {
        records.map { $0.map(field).joined(separator: ",") + "\r\n" }.joined()
    }
}

/// JSON text for single values, written by hand so key order and number forms are stable.
enum JSONText {
    static func string(_ text: String) -> String {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case let control where control.value < 0x20:
                escaped += String(format: "\\u%04x", control.value)
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped + "\""
    }

    static func value(_ value: QueryValue) -> String {
        switch value {
        case .null: return "null"
        case .integer(let integer): return String(integer)
        case .real(let double): return double.isFinite ? String(double) : "null"
        case .text(let text): return string(text)
        case .blob: return string(value.textValue ?? "")
        }
    }
}
