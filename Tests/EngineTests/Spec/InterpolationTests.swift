import Engine
import Foundation
import Pipeline
import Testing

/// `${…}` references that are not well-formed are errors at the `$`, like unset variables,
/// instead of literal text that fails later (or never).
@Suite struct MalformedInterpolationTests {
    private func spec(root: String) -> String {
        """
        experiment: demo
        datasets:
          cx:
            kind: chexpert
            root: \(root)
            train_csv: /data/train.csv
        backbones:
          pixels: {kind: pixels}
        tasks:
          - {name: v, kind: retrieval, k: [5], relevance: view, matrix: {backbone: [pixels], dataset: [cx]}}
        """
    }

    @Test(arguments: [
        ("/data/${ROOT", "\"${ROOT\" has no closing brace; write ${ROOT}"),
        ("\"/data/${}\"", "\"${}\" names no variable"),
        ("/data/${1X}", "\"${1X}\" names no valid variable"),
        ("/data/${ROOT-/x}", "write ${ROOT:-/x}"),
        ("\"${ROOT:-${HOME}}\"", "nests a reference in its default"),
        ("'/data/${A B}'", "\"${A B}\" names no valid variable"),
    ])
    func malformedReferenceIsAnErrorAtItsDollar(value: String, message: String) throws {
        let found = try diagnostics(spec(root: value), environment: ["ROOT": "/somewhere", "HOME": "/home"])
        let offset = Array(value.unicodeScalars).firstIndex(of: "$")!
        let diagnostic = expectSingle(found, .malformedVariable, line: 5, column: 11 + offset, keyPath: "datasets.cx.root")
        #expect(diagnostic?.message.contains(message) == true, "\(diagnostic?.message ?? "")")
        // One typo, one message: the scalar is not also reported as a missing file or bad value.
        #expect(found.count == 1, "\(found)")
    }

    @Test func malformedReferenceInABlockScalarIsReportedAtTheScalar() throws {
        let found = try diagnostics("""
            experiment: demo
            description: |
              first line
              uses ${NAME
            datasets:
              phantom: {kind: phantom, count: 10}
            backbones:
              pixels: {kind: pixels}
            tasks:
              - {name: v, kind: retrieval, k: [5], relevance: view, matrix: {backbone: [pixels], dataset: [phantom]}}
            """)
        expectSingle(found, .malformedVariable, line: 2, column: 14, keyPath: "description")
    }

    @Test func wellFormedReferencesAndLiteralDollarsStillWork() throws {
        let spec = try loadSpec("""
            experiment: "cost $5, $$HOME, ${WHO:-nobody}, $${literal}"
            datasets:
              phantom: {kind: phantom, count: 10}
            backbones:
              pixels: {kind: pixels}
            tasks:
              - {name: v, kind: retrieval, k: [5], relevance: view, matrix: {backbone: [pixels], dataset: [phantom]}}
            """)
        #expect(spec.experiment == "cost $5, $HOME, nobody, ${literal}")
    }
}
