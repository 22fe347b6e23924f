import Foundation
import Pipeline
import Results

/// What `Engine.run` did.
public struct RunReport: Sendable {
    /// The run's id in the results store.
    public var runID: Int64
    /// The experiment.
    public var experiment: String
    /// Stages in the graph.
    public var totalStages: Int
    /// Stages computed in this run.
    public var executed: Int
    /// Stages taken from the cache.
    public var cached: Int
    /// Cached stages whose rows were missing from the store and were recorded from the artifact.
    public var rerecorded: Int
    /// Cached artifacts found incomplete or corrupt and rebuilt.
    public var rebuilt: Int
    /// Failed stages: label, key and error.
    public var failures: [(label: String, key: StageKey, message: String)]
    /// Stages not run because something they depend on failed.
    public var blocked: Int
    /// Stages not run because the run was interrupted.
    public var interrupted: Int
    /// Wall-clock seconds.
    public var seconds: Double
    /// Results this run's stages recorded without a value, with why.
    public var valuelessResults: [ValuelessResult] = []
    /// Dataset warnings recorded by the stages this run used (contradicting patient facts, ...).
    public var sampleIssues: [SampleIssueRow] = []
    /// Values computed on fewer test samples than the spec's `small_sample` threshold.
    public var smallSamples: [SmallSampleGroup] = []
    /// That threshold.
    public var smallSampleThreshold = Spec.defaultSmallSample
    /// Stages left running elsewhere by `--detach` (recorded as interrupted until a later run collects them).
    public var detached: Int = 0
    /// What the executor says it did (submissions, status queries, retries).
    public var executorNotes: [String] = []

    /// The run's final status (a detached run is `interrupted` until a later run collects it).
    public var status: RunStatus {
        if !failures.isEmpty { return .failed }
        if interrupted > 0 || detached > 0 { return .interrupted }
        return .succeeded
    }

    /// 0 on success (and after `--detach`), 1 when a stage failed, 130 when interrupted (as
    /// shells report SIGINT).
    public var exitCode: Int32 {
        if detached > 0 && failures.isEmpty { return 0 }
        switch status {
        case .succeeded, .running: return 0
        case .failed: return 1
        case .interrupted: return 130
        }
    }

    /// A few lines for the terminal: counts, then each failure.
    public var summary: String {
        let state = detached > 0 && failures.isEmpty ? "detached" : status.rawValue
        var lines = ["run \(runID) of \(experiment): \(state) in \(formatSeconds(seconds)) — "
            + "\(totalStages) stages: \(executed) computed, \(cached) cached"
            + (rerecorded > 0 ? " (\(rerecorded) re-recorded)" : "")
            + (rebuilt > 0 ? ", \(rebuilt) corrupt artifacts rebuilt" : "")
            + (failures.isEmpty ? "" : ", \(failures.count) failed")
            + (blocked > 0 ? ", \(blocked) blocked" : "")
            + (interrupted > 0 ? ", \(interrupted) interrupted" : "")
            + (detached > 0 ? ", \(detached) left running" : "")]
        lines += executorNotes.map { "  " + $0 }
        for failure in failures {
            lines.append("  failed: \(failure.label) [\(failure.key.short)]: \(failure.message)")
        }
        if blocked > 0 { lines.append("  \(blocked) stages depending on failed stages did not run; fix the failures and run again") }
        if interrupted > 0 { lines.append("  interrupted: run the same command again to resume") }
        if detached > 0 {
            lines.append("  detached: run the same command again (without --detach) or `xrbench runs --sync` to wait for them and record their results")
        }
        if !valuelessResults.isEmpty { lines += valuelessSummary }
        if !sampleIssues.isEmpty { lines += sampleIssueSummary }
        if !smallSamples.isEmpty { lines += smallSampleSummary }
        return lines.joined(separator: "\n")
    }

    /// A warning per test subgroup with fewer samples than the threshold (the first five).
    var smallSampleSummary: [String] {
        var lines = ["  warning: \(smallSamples.count) test subgroup\(smallSamples.count == 1 ? "" : "s") with fewer than "
            + "\(smallSampleThreshold) test samples; their values are marked ‡ in tables and figures, and differences between "
            + "them (Mann–Whitney stars included) are anecdotal (docs/RESULTS.md#small-samples):"]
        for group in smallSamples.prefix(5) {
            lines.append("    \(group.task) on \(group.dataset), test subgroup \(group.testSubgroup): \(group.fewestSamples) samples "
                + "behind \(group.values) value\(group.values == 1 ? "" : "s")")
        }
        if smallSamples.count > 5 { lines.append("    … and \(smallSamples.count - 5) more") }
        return lines
    }

    /// How many results have no value, grouped by reason, with the first few.
    var valuelessSummary: [String] {
        var byReason: [String: Int] = [:]
        var order: [String] = []
        for result in valuelessResults {
            let reason = Self.generalised(result.note)
            if byReason[reason] == nil { order.append(reason) }
            byReason[reason, default: 0] += 1
        }
        var lines = ["  \(valuelessResults.count) result\(valuelessResults.count == 1 ? "" : "s") without a value (NULL in the database), by reason:"]
        for reason in order.sorted(by: { byReason[$0]! > byReason[$1]! }).prefix(5) {
            lines.append("    \(byReason[reason]!) × \(reason)")
        }
        if order.count > 5 { lines.append("    … and \(order.count - 5) other reasons") }
        lines.append("  first: " + valuelessResults.prefix(3).map { "\($0.task)/\($0.backbone)/\($0.label.isEmpty ? "macro" : $0.label)/\($0.metric)" }
            .joined(separator: ", ") + " (xrbench query \"SELECT * FROM latest_result WHERE value IS NULL\")")
        return lines
    }

    /// How many dataset warnings were recorded, with the first few.
    var sampleIssueSummary: [String] {
        let count = sampleIssues.count
        var lines = ["  \(count) dataset warning\(count == 1 ? "" : "s") recorded (xrbench query \"SELECT * FROM latest_sample_issue\"):"]
        for issue in sampleIssues.prefix(3) {
            lines.append("    \(issue.dataset): " + (issue.line.map { "\(issue.file), line \($0)" } ?? issue.file) + ": \(issue.message)")
        }
        if count > 3 { lines.append("    … \(count - 3) more") }
        return lines
    }

    /// A note with its numbers replaced by `N`, so that notes differing only in counts group together.
    static func generalised(_ note: String) -> String {
        var output = ""
        var inNumber = false
        for character in note {
            if character.isNumber {
                if !inNumber { output += "N" }
                inNumber = true
            } else {
                if !(inNumber && character == ".") { output.append(character) }
                inNumber = inNumber && character == "."
            }
        }
        return output
    }
}

extension Engine {
    /// Runs a spec: validates and compiles it, takes what it can from the cache, computes the
    /// rest through the configured executor, records everything in the results store.
    ///
    /// Every stage of the graph gets a `stage_execution` row in this run: `succeeded`, `cached`,
    /// `failed`, `blocked` or `interrupted`; the `latest_` views follow the stages of an
    /// experiment's latest run. Re-running a finished spec computes nothing and adds no result
    /// rows. After a crash or `kill -9` the next run redoes only unfinished stages: committed
    /// artifacts are complete by construction, and a cached stage whose rows never reached the
    /// store is recorded from the `outputs.json` in its artifact.
    /// - Throws: `SpecError` / `GraphError` before any work; `EngineError.unknownExecutor`; cache
    ///   and store errors that stop the whole run. A failing stage does not throw: it is in the report.
    public static func run(specURL: URL, configuration: EngineConfiguration) throws -> RunReport {
        let began = Date()
        let compiled = try compile(specURL: specURL, configuration: configuration)
        guard let executorKind = configuration.registry.executors[configuration.executor] else {
            throw EngineError.unknownExecutor(name: configuration.executor, known: configuration.registry.executors.keys.sorted())
        }
        let cache = try ArtifactCache(root: configuration.cacheDirectory)
        cache.removeStaleTemporaries()
        var interruptHandler: InterruptHandler?
        if configuration.handlesInterrupts { interruptHandler = InterruptHandler(flag: configuration.cancellation) }
        defer { withExtendedLifetime(interruptHandler) {} }
        // Datasets read from outside the cache: their manifests run first, and what they read keys the rest.
        let (graph, volatile) = try resolveVolatileStages(compiled.graph, cache: cache, configuration: configuration)
        try cache.saveDescriptors(graph.stages)
        let executor = try executorKind.makeExecutor(ExecutorEnvironment(
            cache: cache, registry: configuration.registry, jobs: configuration.jobs, logger: configuration.logger,
            stageKinds: Dictionary(uniqueKeysWithValues: graph.stages.map { ($0.key, $0.kind) }),
            profile: try executorProfile(executorKind, spec: compiled.spec, configuration: configuration),
            profileFile: configuration.executorProfile, specURL: specURL.standardizedFileURL, cancellation: configuration.cancellation))
        if configuration.detach, !executor.supportsDetach { throw EngineError.cannotDetach(executor: configuration.executor) }
        let store = try ResultStore(path: configuration.databasePath)
        // Runs of this machine whose process was killed (kill -9) still say `running`.
        try store.markRunsOfEndedProcesses(host: ProcessInfo.processInfo.hostName)
        let runID = try store.beginRun(RunRecord(
            specDigest: compiled.spec.digest, experiment: compiled.spec.experiment, engineVersion: configuration.engineVersion,
            gitCommit: gitCommit(near: specURL), host: ProcessInfo.processInfo.hostName, startedAt: began,
            specPath: specURL.standardizedFileURL.path))
        let recorder = RunRecorder(executor: executor, cache: cache, store: store, runID: runID)

        let triage = try triage(graph, cache: cache, thorough: configuration.verifyArtifacts)
        do {
            try checkSpace(storageEstimates(graph, toRun: Set(triage.toRun.map { graph.stages[$0].key }), cache: cache,
                                            registry: configuration.registry), cache: cache)
        } catch {
            try? store.finishRun(id: runID, status: .failed, endedAt: Date())
            throw error
        }
        var rerecorded = 0
        var toRun = triage.toRun
        var cachedRecords: [StageExecutionRecord] = []
        let withOutputs = try store.stageKeysWithOutputs(among: triage.cached.map { graph.stages[$0].key.rawValue })
        var volatileComputed = 0
        for entry in volatile {
            if entry.outcome == .computed || !withOutputs.contains(entry.stage.key.rawValue) { try recorder.recordOutputs(of: entry.stage) }
            if entry.outcome == .computed { volatileComputed += 1 }
            cachedRecords.append(recorder.execution(entry.stage, entry.outcome == .computed ? .succeeded : .cached,
                                                    seconds: entry.outcome == .computed ? entry.seconds : nil))
        }
        let volatileKeys = Set(volatile.map(\.stage.key))
        for index in triage.cached where !volatileKeys.contains(graph.stages[index].key) {
            let stage = graph.stages[index]
            if !withOutputs.contains(stage.key.rawValue) {
                do {
                    try recorder.recordOutputs(of: stage)
                    rerecorded += 1
                } catch let error as EngineError {
                    // An artifact whose outputs.json is unreadable is corrupt: rebuild it.
                    configuration.logger.warning("\(stage.label): \(error); rebuilding")
                    cache.remove(stage.key, kind: stage.kind)
                    toRun.insert(index)
                    continue
                }
            }
            cachedRecords.append(recorder.execution(stage, .cached))
        }
        try store.recordStageExecutions(cachedRecords)
        let stagesToRun = graph.stages.indices.filter { toRun.contains($0) }.map { graph.stages[$0] }
        do {
            try executor.begin(ExecutorRun(runID: runID, stages: stagesToRun))
        } catch {
            try? store.finishRun(id: runID, status: .failed, endedAt: Date())
            throw error
        }
        if configuration.detach {
            return try detach(stagesToRun, executor: executor, recorder: recorder, store: store, report: RunReport(
                runID: runID, experiment: compiled.spec.experiment, totalStages: graph.stages.count, executed: volatileComputed,
                cached: graph.stages.count - stagesToRun.count - volatileComputed, rerecorded: rerecorded, rebuilt: triage.corrupt,
                failures: [], blocked: 0, interrupted: 0, seconds: 0), began: began)
        }
        // An executor that runs stages elsewhere counts each as one thread of its budget.
        let scheduled = stagesToRun.map { stage -> Stage in
            var handed = stage
            handed.threads = executor.threadNeed(of: stage)
            return handed
        }
        let scheduler = Scheduler(jobs: executor.budget, observer: configuration.observer)
        let schedule = scheduler.run(scheduled, executor: recorder, cancellation: configuration.cancellation)
        configuration.observer?.finished()
        let notes = executor.end(interrupted: configuration.cancellation.isCancelled)

        var failures: [(String, StageKey, String)] = []
        var blocked = 0
        var interrupted = 0
        var unfinished: [StageExecutionRecord] = []
        for stage in stagesToRun {
            switch schedule.outcomes[stage.key] {
            case .failed(let message, _)?:
                failures.append((stage.label, stage.key, message))
            case .skipped?:
                blocked += 1
                unfinished.append(recorder.execution(stage, .blocked))
            case .cancelled?, nil:
                interrupted += 1
                unfinished.append(recorder.execution(stage, .interrupted))
            case .succeeded?:
                break
            }
        }
        try? store.recordStageExecutions(unfinished)
        let elsewhere = recorder.committedElsewhere
        var report = RunReport(
            runID: runID, experiment: compiled.spec.experiment, totalStages: graph.stages.count,
            executed: schedule.succeeded.count - elsewhere + volatileComputed,
            cached: graph.stages.count - stagesToRun.count + elsewhere - volatileComputed,
            rerecorded: rerecorded, rebuilt: triage.corrupt, failures: failures, blocked: blocked, interrupted: interrupted, seconds: 0)
        report.executorNotes = notes
        report.valuelessResults = (try? store.valuelessResults(runID: runID)) ?? []
        report.sampleIssues = (try? store.sampleIssues(runID: runID)) ?? []
        report.smallSampleThreshold = compiled.spec.smallSample
        report.smallSamples = (try? store.smallSampleGroups(runID: runID, threshold: compiled.spec.smallSample)) ?? []
        report.seconds = Date().timeIntervalSince(began)
        try store.finishRun(id: runID, status: report.status, endedAt: Date())
        return report
    }

    /// `--detach`: the executor starts every stage and returns; they are recorded `interrupted`
    /// until a later run collects them.
    private static func detach(_ stages: [Stage], executor: any Executor, recorder: RunRecorder, store: ResultStore,
                               report: RunReport, began: Date) throws -> RunReport {
        var report = report
        do {
            report.detached = try executor.detach()
        } catch {
            report.executorNotes = executor.end(interrupted: true)
            try? store.finishRun(id: recorder.runID, status: .failed, endedAt: Date())
            throw error
        }
        try store.recordStageExecutions(stages.map { recorder.execution($0, .interrupted) })
        report.executorNotes = executor.end(interrupted: false)
        report.seconds = Date().timeIntervalSince(began)
        try store.finishRun(id: recorder.runID, status: .interrupted, endedAt: Date())
        return report
    }

    /// The executor's profile: the spec's `executors.<name>` section, with the fields of the
    /// `--profile` file over it.
    /// - Throws: `SpecError` for a profile file that does not validate; `CacheError`-like read errors.
    static func executorProfile(_ kind: any ExecutorKind, spec: Spec, configuration: EngineConfiguration) throws -> [String: ParameterValue] {
        var profile = spec.executors[kind.name] ?? [:]
        if let file = configuration.executorProfile {
            let text: String
            do {
                text = try String(contentsOf: file, encoding: .utf8)
            } catch {
                throw EngineError.unreadableProfile(path: file.path, reason: error.localizedDescription)
            }
            let loader = SpecLoader(catalog: configuration.registry.catalog, environment: configuration.environment)
            profile.merge(try loader.loadOptions(yaml: text, fields: kind.options, origin: file.path,
                                                 directory: file.deletingLastPathComponent())) { _, fromFile in fromFile }
        }
        return profile
    }

    /// Which stages are cached and which must run.
    ///
    /// Walks the graph from sinks to sources: a stage to run needs its inputs, so those are
    /// verified thoroughly (every file hashed); one found corrupt is removed and run again.
    static func triage(_ graph: StageGraph, cache: ArtifactCache, thorough: Bool) throws -> (cached: [Int], toRun: Set<Int>, corrupt: Int) {
        var present = [Bool](repeating: false, count: graph.stages.count)
        var corrupt = 0
        for (index, stage) in graph.stages.enumerated() {
            switch cache.lookup(stage.key, kind: stage.kind, thorough: thorough) {
            case .present: present[index] = true
            case .corrupt: corrupt += 1
            case .missing: break
            }
        }
        var verified = [Bool](repeating: thorough, count: graph.stages.count)
        for index in graph.stages.indices.reversed() where !present[index] {
            for key in graph.stages[index].inputs.values {
                guard let input = graph.index[key], present[input], !verified[input] else { continue }
                verified[input] = true
                if case .corrupt = cache.lookup(key, kind: graph.stages[input].kind, thorough: true) {
                    present[input] = false
                    corrupt += 1
                }
            }
        }
        let toRun = Set(graph.stages.indices.filter { !present[$0] })
        return (graph.stages.indices.filter { present[$0] }, toRun, corrupt)
    }

    /// The commit checked out in the git work tree around `url`, read from `.git` without
    /// running git (`nil` outside a work tree).
    static func gitCommit(near url: URL) -> String? {
        var folder = url.standardizedFileURL.deletingLastPathComponent()
        for _ in 0..<32 {
            let dotGit = folder.appendingPathComponent(".git")
            var gitDirectory = dotGit
            if let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir:") {
                let path = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
                gitDirectory = URL(fileURLWithPath: path, relativeTo: folder).standardizedFileURL
            }
            if let head = try? String(contentsOf: gitDirectory.appendingPathComponent("HEAD"), encoding: .utf8) {
                let trimmed = head.trimmingCharacters(in: .whitespacesAndNewlines)
                guard trimmed.hasPrefix("ref: ") else { return trimmed }
                let reference = String(trimmed.dropFirst(5))
                for base in [gitDirectory, commonDirectory(of: gitDirectory)] {
                    if let value = try? String(contentsOf: base.appendingPathComponent(reference), encoding: .utf8) {
                        return value.trimmingCharacters(in: .whitespacesAndNewlines)
                    }
                    if let packed = try? String(contentsOf: base.appendingPathComponent("packed-refs"), encoding: .utf8),
                       let line = packed.split(separator: "\n").first(where: { $0.hasSuffix(" " + reference) }) {
                        return String(line.prefix(while: { $0 != " " }))
                    }
                }
                return nil
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return nil }
            folder = parent
        }
        return nil
    }

    private static func commonDirectory(of gitDirectory: URL) -> URL {
        guard let text = try? String(contentsOf: gitDirectory.appendingPathComponent("commondir"), encoding: .utf8) else { return gitDirectory }
        return URL(fileURLWithPath: text.trimmingCharacters(in: .whitespacesAndNewlines), relativeTo: gitDirectory).standardizedFileURL
    }
}
