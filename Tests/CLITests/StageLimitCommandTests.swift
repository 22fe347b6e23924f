import Foundation
import Testing
import TestSupport

/// `--max-stages` on the command line: a spec beyond it is refused before anything is built.
@Suite struct StageLimitCommandTests {
    @Test func planRefusesASpecBeyondTheLimitAndTheFlagRaisesIt() throws {
        let folder = try makeTemporaryDirectory()
        try """
            experiment: small
            backbones:
              pixels: {kind: pixels, size: 4}
            datasets:
              phantom: {kind: phantom, count: 8}
            tasks:
              - {name: views, kind: retrieval, k: [1], relevance: view, matrix: {backbone: [pixels], dataset: [phantom], features: [cls, mean]}}
            """.write(to: folder.appendingPathComponent("spec.yaml"), atomically: true, encoding: .utf8)
        let refused = try CLI.run(["plan", "spec.yaml", "--max-stages", "3"], in: folder)
        #expect(refused.status == 1 && !refused.crashed)
        #expect(refused.errorOutput.contains("spec.yaml:7:"), "\(refused.errorOutput)")
        #expect(refused.errorOutput.contains("task \"views\" expands to 4 stages (backbone 1 × dataset 1 × features 2), more than the limit of 3 stages"))
        #expect(refused.errorOutput.contains("--max-stages 4"))
        let stages = folder.appendingPathComponent(".xrbench/cache/stages").path
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: stages)) ?? []).isEmpty)  // nothing was built
        let planned = try CLI.run(["plan", "spec.yaml", "--max-stages", "4"], in: folder)
        #expect(planned.status == 0, "\(planned.errorOutput)")
        #expect(planned.output.contains("total           0       4       0      4"), "\(planned.output)")
    }
}
