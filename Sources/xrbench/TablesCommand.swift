import ArgumentParser
import Foundation
import Results

extension XRBench {
    /// `xrbench tables`: renders every experiment's tables and figures from the results database.
    struct Tables: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Render tables (Markdown, LaTeX, CSV) and figures (SVG) from the results database.",
            discussion: """
            Reads the database only: nothing is recomputed, so it takes seconds and works on a copy \
            of the database anywhere. For every experiment with results it writes:
              OUT/tables/NAME.md, NAME.tex (booktabs; best mean per column bold, second underlined), \
            NAME.csv (mean, spread and seed count per column) and NAME.explain.csv (every value \
            behind every cell, with its stage key and run);
              OUT/figures/NAME*.svg: fairness box plots with Mann–Whitney brackets, retrieval galleries;
              OUT/index.html, linking (and embedding) all of them.

            Tables and figures are those declared under `tables:` and `figures:` in the experiment's \
            spec. Without --spec, every spec under Experiments/ is read and matched to the \
            experiments in the database by name (when two specs declare one experiment, the one the \
            latest run executed wins), and an experiment whose spec is elsewhere gets the spec file \
            its latest run recorded; an experiment with no declarations, or whose spec cannot be \
            read here, gets automatic tables (one per task and metric: rows = backbones, columns = \
            training fraction, or k for retrieval) and figures. So `make tables` after `make demo` \
            needs no arguments.

            Cells show the mean over seeds with ± standard deviation (`summary: mean-std`, the \
            default), the 95% Student-t interval (`mean-ci`) or the mean alone (`mean`); only the \
            current result of each coordinate counts (the `latest_result` view).

            Examples:
              xrbench tables
              xrbench tables --db results/xrbench.sqlite --out results/ --spec Experiments/demo.yaml
              xrbench tables --explain --spec Experiments/table2-classification.yaml
              xrbench tables --images data/phantom      # thumbnails for the retrieval gallery
            """)

        @OptionGroup var database: DatabaseOption

        @Option(name: .long, help: ArgumentHelp("The folder to write tables/, figures/ and index.html into.", valueName: "DIR"))
        var out: String = "results"

        @Option(name: .long, parsing: .upToNextOption,
                help: ArgumentHelp("Experiment specs whose tables: and figures: to render (default: every spec under Experiments/).",
                                   valueName: "SPEC"))
        var spec: [String] = []

        @Flag(name: .long, help: "Also print, for every cell, the seed values, stage keys and runs behind it.")
        var explain = false

        @Option(name: .long, parsing: .upToNextOption,
                help: ArgumentHelp("Dataset folders with a manifest.csv, for retrieval gallery thumbnails.", valueName: "DIR"))
        var images: [String] = []

        @Option(name: .long, help: ArgumentHelp("The artifact cache, searched for phantom datasets' images.", valueName: "DIR"))
        var cache: String = ".xrbench/cache"

        @Option(name: .long, help: "Queries per retrieval gallery.")
        var galleryQueries: Int = 4

        @Option(name: .long, help: "Neighbours shown per gallery query.")
        var galleryNeighbours: Int = 5

        func validate() throws {
            guard galleryQueries >= 1 else { throw ValidationError("--gallery-queries must be at least 1.") }
            guard galleryNeighbours >= 1 else { throw ValidationError("--gallery-neighbours must be at least 1.") }
        }

        func run() throws {
            let reader = try database.openReader()
            let declarations = try SpecDeclarations(explicit: spec, latestDigests: try reader.latestSpecDigests(),
                                                    latestPaths: try reader.latestSpecPaths())
            let outFolder = URL(fileURLWithPath: out)
            let tablesFolder = outFolder.appendingPathComponent("tables")
            let figuresFolder = outFolder.appendingPathComponent("figures")
            for folder in [tablesFolder, figuresFolder] {
                do {
                    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                } catch {
                    throw CommandError("\(folder.path): cannot create the folder (\(error.localizedDescription)); check --out")
                }
            }
            let recorded = try reader.experimentsWithResults()
            var experiments = recorded
            // Explicit specs restrict the report to their experiments.
            if !spec.isEmpty {
                let declared = Set(declarations.specs.keys)
                for experiment in declarations.specs.keys.sorted() where !experiments.contains(experiment) {
                    warn("experiment \(experiment) (from --spec) has no results in \(database.db); run it first")
                }
                experiments = experiments.filter(declared.contains)
            }
            var index = ReportIndex(databasePath: database.db)
            let thumbnails = try ThumbnailSource(datasetFolders: images, cacheFolder: cache)
            var renderer = FigureRenderer(reader: reader, folder: figuresFolder, thumbnails: thumbnails,
                                          galleryQueries: galleryQueries, galleryNeighbours: galleryNeighbours)
            var undeclared: [String] = []
            for experiment in experiments {
                let plan = try declarations.plan(for: experiment, reader: reader)
                renderer.vocabulary = reportVocabulary(spec: declarations.specs[experiment])
                if declarations.specs[experiment] == nil { undeclared.append(experiment) }
                for request in plan.tables {
                    let table: ReportTable
                    do {
                        table = try reader.reportTable(request)
                    } catch let error as ResultsError {
                        index.notes.append(error.description)
                        warn(error.description)
                        continue
                    }
                    try writeTable(table, to: tablesFolder)
                    index.tables.append(ReportIndex.TableEntry(experiment: experiment, name: request.name,
                                                               html: table.html(), origin: plan.origin))
                    if explain { print(table.explanationText()) }
                }
                for request in plan.convergence {
                    let table: ConvergenceTable
                    do {
                        table = try reader.convergenceTable(request)
                    } catch let error as ResultsError {
                        index.notes.append(error.description)
                        warn(error.description)
                        continue
                    }
                    try writeConvergence(table, tables: tablesFolder, figures: figuresFolder)
                    index.tables.append(ReportIndex.TableEntry(experiment: experiment, name: request.name, html: table.html(), origin: plan.origin,
                                                               suffixes: ["md", "tex", "csv"]))
                    index.figures.append(ReportIndex.FigureEntry(experiment: experiment, file: fileStem(request.name) + ".svg",
                                                                 caption: "\(request.caption ?? "Convergence speedup"): bars per backbone "
                                                                     + "against \(request.reference); 1× is the reference"))
                    index.notes += table.notes.map { "\(request.name): not compared: \($0)" }
                }
                for figure in plan.figures {
                    let (figures, notes) = try renderer.render(figure, experiment: experiment, smallSample: plan.smallSample)
                    for entry in figures { print("wrote \(figuresFolder.appendingPathComponent(entry.file).relativePath)") }
                    index.figures += figures
                    index.notes += notes
                    notes.forEach(warn)
                }
            }
            if !undeclared.isEmpty {
                warn("no spec declares tables for \(undeclared.joined(separator: ", ")): rendered automatic tables "
                    + "(pass the experiment's spec with --spec SPEC to render its tables: and figures:)"
                    + (declarations.skipped.isEmpty ? "" : "; specs not read:\n  " + declarations.skipped.joined(separator: "\n  ")))
            }
            if recorded.isEmpty { warn("\(database.db) holds no results yet; run a spec first (`xrbench runs` lists runs)") }
            let indexURL = outFolder.appendingPathComponent("index.html")
            try writeText(index.html(), to: indexURL)
            print("rendered \(index.tables.count) tables and \(index.figures.count) figures; open \(indexURL.relativePath)")
        }

        /// Writes a convergence table's Markdown, LaTeX and CSV (every seed's epochs) and its figure.
        private func writeConvergence(_ table: ConvergenceTable, tables: URL, figures: URL) throws {
            let stem = fileStem(table.request.name)
            for (suffix, text) in [("md", table.markdown()), ("tex", table.latex()), ("csv", table.csv())] {
                try writeText(text, to: tables.appendingPathComponent("\(stem).\(suffix)"))
            }
            try writeText(table.chart().svg(), to: figures.appendingPathComponent("\(stem).svg"))
            print("wrote \(tables.appendingPathComponent(stem).relativePath).{md,tex,csv} and \(figures.appendingPathComponent(stem).relativePath).svg")
        }

        /// Writes a table's Markdown, LaTeX, CSV and explanation files.
        private func writeTable(_ table: ReportTable, to folder: URL) throws {
            let stem = fileStem(table.request.name)
            let files = [("md", table.markdown()), ("tex", table.latex()), ("csv", table.csv()),
                         ("explain.csv", table.explanationCSV())]
            for (suffix, text) in files {
                try writeText(text, to: folder.appendingPathComponent("\(stem).\(suffix)"))
            }
            print("wrote \(folder.appendingPathComponent(stem).relativePath).{md,tex,csv,explain.csv}")
        }
    }
}

/// A warning on standard error.
func warn(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}
