import Foundation
import Pipeline
import Results

/// A stage's state in a plan.
public enum PlanState: String, Sendable, Hashable, CaseIterable, Codable {
    /// Its artifact is in the cache: nothing to compute.
    case cached
    /// It will be computed.
    case toRun = "to run"
    /// It cannot be computed by this build (no runner for its kind, or an input that cannot be).
    case blocked
}

/// One stage of a plan.
public struct PlannedStage: Sendable, Hashable {
    /// The stage.
    public var stage: Stage
    /// Its state.
    public var state: PlanState
    /// Why it is blocked, when it is.
    public var reason: String?
}

/// What `Engine.plan` found: every stage with its state.
public struct PlanReport: Sendable {
    /// The experiment.
    public var experiment: String
    /// Stages in topological order.
    public var stages: [PlannedStage]
    /// What each embedding stage to run will add to the embedding store.
    public var storage: [StorageEstimate] = []
    /// Free bytes on the cache's file system, when known.
    public var freeBytes: Int64?
    /// Warnings the manifest stages recorded about their datasets (rows that contradict each
    /// other, unreadable images skipped), by stage; a run records them in `sample_issue`.
    public var sampleIssues: [SampleIssueRow] = []

    /// Stage counts by kind and state.
    public var counts: [StageKind: [PlanState: Int]] {
        stages.reduce(into: [:]) { $0[$1.stage.kind, default: [:]][$1.state, default: 0] += 1 }
    }

    /// Number of stages in `state`.
    public func count(_ state: PlanState) -> Int {
        stages.count { $0.state == state }
    }

    /// Output formats of `plan`.
    public enum Format: String, Sendable, CaseIterable {
        /// A list of stages and a table of counts per kind.
        case text
        /// Graphviz.
        case dot
    }

    /// Renders the plan.
    public func rendered(_ format: Format) -> String {
        switch format {
        case .text: return text()
        case .dot: return dot()
        }
    }

    /// One line per stage (state, kind, short key, label), then counts per kind.
    public func text() -> String {
        var lines: [String] = []
        lines.reserveCapacity(stages.count + 16)
        for planned in stages {
            var line = planned.state.rawValue.rightPadded(7) + "  " + planned.stage.kind.rawValue.rightPadded(9) + "  "
                + planned.stage.key.short + "  " + planned.stage.label
            if let reason = planned.reason { line += "  (\(reason))" }
            lines.append(line)
        }
        lines.append("")
        lines.append("kind       cached  to run  blocked  total")
        let counts = self.counts
        for kind in counts.keys.sorted() {
            let row = counts[kind] ?? [:]
            let values = [row[.cached] ?? 0, row[.toRun] ?? 0, row[.blocked] ?? 0]
            lines.append(kind.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
                         + values.map { String($0).leftPadded(8) }.joined() + String(values.reduce(0, +)).leftPadded(7))
        }
        lines.append("total    " + [count(.cached), count(.toRun), count(.blocked)].map { String($0).leftPadded(8) }.joined()
                     + String(stages.count).leftPadded(7))
        if !storage.isEmpty {
            let size = { ByteCountFormatter.string(fromByteCount: $0, countStyle: .file) }
            lines.append("")
            lines.append("embedding storage:")
            lines += storage.map { "  " + $0.description }
            let total = storage.reduce(Int64(0)) { $0 + $1.bytes }
            lines.append("  total \(size(total))" + (freeBytes.map { ", \(size($0)) free in the cache" } ?? ""))
        }
        if !sampleIssues.isEmpty {
            lines.append("")
            lines.append("\(sampleIssues.count) dataset warning\(sampleIssues.count == 1 ? "" : "s") (a run records them; "
                         + "`xrbench dataset SPEC NAME` lists a dataset's):")
            for issue in sampleIssues.prefix(5) {
                lines.append("  \(issue.dataset): " + (issue.line.map { "\(issue.file), line \($0)" } ?? issue.file) + ": \(issue.message)")
            }
            if sampleIssues.count > 5 { lines.append("  … \(sampleIssues.count - 5) more") }
        }
        return lines.joined(separator: "\n")
    }

    /// Graphviz: one node per stage coloured by state, one edge per input.
    public func dot() -> String {
        let colors: [PlanState: String] = [.cached: "palegreen", .toRun: "lightgoldenrod1", .blocked: "lightpink"]
        var lines = ["digraph \"\(escape(experiment))\" {", "  rankdir=LR;", "  node [shape=box, style=filled, fontname=\"Helvetica\"];"]
        for planned in stages {
            lines.append("  \"\(planned.stage.key.short)\" [label=\"\(escape(planned.stage.label))\\n\(planned.stage.key.short)\", "
                         + "fillcolor=\(colors[planned.state]!), tooltip=\"\(planned.state.rawValue)\"];")
        }
        for planned in stages {
            for role in planned.stage.inputs.keys.sorted() {
                lines.append("  \"\(planned.stage.inputs[role]!.short)\" -> \"\(planned.stage.key.short)\" [label=\"\(escape(role))\"];")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    /// Padded with spaces to `width`, or cut to it, as `padding(toLength:)` does (which is
    /// ten times slower: it showed in plans of 100,000 stages).
    func rightPadded(_ width: Int) -> String {
        count >= width ? String(prefix(width)) : self + String(repeating: " ", count: width - count)
    }
}

extension Engine {
    /// Plans a spec without running anything: each stage is cached, to run, or blocked.
    ///
    /// Incomplete or corrupt cache entries found on the way are removed (they are misses).
    /// - Throws: `SpecError` / `GraphError` (validation, missing files).
    public static func plan(specURL: URL, configuration: EngineConfiguration) throws -> PlanReport {
        let compiled = try compile(specURL: specURL, configuration: configuration)
        let cache = try ArtifactCache(root: configuration.cacheDirectory)
        // The manifests of datasets read from outside the cache run now: what they read keys the rest.
        let (graph, resolved) = try resolveVolatileStages(compiled.graph, cache: cache, configuration: configuration)
        try cache.saveDescriptors(graph.stages)
        var report = plan(graph, experiment: compiled.spec.experiment, cache: cache, runners: configuration.registry.runners,
                          thorough: configuration.verifyArtifacts)
        report.storage = storageEstimates(graph, toRun: Set(report.stages.filter { $0.state == .toRun }.map(\.stage.key)),
                                          cache: cache, registry: configuration.registry)
        report.freeBytes = freeBytes(at: cache.root)
        report.sampleIssues = resolved.flatMap { volatile in
            (try? StageOutputsFile.read(from: cache.directory(for: volatile.stage.key, kind: volatile.stage.kind)))?.sampleIssues ?? []
        }
        return report
    }

    static func plan(_ graph: StageGraph, experiment: String, cache: ArtifactCache, runners: StageRunnerRegistry, thorough: Bool) -> PlanReport {
        var positions: [StageKey: Int] = [:]
        var planned: [PlannedStage] = []
        planned.reserveCapacity(graph.stages.count)
        // One directory listing per kind spares a lookup for each stage not in the cache.
        var present: [StageKind: Set<StageKey>] = [:]
        for kind in Set(graph.stages.map(\.kind)) { present[kind] = cache.keysPresent(kind: kind) }
        for stage in graph.stages {
            var entry = PlannedStage(stage: stage, state: .toRun, reason: nil)
            if present[stage.kind]?.contains(stage.key) == true, case .present = cache.lookup(stage.key, kind: stage.kind, thorough: thorough) {
                entry.state = .cached
            } else if runners.runner(for: stage.kind) == nil {
                entry.state = .blocked
                entry.reason = "no runner for kind \(stage.kind.rawValue)"
            } else if let input = stage.inputs.values.compactMap({ positions[$0].map { planned[$0] } }).first(where: { $0.state == .blocked }) {
                entry.state = .blocked
                entry.reason = "needs blocked \(input.stage.label)"
            }
            positions[stage.key] = planned.count
            planned.append(entry)
        }
        return PlanReport(experiment: experiment, stages: planned)
    }
}
