import Foundation

/// The `results/index.html` page: every rendered table (embedded as HTML, with links to its
/// Markdown, LaTeX, CSV and explanation files) and every figure, grouped by experiment.
public struct ReportIndex: Sendable {
    /// A rendered table.
    public struct TableEntry: Sendable {
        /// The experiment it belongs to.
        public var experiment: String
        /// File stem under `tables/`.
        public var name: String
        /// The table as HTML.
        public var html: String
        /// Where its declaration came from (a spec file, or `automatic`).
        public var origin: String
        /// The files written beside it (suffixes of `tables/NAME.`).
        public var suffixes: [String]

        /// Creates an entry.
        public init(experiment: String, name: String, html: String, origin: String,
                    suffixes: [String] = ["md", "tex", "csv", "explain.csv"]) {
            self.suffixes = suffixes
            self.experiment = experiment
            self.name = name
            self.html = html
            self.origin = origin
        }
    }

    /// A rendered figure.
    public struct FigureEntry: Sendable {
        /// The experiment it belongs to.
        public var experiment: String
        /// File name under `figures/` (with `.svg`).
        public var file: String
        /// Caption.
        public var caption: String

        /// Creates an entry.
        public init(experiment: String, file: String, caption: String) {
            self.experiment = experiment
            self.file = file
            self.caption = caption
        }
    }

    /// Tables, in order.
    public var tables: [TableEntry] = []
    /// Figures, in order.
    public var figures: [FigureEntry] = []
    /// Things not rendered, and why.
    public var notes: [String] = []
    /// The database the page was made from (shown in the header).
    public var databasePath: String

    /// Creates an empty index.
    public init(databasePath: String) {
        self.databasePath = databasePath
    }

    /// The page.
    public func html() -> String {
        var experiments: [String] = []
        for experiment in tables.map(\.experiment) + figures.map(\.experiment) where !experiments.contains(experiment) {
            experiments.append(experiment)
        }
        var lines = [
            "<!DOCTYPE html>",
            "<html lang=\"en\">",
            "<head>",
            "<meta charset=\"utf-8\">",
            "<title>xrbench results</title>",
            "<style>",
            "body { font-family: Helvetica, Arial, sans-serif; margin: 2em; max-width: 80em; }",
            "table { border-collapse: collapse; margin: 0.5em 0 0.3em; }",
            "caption { caption-side: top; text-align: left; padding-bottom: 0.4em; }",
            "th, td { border-bottom: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; }",
            "tbody th, thead tr:last-child th:first-child { text-align: left; }",
            "thead th { border-bottom: 2px solid #333; }",
            ".files { font-size: 0.85em; color: #555; margin-bottom: 1.5em; }",
            "figure { margin: 1em 0 2em; } figure img { max-width: 100%; }",
            "</style>",
            "</head>",
            "<body>",
            "<h1>xrbench results</h1>",
            "<p>Rendered from <code>\(HTMLText.escape(databasePath))</code> without recomputing anything. "
                + "Each table's <code>.explain.csv</code> lists the stage and run behind every value.</p>",
        ]
        if experiments.isEmpty { lines.append("<p>No tables or figures: the database holds no results yet.</p>") }
        for experiment in experiments {
            lines.append("<h2>\(HTMLText.escape(experiment))</h2>")
            for table in tables where table.experiment == experiment {
                let name = HTMLText.escape(table.name)
                lines.append("<h3 id=\"table-\(name)\">\(name)</h3>")
                lines.append(table.html)
                lines.append("<div class=\"files\">" + table.suffixes.map {
                    "<a href=\"tables/\(name).\($0)\">\(name).\($0)</a>"
                }.joined(separator: " · ") + " — declared in \(HTMLText.escape(table.origin))</div>")
            }
            for figure in figures where figure.experiment == experiment {
                let file = HTMLText.escape(figure.file)
                lines.append("<figure><a href=\"figures/\(file)\"><img src=\"figures/\(file)\" alt=\"\(HTMLText.escape(figure.caption))\"></a>"
                    + "<figcaption>\(HTMLText.escape(figure.caption)) (<a href=\"figures/\(file)\">\(file)</a>)</figcaption></figure>")
            }
        }
        if !notes.isEmpty {
            lines.append("<h2>Not rendered</h2>")
            lines.append("<ul>" + notes.map { "<li>\(HTMLText.escape($0))</li>" }.joined() + "</ul>")
        }
        lines += ["</body>", "</html>"]
        return lines.joined(separator: "\n") + "\n"
    }
}
