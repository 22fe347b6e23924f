extension DatasetDescription {
    /// The description as JSON, keys in a fixed order (the order of the text rendering), so
    /// the same manifest always gives the same bytes:
    ///
    ///     {
    ///       "dataset": "nih", "root": "/data/nih", "rows": 112120, "patients": 30805, "studies": 112120,
    ///       "officialSplits": [{"split": "train", "rows": …, "patients": …, "studies": …,
    ///                           "labels": […], "attributes": […]}],   // labels/attributes only per split
    ///       "labels": [{"name": "Atelectasis", "kind": "binary",
    ///                   "counts": {"1": 11559, "0": 100561, "uncertain": 0}, "missing": 0}],
    ///       "attributes": [{"name": "sex", "known": …, "unknown": …, "distinct": 2,
    ///                       "counts": {"female": …, "male": …}}],   // counts null over the limit
    ///       "sections": {"masks": {"title": …, "columns": […], "rows": [["name", 1, 2.5], …]}},
    ///       "warnings": [{"file": "train.csv", "line": 12, "patient": "p1", "sample": "…", "message": "…"}]
    ///     }
    ///
    /// (objects and arrays on one line when they fit in 140 columns, else one member a line). Age counts
    /// are the bins `young` (0–34), `middle` (35–59), `elderly` (60+); `sections` and `warnings`
    /// are present only when there are some.
    public func json() -> String {
        var members: [(String, OrderedJSON)] = [
            ("dataset", .string(dataset)), ("root", .string(root)),
            ("rows", .integer(summary.rows)), ("patients", .integer(summary.patients)), ("studies", .integer(summary.studies)),
        ]
        let perSplit = isPerOfficialSplit
        members.append(("officialSplits", .array(officialSplits.map { split in
            var entry: [(String, OrderedJSON)] = [("split", .string(split.name))] + Self.sizes(split.summary)
            if perSplit { entry += Self.counts(split.summary) }
            return .object(entry)
        })))
        members += Self.counts(summary)
        if !sections.isEmpty {
            precondition(Set(sections.map(\.key)).count == sections.count, "description sections need distinct keys")
            members.append(("sections", .object(sections.map { section in
                (section.key, .object([
                    ("title", .string(section.title)),
                    ("columns", .array(section.columns.map(OrderedJSON.string))),
                    ("rows", .array(section.rows.map { row in .array([.string(row.name)] + row.values.map(Self.json)) })),
                ]))
            })))
        }
        if !issues.isEmpty {
            members.append(("warnings", .array(issues.map { issue in
                var entry: [(String, OrderedJSON)] = [("file", .string(issue.file)), ("line", issue.line.map(OrderedJSON.integer) ?? .null)]
                entry.append(("patient", issue.patientID.map(OrderedJSON.string) ?? .null))
                entry.append(("sample", issue.sampleID.map(OrderedJSON.string) ?? .null))
                entry.append(("message", .string(issue.message)))
                return .object(entry)
            })))
        }
        var output = ""
        OrderedJSON.object(members).write(to: &output, indent: 0)
        return output + "\n"
    }

    private static func sizes(_ summary: Summary) -> [(String, OrderedJSON)] {
        [("rows", .integer(summary.rows)), ("patients", .integer(summary.patients)), ("studies", .integer(summary.studies))]
    }

    private static func counts(_ summary: Summary) -> [(String, OrderedJSON)] {
        func counts(_ values: [ValueCount]) -> OrderedJSON { .object(values.map { ($0.value, .integer($0.count)) }) }
        return [
            ("labels", .array(summary.labels.map { label in
                .object([("name", .string(label.name)), ("kind", .string(label.kind.rawValue)),
                         ("counts", counts(label.counts)), ("missing", .integer(label.missing))])
            })),
            ("attributes", .array(summary.attributes.map { attribute in
                .object([("name", .string(attribute.name)), ("known", .integer(attribute.known)),
                         ("unknown", .integer(attribute.unknown)), ("distinct", .integer(attribute.distinct)),
                         ("counts", attribute.counts.map(counts) ?? .null)])
            })),
        ]
    }

    private static func json(_ value: DescriptionTable.Value) -> OrderedJSON {
        switch value {
        case .count(let count): .integer(count)
        case .number(let number): number.isFinite ? .number(number) : .null
        case .text(let text): .string(text)
        case .none: .null
        }
    }
}

/// A JSON value whose objects keep their members' order, written pretty-printed.
enum OrderedJSON {
    case object([(String, OrderedJSON)])
    case array([OrderedJSON])
    case string(String)
    case integer(Int)
    case number(Double)
    case null

    /// Objects and arrays whose one-line form keeps the line (indentation included) within
    /// this width are written on one line: a label's or attribute's counts stay together.
    private static let inlineWidth = 140

    /// The value on one line, or nil when it is too long for one (computed only up to that).
    private var oneLine: String? {
        var line = ""
        return appendOneLine(to: &line) ? line : nil
    }

    /// Appends the one-line form; false as soon as it passes `inlineWidth`.
    private func appendOneLine(to line: inout String) -> Bool {
        switch self {
        case .object(let members):
            line += "{"
            for (index, member) in members.enumerated() {
                line += (index == 0 ? "" : ", ") + Self.quoted(member.0) + ": "
                guard member.1.appendOneLine(to: &line) else { return false }
            }
            line += "}"
        case .array(let elements):
            line += "["
            for (index, element) in elements.enumerated() {
                line += index == 0 ? "" : ", "
                guard element.appendOneLine(to: &line) else { return false }
            }
            line += "]"
        default:
            write(to: &line, indent: 0)
        }
        return line.count <= Self.inlineWidth
    }

    /// Appends the value; nested containers are indented by two spaces per level.
    func write(to output: inout String, indent: Int) {
        switch self {
        case .object(let members):
            if members.isEmpty { output += "{}"; return }
            if let line = oneLine, line.count <= Self.inlineWidth - 2 * indent { output += line; return }
            let inner = String(repeating: "  ", count: indent + 1)
            output += "{\n"
            for (index, member) in members.enumerated() {
                output += inner + Self.quoted(member.0) + ": "
                member.1.write(to: &output, indent: indent + 1)
                output += index == members.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: "  ", count: indent) + "}"
        case .array(let elements):
            if elements.isEmpty { output += "[]"; return }
            if let line = oneLine, line.count <= Self.inlineWidth - 2 * indent { output += line; return }
            let inner = String(repeating: "  ", count: indent + 1)
            output += "[\n"
            for (index, element) in elements.enumerated() {
                output += inner
                element.write(to: &output, indent: indent + 1)
                output += index == elements.count - 1 ? "\n" : ",\n"
            }
            output += String(repeating: "  ", count: indent) + "]"
        case .string(let text): output += Self.quoted(text)
        case .integer(let value): output += String(value)
        case .number(let value): output += value.isFinite ? "\(value)" : "null"
        case .null: output += "null"
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
