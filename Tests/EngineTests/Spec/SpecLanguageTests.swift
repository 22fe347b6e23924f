import Engine
import Foundation
import Pipeline
import Testing

@Suite struct SpecLanguageTests {
    @Test func interpolationUsesEnvironmentAndDefaults() throws {
        let registry = """
            datasets:
              csv:
                kind: csv
                manifest: "${DATA:-data}/manifest.csv"
                label_columns: [a]
            backbones:
              pixels: {kind: pixels, size: "${SIZE:-16}"}
            """
        let folder = try makeFolder(files: ["registry.yaml": registry, "elsewhere/manifest.csv": "id\n"])
        let spec = try loadSpec("""
            experiment: "run-${WHO}"
            include: [registry.yaml]
            tasks:
              - name: views
                kind: retrieval
                k: [5]
                relevance: view
                matrix: {backbone: [pixels], dataset: [csv]}
            """, environment: ["WHO": "me", "DATA": folder.appendingPathComponent("elsewhere").path], in: folder)
        #expect(spec.experiment == "run-me")
        #expect(spec.datasets["csv"]?.options["manifest"]?.stringValue == folder.appendingPathComponent("elsewhere/manifest.csv").standardizedFileURL.path)
        #expect(spec.backbones["pixels"]?.options["size"] == .integer(16))
        #expect(spec.variableUses["datasets.csv.manifest"]?.first?.name == "DATA")
    }

    @Test func dollarDollarIsALiteralDollar() throws {
        let spec = try loadSpec("""
            experiment: "costs $$5"
            include: [registry.yaml]
            tasks:
              - {name: v, kind: retrieval, k: [5], relevance: view, matrix: {backbone: [pixels], dataset: [phantom]}}
            """, files: ["registry.yaml": testRegistry])
        #expect(spec.experiment == "costs $5")
    }

    @Test func decodesEveryTaskKind() throws {
        let spec = try loadSpec("""
            experiment: demo
            include: [registry.yaml]
            heads:
              wide: {kind: mlp, hidden: [1024], dropout: 0.1, learning_rate: 1e-3}
            subgroups:
              frontal: {view: [PA, AP]}
              adult: {age: {min: 18}}
            tasks:
              - name: views
                kind: retrieval
                k: [5, 10]
                relevance: [view, anatomy]
                queries: {subgroup: frontal}
                matrix: {backbone: [pixels], dataset: [phantom], features: [cls, mean]}
              - name: findings
                kind: classification
                labels: [nodule, effusion]
                metric: auroc
                aggregate: study
                matrix: {backbone: [pixels, tiny], dataset: [phantom], head: [wide, linear], fraction: [0.1, 1], seed: [0, 1]}
              - name: sex
                kind: fairness
                labels: [nodule]
                bootstrap: {replicates: 50, seed: 3}
                correction: holm
                comparisons: [[male, female]]
                matrix: {backbone: [pixels], dataset: [phantom], train: [male, female, all], test: [male, female]}
            tables:
              - {name: t2, tasks: findings, rows: backbone, columns: [dataset, fraction], metric: auroc, summary: mean-ci}
            figures:
              - {name: f4, kind: fairness-boxplot, task: sex}
            """, files: ["registry.yaml": testRegistry])
        #expect(spec.tasks.map(\.kind) == ["retrieval", "classification", "fairness"])
        #expect(spec.tasks[0].options["relevance"] == .list([.string("view"), .string("anatomy")]))
        #expect(spec.tasks[0].options["queries"]?["subgroup"] == .string("frontal"))
        #expect(spec.tasks[0].matrix.strings("features") == ["cls", "mean"])
        #expect(spec.tasks[1].options["metric"] == .list([.string("auroc")]))
        #expect(spec.tasks[1].options["aggregate"] == .string("study"))
        #expect(spec.tasks[1].matrix.numbers("fraction") == [0.1, 1])
        #expect(spec.heads["wide"]?.options["learning_rate"]?.doubleValue == 1e-3)
        #expect(spec.heads["mlp"]?.kind == "mlp")
        #expect(spec.subgroups["adult"]?.conditions["age"] == .object(["min": .integer(18)]))
        #expect(spec.tasks[2].options["bootstrap"]?["replicates"] == .integer(50))
        #expect(spec.tasks[2].options["correction"] == .string("holm"))
        #expect(spec.tables.first?.tasks == ["findings"])
        #expect(spec.tables.first?.summary == .meanCI)
        #expect(spec.figures.first?.kind == .fairnessBoxplot)
        #expect(spec.digest.count == 64)
    }

    @Test func exampleSpecsInTheRepositoryAreValid() throws {
        let experiments = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../Experiments/examples").standardizedFileURL
        let files = try FileManager.default.contentsOfDirectory(atPath: experiments.path).filter { $0.hasSuffix(".yaml") && $0 != "registry.yaml" }
        #expect(files.count >= 3)
        for file in files {
            do {
                let spec = try SpecLoader(catalog: Registry.standard.catalog, environment: [:]).load(experiments.appendingPathComponent(file))
                #expect(!spec.tasks.isEmpty, "\(file)")
            } catch {
                Issue.record("\(file): \(error)")
            }
        }
    }
}
