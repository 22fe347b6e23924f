import Engine
import Foundation
import Pipeline
import Testing

/// A probe spec over `backbones` × 1 dataset × 2 heads × 2 fractions × 2 seeds.
func probeSpec(backbones: String = "[pixels, tiny]", dropout: Double = 0.2, extraTask: String = "") -> String {
    """
    experiment: demo
    include: [registry.yaml]
    heads:
      small: {kind: mlp, hidden: [16], dropout: \(dropout)}
    tasks:
      - name: findings
        kind: classification
        labels: [nodule, effusion]
        metric: [auroc, mcc]
        matrix:
          backbone: \(backbones)
          dataset: [phantom]
          head: [small, linear]
          fraction: [0.1, 1.0]
          seed: [0, 1]
    \(extraTask)
    """
}

func compile(_ yaml: String, folder: URL? = nil) throws -> CompiledSpec {
    let spec = try loadSpec(yaml, files: ["registry.yaml": testRegistry], in: folder)
    return try GraphBuilder.compile(spec, catalog: Registry.standard.catalog, options: Registry.standard.compileOptions, digester: FileDigester(memoURL: nil))
}

@Suite struct GraphTests {
    @Test func compileSharesManifestsEmbeddingsAndSplits() throws {
        let compiled = try compile(probeSpec())
        let counts = compiled.graph.countsByKind
        #expect(counts[.manifest] == 1)
        #expect(counts[.embed] == 2)          // one per backbone, shared by every head, fraction, seed
        #expect(counts[.split] == 4)          // fraction × seed, shared by both backbones and heads
        #expect(counts[.probe] == 16)         // backbone × head × fraction × seed
        #expect(counts[.metric] == 16)
        #expect(compiled.graph.stages.count == 39)
        // Inputs come before the stages that read them.
        for (position, stage) in compiled.graph.stages.enumerated() {
            for key in stage.inputs.values { #expect(compiled.graph.index[key]! < position) }
        }
    }

    @Test func splitsDoNotDependOnTheBackbone() throws {
        let both = try compile(probeSpec())
        let pixelsOnly = try compile(probeSpec(backbones: "[pixels]"))
        let tinyOnly = try compile(probeSpec(backbones: "[tiny]"))
        let splitKeys = { (compiled: CompiledSpec) in Set(compiled.graph.stages.filter { $0.kind == .split }.map(\.key)) }
        #expect(splitKeys(pixelsOnly) == splitKeys(tinyOnly))
        #expect(splitKeys(both) == splitKeys(pixelsOnly))
        // Every probe of either backbone reads one of those splits.
        let probeSplits = Set(both.graph.stages.filter { $0.kind == .probe }.compactMap { $0.inputs["split"] })
        #expect(probeSplits == splitKeys(both))
    }

    @Test func twoTasksOnOneDatasetShareItsManifestAndEmbeddings() throws {
        let compiled = try compile(probeSpec(extraTask: """
              - name: views
                kind: retrieval
                k: [5]
                relevance: view
                matrix: {backbone: [pixels], dataset: [phantom]}
            """))
        #expect(compiled.graph.countsByKind[.manifest] == 1)
        #expect(compiled.graph.countsByKind[.embed] == 2)
        #expect(compiled.graph.countsByKind[.retrieval] == 1)
    }

    @Test func changingOneHeadParameterChangesOnlyItsDownstreamKeys() throws {
        let before = try compile(probeSpec(dropout: 0.2))
        let after = try compile(probeSpec(dropout: 0.3))
        let beforeKeys = Set(before.graph.stages.map(\.key))
        let changed = after.graph.stages.filter { !beforeKeys.contains($0.key) }
        // Only the `small` head's probes (2 backbones × 2 fractions × 2 seeds) and their metrics.
        #expect(changed.count == 16)
        #expect(Set(changed.map(\.kind)) == [.probe, .metric])
        #expect(changed.filter { $0.kind == .probe }.allSatisfy { $0.label.contains(" small ") })
    }

    @Test func fairnessCompilesBootstrapsAndOneComparisonFamilyPerCell() throws {
        let compiled = try compile("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - name: sex
                kind: fairness
                labels: [nodule]
                correction: holm
                matrix: {backbone: [pixels], dataset: [phantom], seed: [0, 1], train: [male, female, all], test: [male, female]}
            """)
        let counts = compiled.graph.countsByKind
        #expect(counts[.split] == 6)        // seed × train subgroup
        #expect(counts[.probe] == 6)
        #expect(counts[.bootstrap] == 12)   // × test subgroup
        #expect(counts[.metric] == 12)
        #expect(counts[.compare] == 2)      // one family per seed
        let compare = try #require(compiled.graph.stages.first { $0.kind == .compare })
        let parameters = try compare.parameters.decode(CompareParameters.self)
        #expect(parameters.comparisons.count == 6) // 3 pairs × 2 test subgroups
        #expect(parameters.correction == .holm)
        #expect(compare.inputs.count == 6)
        #expect(compare.inputs["bootstrap.male.female"] != nil)
    }

    @Test func stageKeysAreCanonical() {
        let first = Stage(kind: .split, codeVersion: 1, parameters: .object(["b": .integer(1), "a": .number(1.0)]), label: "x")
        let second = Stage(kind: .split, codeVersion: 1, parameters: .object(["a": .integer(1), "b": .number(1)]), label: "y")
        #expect(first.key == second.key)
        let bumped = Stage(kind: .split, codeVersion: 2, parameters: .object(["a": .integer(1), "b": .integer(1)]), label: "x")
        #expect(bumped.key != first.key)
        #expect(ParameterValue.object(["b": .list([.string("é\n"), .null]), "a": .bool(true)]).canonicalJSON
                == #"{"a":true,"b":["é\n",null]}"#)
    }

    @Test func cycleErrorNamesTheStagesInTheCycle() {
        let a = StageKey(String(repeating: "a", count: 64))
        let b = StageKey(String(repeating: "b", count: 64))
        let c = StageKey(String(repeating: "c", count: 64))
        let stages = [
            Stage(key: a, kind: .embed, inputs: ["x": c], label: "A"),
            Stage(key: b, kind: .probe, inputs: ["x": a], label: "B"),
            Stage(key: c, kind: .metric, inputs: ["x": b], label: "C"),
            Stage(key: StageKey("d"), kind: .metric, inputs: ["x": c], label: "D"),
        ]
        #expect(throws: GraphError.cycle(["A", "B", "C", "A"])) { try StageGraph(stages) }
        do {
            _ = try StageGraph(stages)
        } catch {
            #expect("\(error)" == "the stages form a cycle: A → B → C → A")
        }
    }

    @Test func missingInputIsAnError() {
        let missing = StageKey(String(repeating: "f", count: 64))
        let stages = [Stage(key: StageKey("p"), kind: .probe, inputs: ["embed": missing], label: "probe X")]
        #expect(throws: GraphError.missingInput(stage: "probe X", role: "embed", key: missing)) { try StageGraph(stages) }
    }

    @Test func missingFilesAreReportedWithTheVariableBehindThem() throws {
        let registry = """
            datasets:
              chexpert: {kind: chexpert, root: "${ROOT:-/nonexistent/xr}", train_csv: "${ROOT:-/nonexistent/xr}/train.csv"}
            backbones:
              dino: {kind: dinov2, path: /nonexistent/models/dinov2-base}
            """
        let spec = try loadSpec("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - {name: v, kind: retrieval, k: [5], relevance: view, matrix: {backbone: [dino], dataset: [chexpert]}}
            """, files: ["registry.yaml": registry])
        do {
            _ = try GraphBuilder.compile(spec, catalog: Registry.standard.catalog, options: Registry.standard.compileOptions, digester: FileDigester(memoURL: nil))
            Issue.record("compiled despite missing files")
        } catch let error as SpecError {
            #expect(error.diagnostics.count == 3, "\(error)")
            #expect(error.diagnostics.allSatisfy { $0.kind == .missingFile })
            let csv = try #require(error.diagnostics.first { $0.keyPath == "datasets.chexpert.train_csv" })
            #expect(csv.location.line == 2 && csv.location.column == 75)
            #expect(csv.message.contains("ROOT is not set, so its default"))
        }
    }

    @Test func fileDigestsAreMemoisedBySizeAndTime() throws {
        let folder = try makeFolder(files: ["weights.bin": String(repeating: "w", count: 10_000)])
        let memo = folder.appendingPathComponent("memo.json")
        let path = folder.appendingPathComponent("weights.bin").path
        let digester = FileDigester(memoURL: memo)
        let first = try digester.digest(ofFile: path)
        try digester.save()
        let reopened = FileDigester(memoURL: memo)
        #expect(try reopened.digest(ofFile: path) == first)
        #expect(reopened.bytesHashed == 0)        // answered from the memo
        try String(repeating: "v", count: 10_001).write(toFile: path, atomically: false, encoding: .utf8)
        #expect(try reopened.digest(ofFile: path) != first)
        #expect(reopened.bytesHashed == 10_001)
    }
}
