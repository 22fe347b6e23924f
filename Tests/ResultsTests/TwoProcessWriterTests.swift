import Foundation
import Results
import Testing

/// When this test binary is started by `twoProcessesWritingOneFileAtOnceBothFinish`, these
/// variables tell it to act as one writer process.
enum ChildWriter {
    static let databaseVariable = "XRBENCH_RESULTS_CHILD_DATABASE"
    static let writerVariable = "XRBENCH_RESULTS_CHILD_WRITER"
    static let stages = 80
    static let sharedStages = 5

    static var isChild: Bool { ProcessInfo.processInfo.environment[databaseVariable] != nil }
}

@Suite struct TwoProcessWriterTests {
    /// One writer process: runs only inside a child started by the test below.
    @Test(.enabled(if: ChildWriter.isChild, "runs only as a child writer process"))
    func childWriterProcess() throws {
        let environment = ProcessInfo.processInfo.environment
        let path = URL(fileURLWithPath: try #require(environment[ChildWriter.databaseVariable]))
        let writer = try #require(Int(environment[ChildWriter.writerVariable] ?? ""))
        try simulateRun(path: path, writer: writer, stages: ChildWriter.stages, sharedStages: ChildWriter.sharedStages)
    }

    #if os(Linux)
    /// Two real processes (this test binary, started twice) open a fresh database together and
    /// write interleaved transactions: both exit 0, and no row is lost or duplicated.
    @Test(.enabled(if: !ChildWriter.isChild), .timeLimit(.minutes(5)))
    func twoProcessesWritingOneFileAtOnceBothFinish() throws {
        let path = try SampleData.temporaryDatabase()
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0])
        let children = try (0..<2).map { writer in
            let process = Process()
            process.executableURL = testBinary
            process.arguments = ["--testing-library", "swift-testing", "--filter", "childWriterProcess"]
            var environment = ProcessInfo.processInfo.environment
            environment[ChildWriter.databaseVariable] = path.path
            environment[ChildWriter.writerVariable] = String(writer)
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            return (process, output)
        }
        for (writer, (process, output)) in children.enumerated() {
            let log = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "writer process \(writer) failed:\n\(log)")
            // The child really ran the writer (a filter that matched nothing would also exit 0).
            #expect(log.contains("childWriterProcess()") && log.contains("passed"), "writer process \(writer):\n\(log)")
        }

        let reader = try ResultStore.openReadOnly(path: path)
        let stageCount = 2 * ChildWriter.stages + ChildWriter.sharedStages
        let counts = try reader.query("""
            SELECT (SELECT count(*) FROM stage_output), (SELECT count(*) FROM result),
                   (SELECT count(*) FROM prediction), (SELECT count(*) FROM stage_execution),
                   (SELECT count(*) FROM run WHERE status = 'succeeded')
            """)
        let expected = [stageCount, 2 * stageCount, 4 * stageCount,
                        2 * (ChildWriter.stages + ChildWriter.sharedStages), 2]
        #expect(counts.rows == [expected.map { QueryValue.integer(Int64($0)) }])
    }
    #endif
}
