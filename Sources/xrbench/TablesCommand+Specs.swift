import Foundation
import Pipeline
import Results

/// What `xrbench tables` renders for one experiment: its tables and figures, and where they were declared.
struct ExperimentReportPlan {
    /// A figure to render.
    struct Figure {
        /// File stem.
        var name: String
        /// Fairness box plots or a retrieval gallery.
        var kind: FigureKind
        /// The task it draws.
        var task: String
        /// Caption, when declared.
        var caption: String?
        /// Training and test subgroups in the spec's order (empty: recorded order).
        var trainOrder: [String] = []
        var testOrder: [String] = []
        /// Backbones in the spec's order (empty: recorded order).
        var backboneOrder: [String] = []
        /// Whether the task's outputs are the classes of one label (reliability: top-label confidence).
        var multiclass = false
    }

    /// The experiment.
    var experiment: String
    /// Its tables.
    var tables: [ReportTableRequest]
    /// Its convergence tables (each also drawn as a figure).
    var convergence: [ConvergenceRequest] = []
    /// Values on fewer test samples than this are marked in figures.
    var smallSample = Spec.defaultSmallSample
    /// Its figures.
    var figures: [Figure]
    /// The spec file that declared them, or `automatic` (from the recorded results alone).
    var origin: String
}

/// Finds table and figure declarations: in the specs given with `--spec`, or else in every
/// spec under `Experiments/` whose experiment has results in the database.
struct SpecDeclarations {
    /// Loaded specs by experiment name.
    var specs: [String: Spec] = [:]
    /// Spec files that could not be read, with the first reason (reported when an experiment
    /// ends up without declarations).
    var skipped: [String] = []

    /// The default folder searched for specs when `--spec` is not given.
    static let defaultFolder = "Experiments"

    /// Loads the explicitly given specs (every one must load) or discovers them.
    /// - Parameters:
    ///   - explicit: `--spec` paths.
    ///   - latestDigests: the latest run's spec digest per experiment, to choose between specs
    ///     that declare the same experiment.
    /// - Throws: `CommandError` naming an explicit spec that does not load, and why.
    init(explicit: [String], latestDigests: [String: String], latestPaths: [String: String] = [:]) throws {
        let loader = SpecLoader(catalog: makeRegistry().catalog)
        if !explicit.isEmpty {
            for path in explicit {
                guard FileManager.default.fileExists(atPath: path) else {
                    throw CommandError("\(path): no such spec file; pass an experiment spec such as Experiments/demo.yaml")
                }
                do {
                    let spec = try loader.load(URL(fileURLWithPath: path))
                    specs[spec.experiment] = spec
                } catch {
                    throw CommandError("\(path): cannot read its table declarations: \(error)")
                }
            }
            return
        }
        for url in Self.discoverSpecFiles(in: URL(fileURLWithPath: Self.defaultFolder)) {
            do {
                let spec = try loader.load(url)
                // Two specs with one experiment: the one the latest run executed wins.
                if let existing = specs[spec.experiment], existing.digest == latestDigests[spec.experiment] { continue }
                specs[spec.experiment] = spec
            } catch let error as SpecError {
                skipped.append("\(url.relativePath): not read (\(error.diagnostics[0].description))")
            } catch {
                skipped.append("\(url.relativePath): not read (\(error))")
            }
        }
        // An experiment whose spec lives elsewhere: the spec file its latest run recorded.
        for (experiment, path) in latestPaths.sorted(by: { $0.key < $1.key }) where specs[experiment] == nil {
            guard FileManager.default.fileExists(atPath: path) else {
                skipped.append("\(path) (the spec of the latest run of \(experiment)) no longer exists; pass --spec")
                continue
            }
            do {
                let spec = try loader.load(URL(fileURLWithPath: path))
                if spec.experiment == experiment { specs[experiment] = spec }
            } catch {
                skipped.append("\(path) (the spec of the latest run of \(experiment)): not read (\(error)); pass --spec")
            }
        }
    }

    /// YAML files under `folder` (recursively, sorted) that declare an experiment at top level;
    /// registries (no `experiment:` key) are left out.
    static func discoverSpecFiles(in folder: URL) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey]) else {
            return []
        }
        var files: [URL] = []
        for case let url as URL in walker where ["yaml", "yml"].contains(url.pathExtension.lowercased()) {
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            if text.split(separator: "\n").contains(where: { $0.hasPrefix("experiment:") }) { files.append(url) }
        }
        return files.sorted { $0.path < $1.path }
    }

    /// The plan for an experiment: declared tables and figures when its spec declares any,
    /// otherwise automatic ones (per task and metric, rows = backbones).
    func plan(for experiment: String, reader: ResultReader) throws -> ExperimentReportPlan {
        let spec = specs[experiment]
        let origin = spec.map { SpecLoaderPaths.display($0.file) } ?? "automatic"
        let vocabulary = reportVocabulary(spec: spec)
        let declared = spec?.tables ?? []
        var tables = spec.map { spec in declared.filter { $0.kind != .convergence }.map { Self.request($0, in: spec, vocabulary: vocabulary) } } ?? []
        let convergence = spec.map { spec in
            declared.filter { $0.kind == .convergence }.map { Self.convergenceRequest($0, in: spec, vocabulary: vocabulary) }
        } ?? []
        var figures: [ExperimentReportPlan.Figure] = spec.map { spec in
            spec.figures.map { figure -> ExperimentReportPlan.Figure in
                let task = spec.tasks.first { $0.name == figure.task }
                return ExperimentReportPlan.Figure(name: figure.name, kind: figure.kind, task: figure.task, caption: figure.caption,
                                                   trainOrder: task?.matrix.strings("train") ?? [], testOrder: task?.matrix.strings("test") ?? [],
                                                   backboneOrder: task?.matrix.backbone ?? [],
                                                   multiclass: task?.options["target"]?.stringValue == "multiclass")
            }
        } ?? []
        if tables.isEmpty, convergence.isEmpty {
            tables = try Self.automaticTables(experiment: experiment, reader: reader, vocabulary: vocabulary)
        }
        if figures.isEmpty { figures = try Self.automaticFigures(experiment: experiment, reader: reader) }
        var plan = ExperimentReportPlan(experiment: experiment, tables: tables, figures: figures,
                                        origin: tables.isEmpty && figures.isEmpty ? "automatic" : origin)
        plan.convergence = convergence
        plan.smallSample = spec?.smallSample ?? Spec.defaultSmallSample
        return plan
    }

    /// A spec's convergence table as a request (rows default to backbones, columns to task and fraction).
    static func convergenceRequest(_ declaration: TableDeclaration, in spec: Spec, vocabulary: ReportVocabulary) -> ConvergenceRequest {
        let order = request(declaration, in: spec, vocabulary: vocabulary).valueOrder
        return ConvergenceRequest(name: declaration.name, experiment: spec.experiment, tasks: declaration.tasks,
                                  reference: declaration.reference ?? "", rows: declaration.rows.compactMap(ReportCoordinate.init(rawValue:)),
                                  columns: declaration.columns.compactMap(ReportCoordinate.init(rawValue:)), caption: declaration.caption,
                                  valueOrder: order, vocabulary: vocabulary)
    }

    /// A spec's table declaration as a report request, with value orders taken from the spec
    /// (backbones, heads, subgroups and labels in the order the task matrices list them).
    static func request(_ declaration: TableDeclaration, in spec: Spec, vocabulary: ReportVocabulary) -> ReportTableRequest {
        let tasks = declaration.tasks.compactMap { name in spec.tasks.first { $0.name == name } }
        var order: [ReportCoordinate: [String]] = [:]
        func add(_ coordinate: ReportCoordinate, _ values: [String]?) {
            for value in values ?? [] where !(order[coordinate] ?? []).contains(value) {
                order[coordinate, default: []].append(value)
            }
        }
        for task in tasks {
            for coordinate in [ReportCoordinate.backbone, .dataset, .head, .features, .train, .test] {
                add(coordinate, task.matrix.strings(coordinate.rawValue))
            }
            add(.label, task.options["labels"]?.listValue.map { $0.compactMap(\.stringValue) + [ResultCoordinates.allLabels] })
            add(.metric, (task.options["metric"]?.listValue ?? []).compactMap(\.stringValue))
        }
        return ReportTableRequest(
            name: declaration.name, experiment: spec.experiment, tasks: declaration.tasks,
            rows: declaration.rows.compactMap(ReportCoordinate.init(rawValue:)),
            columns: declaration.columns.compactMap(ReportCoordinate.init(rawValue:)),
            metric: declaration.metric, summary: ReportSummary(rawValue: declaration.summary?.rawValue ?? "") ?? .meanStd,
            caption: declaration.caption, valueOrder: order, vocabulary: vocabulary, showCount: declaration.showCount ?? false,
            significance: declaration.significance.map { SignificanceMarks(alpha: $0.alpha ?? 0.05, holm: $0.correction != "none") },
            smallSampleThreshold: spec.smallSample)
    }

    /// One table per task and metric (all Precision@k of a task in one table), rows = backbones,
    /// columns = k for retrieval, the test subgroup for fairness (rows then backbone and training
    /// subgroup) and the training fraction otherwise; whatever else varies is added to the
    /// columns by the layout.
    static func automaticTables(experiment: String, reader: ResultReader, vocabulary: ReportVocabulary) throws -> [ReportTableRequest] {
        var requests: [ReportTableRequest] = []
        let fairnessTasks = Set(try reader.tasksWithReplicates(experiment: experiment).map(\.task))
        for (task, recordedMetrics) in try reader.recordedTasks(experiment: experiment) {
            // Interval bounds (`auroc-ci-low`) belong to the figure, not to tables of their own.
            let metrics = recordedMetrics.map(MetricName.init).filter { $0.bound == nil }
            if fairnessTasks.contains(task) {
                for metric in metrics {
                    requests.append(ReportTableRequest(
                        name: fileStem("\(experiment)-\(task)-\(metric)"), experiment: experiment, tasks: [task],
                        rows: [.backbone, .train], columns: [.test], metric: metric.description, summary: .meanStd,
                        vocabulary: vocabulary, smallSampleThreshold: Spec.defaultSmallSample))
                }
                continue
            }
            // A family with a parameter (precision@5, precision@10) is one table over its parameter.
            var families: [String] = []
            for metric in metrics where metric.parameter != nil && !families.contains(metric.family) { families.append(metric.family) }
            for family in families {
                requests.append(ReportTableRequest(
                    name: fileStem("\(experiment)-\(task)-\(family)"), experiment: experiment, tasks: [task],
                    rows: [.backbone], columns: [.k], metric: "\(family)@k", summary: .meanStd, vocabulary: vocabulary))
            }
            for metric in metrics where metric.parameter == nil {
                requests.append(ReportTableRequest(
                    name: fileStem("\(experiment)-\(task)-\(metric)"), experiment: experiment, tasks: [task],
                    rows: [.backbone], columns: [.fraction], metric: metric.description, summary: .meanStd, vocabulary: vocabulary,
                    smallSampleThreshold: Spec.defaultSmallSample))
            }
        }
        return requests
    }

    /// Fairness box plots for every task with bootstrap replicates, a retrieval gallery for
    /// every retrieval task, and example panels for every segmentation task.
    static func automaticFigures(experiment: String, reader: ResultReader) throws -> [ExperimentReportPlan.Figure] {
        var figures: [ExperimentReportPlan.Figure] = []
        var seen = Set<String>()
        for (task, _) in try reader.tasksWithReplicates(experiment: experiment) where seen.insert(task).inserted {
            figures.append(.init(name: fileStem("\(experiment)-\(task)-fairness"), kind: .fairnessBoxplot, task: task))
        }
        // Every retrieval task gets a gallery; one without recorded neighbours is skipped with a note.
        for (task, metrics) in try reader.recordedTasks(experiment: experiment)
        where metrics.contains(where: { MetricName($0).family == "precision" && MetricName($0).parameter != nil }) {
            figures.append(.init(name: fileStem("\(experiment)-\(task)-gallery"), kind: .retrievalGallery, task: task))
        }
        for task in try reader.segmentationTasks(experiment: experiment) {
            figures.append(.init(name: fileStem("\(experiment)-\(task)-examples"), kind: .segmentationExamples, task: task))
        }
        return figures
    }
}

/// A name made safe as a file stem: letters, digits, `-`, `_` and `.` kept, the rest `-`.
func fileStem(_ name: String) -> String {
    String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "-" })
}

/// Paths shown to users: relative to the working directory when inside it.
enum SpecLoaderPaths {
    static func display(_ url: URL) -> String {
        let current = FileManager.default.currentDirectoryPath
        let path = url.standardizedFileURL.path
        return path.hasPrefix(current + "/") ? String(path.dropFirst(current.count + 1)) : path
    }
}

/// Display names from the spec (`display:` of backbones, datasets, heads and tasks; `labels:`)
/// and metric presentations from the registry's metric registrations.
func reportVocabulary(spec: Spec?) -> ReportVocabulary {
    var metrics: [String: ReportVocabulary.Metric] = [:]
    for spelling in makeRegistry().catalog.metrics {
        // A parameterised spelling (`precision@k`, shown `P@k`) presents its family.
        let family = spelling.spelling.hasSuffix("@k") ? String(spelling.spelling.dropLast(2)) : spelling.spelling
        let display = spelling.displayName.hasSuffix("@k") ? String(spelling.displayName.dropLast(1)) : spelling.displayName
        // A metric registered by name (`ece`) keeps its own presentation beside its family
        // (`ece@k`, shown `ECE@10`), whose parameter is appended to that name.
        if spelling.spelling.hasSuffix("@k"), metrics[family] != nil { continue }
        metrics[family] = ReportVocabulary.Metric(displayName: display, higherIsBetter: spelling.higherIsBetter)
    }
    var names: [ReportCoordinate: [String: String]] = [:]
    if let spec {
        names[.backbone] = spec.backbones.compactMapValues(\.display)
        names[.dataset] = spec.datasets.compactMapValues(\.display)
        names[.head] = spec.heads.compactMapValues(\.display)
        names[.task] = Dictionary(spec.tasks.compactMap { task in task.display.map { (task.name, $0) } }, uniquingKeysWith: { first, _ in first })
        names[.label] = spec.labelDisplayNames
    }
    return ReportVocabulary(names: names, metrics: metrics)
}
