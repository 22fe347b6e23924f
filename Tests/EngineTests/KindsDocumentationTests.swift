import Engine
import Foundation
import Testing

/// docs/KINDS.md is what the registrations say: regenerate it with
/// `XRBENCH_RECORD_GOLDEN=1 swift test --filter KindsDocumentation` (or `xrbench kinds`).
@Suite struct KindsDocumentationTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../docs/KINDS.md").standardizedFileURL

    static let header = """
        # Kinds and their options

        Generated from the registrations in `Sources/Engine/Registry/StandardRegistry.swift` (the same
        text as `xrbench kinds`); a test fails when it is out of date. How to add a kind:
        [EXTENDING.md](EXTENDING.md); how a spec uses them: [SPEC.md](SPEC.md).


        """

    @Test func optionReferenceMatchesTheRegistrations() throws {
        let expected = Self.header + Registry.standard.optionTables()
        if ProcessInfo.processInfo.environment["XRBENCH_RECORD_GOLDEN"] == "1" {
            try expected.write(to: Self.file, atomically: true, encoding: .utf8)
        }
        let written = (try? String(contentsOf: Self.file, encoding: .utf8)) ?? ""
        #expect(written == expected, "docs/KINDS.md is out of date; regenerate it with XRBENCH_RECORD_GOLDEN=1")
    }
}
