import Foundation
import Testing
import TestSupport

/// Help texts and error handling shared by the reporting commands.
@Suite struct HelpAndErrorTests {
    @Test(arguments: ["query", "runs", "tables", "phantom"])
    func helpShowsAnExample(command: String) throws {
        let folder = try makeTemporaryDirectory()
        let result = try CLI.run([command, "--help"], in: folder)
        #expect(result.status == 0)
        #expect(result.output.contains("Examples:"))
        #expect(result.output.contains("  xrbench \(command)"))
    }

    @Test(arguments: [["--help"], ["embed", "--help"], ["run", "--help"], ["plan", "--help"], ["stage", "--help"],
                      ["stage", "run", "--help"], ["cache", "--help"], ["cache", "gc", "--help"], ["kinds", "--help"],
                      ["dataset", "--help"]])
    func everyCommandsHelpShowsAnExample(arguments: [String]) throws {
        let result = try CLI.run(arguments, in: try makeTemporaryDirectory())
        #expect(result.status == 0)
        #expect(result.output.contains("Example"), "\(arguments.joined(separator: " ")) has no example")
        #expect(result.output.contains("  xrbench "), "\(arguments.joined(separator: " ")) has no example command")
    }

    @Test func rootHelpListsTheCommands() throws {
        let result = try CLI.run(["--help"], in: try makeTemporaryDirectory())
        for command in ["query", "runs", "tables", "phantom"] {
            #expect(result.output.contains("  \(command) "), "\(command) missing from the root help")
        }
    }

    @Test(arguments: [["query", "SELECT 1"], ["runs"], ["tables"]])
    func missingDatabaseIsAClearMessage(arguments: [String]) throws {
        let folder = try makeTemporaryDirectory()
        let result = try CLI.run(arguments + ["--db", "nowhere/xrbench.sqlite"], in: folder)
        #expect(result.status != 0)
        #expect(!result.crashed)
        #expect(result.errorOutput.contains("/nowhere/xrbench.sqlite. Run `xrbench run SPEC` first"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("nowhere").path))
    }

    @Test func aFileThatIsNotADatabaseIsAClearMessage() throws {
        let folder = try makeTemporaryDirectory()
        try Data("this is not SQLite".utf8).write(to: folder.appendingPathComponent("broken.sqlite"))
        let result = try CLI.run(["query", "SELECT 1 FROM run", "--db", "broken.sqlite"], in: folder)
        #expect(result.status != 0)
        #expect(!result.crashed)
        #expect(result.errorOutput.contains("broken.sqlite"))
    }
}
