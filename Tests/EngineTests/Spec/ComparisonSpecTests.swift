import Engine
import Foundation
import Pipeline
import Testing

/// `compare:`, `shots` and `tries` are checked when the spec loads, each problem at its key.
@Suite struct ComparisonSpecTests {
    func spec(_ task: String) -> String {
        """
        experiment: x
        backbones:
          pixels: {kind: pixels, size: 8}
          tiny: {kind: vit-tiny-random, seed: 3}
        datasets: {phantom: {kind: phantom, count: 20}}
        tasks:
          - name: marker
            kind: classification
            labels: [marker]
            metric: auroc
        \(task)
        """
    }

    @Test func anUnknownReferenceBackboneIsNamedWithASuggestion() throws {
        let found = try diagnostics(spec("""
                compare: {against: pixel, test: delong}
                matrix: {backbone: [pixels, tiny], dataset: [phantom]}
            """))
        let diagnostic = expectSingle(found, .badValue, line: 11, column: 24, keyPath: "tasks[0].compare.against")
        #expect(diagnostic?.message.contains("did you mean \"pixels\"") == true)
    }

    @Test func comparisonsNeedTwoBackbonesAndDeLongNeedsBinaryLabels() throws {
        let single = try diagnostics(spec("""
                compare: {against: pixels, test: paired-bootstrap}
                matrix: {backbone: [pixels], dataset: [phantom]}
            """))
        expectSingle(single, .badValue, line: 11, column: 14, keyPath: "tasks[0].compare")
        let multiclass = try diagnostics(spec("""
                target: multiclass
                compare: {against: all, test: delong, replicates: 100}
                matrix: {backbone: [pixels, tiny], dataset: [phantom]}
            """))
        #expect(Set(multiclass.map(\.keyPath)) == ["tasks[0].compare.test", "tasks[0].compare.replicates"], "\(multiclass)")
        #expect(multiclass.first { $0.keyPath.hasSuffix("test") }?.message.contains("paired-bootstrap") == true)
    }

    @Test func fewShotCellsHaveNoFractionAndTriesReplaceSeeds() throws {
        let both = try diagnostics(spec("""
                tries: 3
                matrix: {backbone: [pixels], dataset: [phantom], shots: [1, 5], fraction: [0.1], seed: [0]}
            """))
        #expect(Set(both.map(\.keyPath)) == ["tasks[0].matrix.shots", "tasks[0].tries"], "\(both)")
        let withoutShots = try diagnostics(spec("""
                tries: 3
                matrix: {backbone: [pixels], dataset: [phantom]}
            """))
        expectSingle(withoutShots, .badValue, line: 11, column: 12, keyPath: "tasks[0].tries")
        let zero = try diagnostics(spec("""
                matrix: {backbone: [pixels], dataset: [phantom], shots: [0]}
            """))
        #expect(zero.map(\.keyPath) == ["tasks[0].matrix.shots[0]"], "\(zero)")
    }

    @Test func aValidFewShotComparisonCompilesToPairedTestsPerEpisode() throws {
        let loaded = try loadSpec(spec("""
                tries: 3
                compare: {against: pixels, test: paired-bootstrap, replicates: 20}
                matrix: {backbone: [pixels, tiny], dataset: [phantom], head: [knn, linear], shots: [1, 5]}
            """))
        let registry = Registry.standard
        let compiled = try GraphBuilder.compile(loaded, catalog: registry.catalog, options: registry.compileOptions,
                                                digester: FileDigester(memoURL: nil))
        let kinds = Dictionary(grouping: compiled.graph.stages, by: \.kind).mapValues(\.count)
        // 2 shots × 3 tries: 6 splits shared by both backbones and heads; 24 probes and metrics;
        // one paired test per (head, shots, try).
        #expect(kinds[.split] == 6 && kinds[.probe] == 24 && kinds[.metric] == 24 && kinds[.pairedTest] == 12, "\(kinds)")
        let paired = try #require(compiled.graph.stages.first { $0.kind == .pairedTest })
        #expect(Set(paired.inputs.keys) == ["manifest", "probe.pixels", "probe.tiny"])
        #expect(paired.coordinates?.backbone == "" && paired.coordinates?.fraction == nil && paired.coordinates?.shots != nil)
        // Only trained heads record a curve.
        let curves = compiled.graph.stages.filter { $0.kind == .metric && $0.parameters["trainingCurve"] == .bool(true) }
        #expect(curves.count == 12 && curves.allSatisfy { $0.coordinates?.head == "linear" })
    }
}
