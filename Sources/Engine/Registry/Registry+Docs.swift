import Pipeline

extension Registry {
    /// Every registered kind with its options, as Markdown: what `xrbench kinds` prints and what
    /// docs/SPEC.md's option tables are (a test keeps the two equal).
    public func optionTables() -> String {
        var lines: [String] = []
        func section(_ title: String, _ definitions: [(String, any ComponentDefinition)]) {
            lines += ["## \(title)", ""]
            for (name, definition) in definitions.sorted(by: { $0.0 < $1.0 }) {
                lines += ["### `\(name)`", "", sentence(definition.summary), ""]
                lines += optionTable(definition.options)
            }
        }
        section("Backbone families (`backbones:`)", backbones.map { ($0.key, $0.value) })
        section("Dataset adapters (`datasets:`)", datasets.map { ($0.key, $0.value) })
        section("Head kinds (`heads:`, or by name in a task's `head:` axis)", heads.map { ($0.key, $0.value) })
        lines += ["## Task kinds (`tasks:`)", ""]
        for name in tasks.keys.sorted() {
            let task = tasks[name]!
            lines += ["### `\(name)`", "", sentence(task.summary), ""]
            lines += optionTable(task.fields)
            lines += ["Matrix axes: `backbone`, `dataset`" + task.axes.map { ", `\($0.name)`" }.joined() + ".", ""]
        }
        lines += ["## Metrics", "", "| metric | scores | table name | better |", "|---|---|---|---|"]
        for metric in metrics.spellings {
            lines.append("| `\(metric.name)` | \(metric.input) | \(metric.displayName) | \(metric.direction == .higherIsBetter ? "higher" : "lower") |")
        }
        lines += ["", "## Executors (`--executor`, profiles in `executors:` or `--profile`)", ""]
        for name in executors.keys.sorted() {
            let executor = executors[name]!
            lines += ["### `\(name)`", "", sentence(executor.summary), ""]
            lines += optionTable(executor.options)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A summary as a sentence: capitalised, with a final period.
    private func sentence(_ summary: String) -> String {
        summary.prefix(1).uppercased() + summary.dropFirst() + (summary.hasSuffix(".") ? "" : ".")
    }

    private func optionTable(_ fields: [SchemaField]) -> [String] {
        guard !fields.isEmpty else { return ["No options.", ""] }
        var lines = ["| option | value | required |", "|---|---|---|"]
        for field in fields {
            lines.append("| `\(field.name)` | \(field.type.summary.replacingOccurrences(of: "|", with: "\\|")) | \(field.isRequired ? "yes" : "") |")
        }
        return lines + [""]
    }
}
