import Engine
import Foundation
import Pipeline
import Testing

/// Specs whose matrices multiply out to absurd sizes are refused before anything is built, with
/// each task's count and axis sizes; the limit can be raised.
@Suite struct StageLimitTests {
    /// 1,000 heads × 1,000 fractions × 1,000 seeds: 3 × 10^9 stages (a split, a probe and a metric per cell).
    private func absurdSpec() -> String {
        let heads = (0..<1000).map { "h\($0): {kind: linear}" }.joined(separator: ", ")
        return """
            experiment: absurd
            include: [registry.yaml]
            heads: {\(heads)}
            tasks:
              - name: findings
                kind: classification
                labels: [nodule]
                metric: auroc
                matrix:
                  backbone: [pixels]
                  dataset: [phantom]
                  head: [\((0..<1000).map { "h\($0)" }.joined(separator: ", "))]
                  fraction: [\((1...1000).map { String(Double($0) / 1000) }.joined(separator: ", "))]
                  seed: [\((0..<1000).map(String.init).joined(separator: ", "))]
            """
    }

    private func compiled(_ yaml: String, limit: Int) throws -> CompiledSpec {
        let spec = try loadSpec(yaml, files: ["registry.yaml": testRegistry])
        var options = Registry.standard.compileOptions
        options.maximumStages = limit
        return try GraphBuilder.compile(spec, catalog: Registry.standard.catalog, options: options, digester: FileDigester(memoURL: nil))
    }

    @Test func anAbsurdMatrixIsRefusedAtOnceWithItsCountAndAxes() throws {
        let start = ContinuousClock.now
        let error = try #require(throws: SpecError.self) { try compiled(absurdSpec(), limit: StageCount.defaultMaximum) }
        #expect(ContinuousClock.now - start < .seconds(30))  // a bound against hangs, not a speed claim
        let diagnostic = try #require(error.diagnostics.first)
        #expect(error.diagnostics.count == 1)
        #expect(diagnostic.kind == .tooManyStages)
        #expect(diagnostic.keyPath == "tasks[0].matrix")
        #expect(diagnostic.location.line == 10)
        #expect(diagnostic.message.contains("task \"findings\" expands to 2,001,000,002 stages"), "\(diagnostic.message)")
        #expect(diagnostic.message.contains("(backbone 1 × dataset 1 × head 1000 × fraction 1000 × seed 1000)"))
        #expect(diagnostic.message.contains("more than the limit of 200,000 stages"))
        #expect(diagnostic.message.contains("--max-stages 2001000002"))
    }

    @Test func theLimitCountsEveryTaskAndCanBeRaised() throws {
        let yaml = probeSpec(extraTask: """
              - {name: views, kind: retrieval, k: [5], relevance: view, matrix: {backbone: [pixels], dataset: [phantom]}}
            """)
        let error = try #require(throws: SpecError.self) { try compiled(yaml, limit: 20) }
        #expect(error.diagnostics.map(\.keyPath) == ["tasks[0].matrix", "tasks[1].matrix"])
        #expect(error.diagnostics[0].message.contains("the spec's tasks together to 42"), "\(error.diagnostics[0].message)")
        #expect(try compiled(yaml, limit: 42).graph.stages.count == 40)  // the retrieval task shares the manifest and an embedding
    }

    /// The count is what the compiler adds before sharing: exact when nothing is shared.
    @Test(arguments: [
        """
        - name: findings
          kind: classification
          labels: [nodule]
          metric: auroc
          matrix: {backbone: [pixels], dataset: [phantom], fraction: [0.5, 1.0], seed: [0, 1, 2], train: [all, female], test: [all, male, female]}
        """,
        """
        - name: fair
          kind: fairness
          labels: [nodule]
          metric: auroc
          matrix: {backbone: [pixels], dataset: [phantom], seed: [0, 1], train: [male, female, all], test: [all, male]}
        """,
        """
        - {name: views, kind: retrieval, k: [5], relevance: view, matrix: {backbone: [pixels], dataset: [phantom, phantom-small], features: [cls, mean]}}
        """,
        """
        - name: few
          kind: classification
          labels: [nodule]
          metric: auroc
          tries: 3
          compare: {test: delong, against: pixels}
          matrix: {backbone: [pixels, tiny], dataset: [phantom], shots: [2, 4], test: [all, male]}
        """,
    ])
    func countMatchesTheCompiledGraph(task: String) throws {
        let yaml = "experiment: counted\ninclude: [registry.yaml]\ntasks:\n" + task.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        let spec = try loadSpec(yaml, files: ["registry.yaml": testRegistry])
        let count = try #require(Registry.standard.catalog.tasks[spec.tasks[0].kind]).stageCount(spec.tasks[0])
        #expect(try compiled(yaml, limit: count).graph.stages.count == count)
        #expect(throws: SpecError.self) { try compiled(yaml, limit: count - 1) }
    }
}
