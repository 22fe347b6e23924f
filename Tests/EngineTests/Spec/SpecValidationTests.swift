import Engine
import Foundation
import Pipeline
import Testing

/// One test per diagnostic kind, each checking the reported line and column.
@Suite struct SpecValidationTests {
    @Test func syntaxErrorHasPosition() throws {
        let found = try diagnostics("experiment: x\ntasks: [a, b\n")
        let diagnostic = expectSingle(found, .syntax, line: 3, column: 1)
        #expect(diagnostic?.message.contains("YAML syntax error") == true)
    }

    @Test func unknownKeySuggestsTheClosestName() throws {
        let found = try diagnostics("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - name: views
                kind: retrieval
                k: [5]
                relevanse: view
                matrix: {backbone: [pixels], dataset: [phantom]}
            """, files: ["registry.yaml": testRegistry])
        let diagnostic = expectSingle(found, .unknownKey, line: 7, column: 5, keyPath: "tasks[0].relevanse")
        #expect(diagnostic?.suggestion == "relevance")
        // The missing `relevance` is reported too: every error at once.
        expectSingle(found, .missingField, line: 4, column: 5, keyPath: "tasks[0]")
    }

    @Test func wrongTypeIsReportedAtTheValue() throws {
        let found = try diagnostics("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - name: views
                kind: retrieval
                k: {five: 5}
                relevance: view
                matrix: {backbone: [pixels], dataset: [phantom]}
            """, files: ["registry.yaml": testRegistry])
        let diagnostic = expectSingle(found, .wrongType, line: 6, column: 8, keyPath: "tasks[0].k")
        #expect(diagnostic?.message.contains("expected a list") == true)
    }

    @Test func missingRequiredFieldIsReportedAtItsMapping() throws {
        let found = try diagnostics("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - name: findings
                kind: classification
                labels: [nodule]
                matrix: {backbone: [pixels], dataset: [phantom]}
            """, files: ["registry.yaml": testRegistry])
        let diagnostic = expectSingle(found, .missingField, line: 4, column: 5, keyPath: "tasks[0]")
        #expect(diagnostic?.message.contains("\"metric\"") == true)
    }

    @Test func unknownBackboneNameSuggestsADefinedOne() throws {
        let found = try diagnostics("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - name: views
                kind: retrieval
                k: [5]
                relevance: view
                matrix:
                  backbone: [pixels, tinny]
                  dataset: [phantom]
            """, files: ["registry.yaml": testRegistry])
        let diagnostic = expectSingle(found, .unknownReference, line: 9, column: 26, keyPath: "tasks[0].matrix.backbone[1]")
        #expect(diagnostic?.suggestion == "tiny")
    }

    @Test func unknownDatasetNameIsReported() throws {
        let found = try diagnostics("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - name: views
                kind: retrieval
                k: [5]
                relevance: view
                matrix: {backbone: [pixels], dataset: [chexpert]}
            """, files: ["registry.yaml": testRegistry])
        expectSingle(found, .unknownReference, line: 8, column: 44, keyPath: "tasks[0].matrix.dataset[0]")
    }

    @Test func emptyMatrixAxisIsReported() throws {
        let found = try diagnostics("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - name: findings
                kind: classification
                labels: [nodule]
                metric: auroc
                matrix:
                  backbone: [pixels]
                  dataset: [phantom]
                  seed: []
            """, files: ["registry.yaml": testRegistry])
        expectSingle(found, .emptyList, line: 11, column: 13, keyPath: "tasks[0].matrix.seed")
    }

    @Test func fractionOutsideUnitIntervalIsABadValue() throws {
        let found = try diagnostics("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - name: findings
                kind: classification
                labels: [nodule]
                metric: [auroc, mcc]
                matrix:
                  backbone: [pixels]
                  dataset: [phantom]
                  fraction: [0.1, 1.5]
            """, files: ["registry.yaml": testRegistry])
        let diagnostic = expectSingle(found, .badValue, line: 11, column: 23, keyPath: "tasks[0].matrix.fraction[1]")
        #expect(diagnostic?.message.contains("(0, 1]") == true)
    }

    @Test func misspelledMetricIsABadValueWithSuggestion() throws {
        let found = try diagnostics("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - name: findings
                kind: classification
                labels: [nodule]
                metric: aurc
                matrix: {backbone: [pixels], dataset: [phantom]}
            """, files: ["registry.yaml": testRegistry])
        let diagnostic = expectSingle(found, .badValue, line: 7, column: 13)
        #expect(diagnostic?.suggestion == "auroc")
    }

    @Test func nameDefinedInTwoFilesIsADuplicate() throws {
        let found = try diagnostics("""
            experiment: demo
            include: [registry.yaml]
            backbones:
              pixels: {kind: pixels}
            tasks:
              - name: views
                kind: retrieval
                k: [5]
                relevance: view
                matrix: {backbone: [pixels], dataset: [phantom]}
            """, files: ["registry.yaml": testRegistry])
        let diagnostic = expectSingle(found, .duplicateName, line: 2, column: 3)
        #expect(diagnostic?.location.file.hasSuffix("registry.yaml") == true)
    }

    @Test func unsetVariableInAUsedEntryIsReportedButUnusedEntriesAreNot() throws {
        let registry = """
            datasets:
              chexpert: {kind: chexpert, root: "${CHEXPERT_ROOT}", train_csv: "${CHEXPERT_ROOT}/train.csv"}
              mura: {kind: mura, root: "${MURA_ROOT}", train_csv: "${MURA_ROOT}/train.csv"}
            backbones:
              pixels: {kind: pixels}
            """
        let found = try diagnostics("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - name: views
                kind: retrieval
                k: [5]
                relevance: view
                matrix: {backbone: [pixels], dataset: [chexpert]}
            """, files: ["registry.yaml": registry])
        let unset = found.filter { $0.kind == .unsetVariable }
        #expect(unset.count == 1, "\(found)")   // one diagnostic per variable, at its first use
        #expect(unset.allSatisfy { $0.message.contains("CHEXPERT_ROOT") && $0.location.line == 2 })
        #expect(unset.map(\.location.column) == [36])
        #expect(unset.first?.message.contains("(also needed by datasets.chexpert.train_csv)") == true)
        #expect(!found.contains { $0.message.contains("MURA_ROOT") })
    }

    @Test func unsetVariableSaysWhatItShouldHoldWhenTheSpecSays() throws {
        let registry = """
            datasets:
              chexpert: {kind: chexpert, root: "${CHEXPERT_ROOT:?the CheXpert-v1.0 folder with train.csv}"}
            backbones:
              pixels: {kind: pixels}
            """
        let found = try diagnostics("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - {name: v, kind: retrieval, k: [5], relevance: view, matrix: {backbone: [pixels], dataset: [chexpert]}}
            """, files: ["registry.yaml": registry])
        let unset = found.filter { $0.kind == .unsetVariable }
        #expect(unset.count == 1, "\(found)")
        #expect(unset.first?.message == "environment variable CHEXPERT_ROOT is not set: it should name "
                + "the CheXpert-v1.0 folder with train.csv; export CHEXPERT_ROOT=...")
        #expect(unset.first?.location.line == 2)
    }

    @Test func unusedEntriesWithUnsetVariablesDoNotStopASpec() throws {
        let registry = """
            datasets:
              phantom: {kind: phantom, count: 10}
              chexpert:
                kind: chexpert
                root: ${CHEXPERT_ROOT}
                train_csv: ${CHEXPERT_ROOT}/train.csv
                uncertainty: {default: zeros}
                frontal_only: ${FRONTAL}
            backbones:
              pixels: {kind: pixels, size: "${PIXELS}"}
            """
        let spec = try loadSpec("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - {name: v, kind: retrieval, k: [5], relevance: view, matrix: {backbone: [pixels], dataset: [phantom]}}
            """, files: ["registry.yaml": registry], environment: ["PIXELS": "8"])
        #expect(spec.datasets.keys.sorted() == ["chexpert", "phantom"])
        #expect(spec.backbones["pixels"]?.options["size"] == .integer(8))
    }

    @Test func anErrorBeforeAnAlternativeFieldIsKept() throws {
        let found = try diagnostics("""
            experiment: demo
            datasets:
              cx: {kind: chexpert, root: /data, train_csv: /data/t.csv, frontal_only: maybe, uncertainty: ones}
            backbones:
              pixels: {kind: pixels}
            tasks:
              - {name: v, kind: retrieval, k: [5], relevance: view, matrix: {backbone: [pixels], dataset: [cx]}}
            """)
        expectSingle(found, .wrongType, line: 3, column: 75, keyPath: "datasets.cx.frontal_only")
    }

    @Test func missingIncludeIsReportedWhereItIsIncluded() throws {
        let found = try diagnostics("""
            experiment: demo
            include:
              - registry.yaml
              - missing.yaml
            tasks:
              - name: views
                kind: retrieval
                k: [5]
                relevance: view
                matrix: {backbone: [pixels], dataset: [phantom]}
            """, files: ["registry.yaml": testRegistry])
        expectSingle(found, .include, line: 4, column: 5, keyPath: "include")
    }

    @Test func everyErrorIsReportedTogetherInReadingOrder() throws {
        let found = try diagnostics("""
            experiment: demo
            include: [registry.yaml]
            tasks:
              - name: a
                kind: classification
                labels: []
                metric: auroc
                matrix: {backbone: [pixel], dataset: [phantom], fraction: [0]}
              - name: b
                kind: fairness
                labels: [nodule]
                bootstrap: {replicates: 0}
                matrix: {backbone: [pixels], dataset: [phantom], train: [male], test: [femal]}
            """, files: ["registry.yaml": testRegistry])
        #expect(found.map(\.kind) == [.emptyList, .unknownReference, .badValue, .badValue, .unknownReference], "\(found)")
        #expect(found.map(\.location.line) == [6, 8, 8, 12, 13])
        let text = SpecError(diagnostics: found).description
        #expect(text.hasPrefix("the spec has 5 errors:"))
        #expect(text.contains("spec.yaml:13:"))
    }
}
