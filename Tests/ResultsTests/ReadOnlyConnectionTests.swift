import Foundation
@testable import Results
import Testing

@Suite struct ReadOnlyConnectionTests {
    /// The second guard: even a statement that slipped past `query`'s check cannot write,
    /// because the reader's connection itself is read-only.
    @Test func theReadersConnectionCannotWrite() throws {
        let path = try SampleData.temporaryDatabase()
        let store = try ResultStore(path: path)
        _ = try store.beginRun(SampleData.run())
        let reader = try ResultStore.openReadOnly(path: path)
        for sql in ["DELETE FROM run", "CREATE TABLE scratch (x)", "PRAGMA user_version = 3"] {
            #expect(throws: (any Error).self, "\(sql)") {
                try reader.queue.inDatabase { try $0.execute(sql: sql) }
            }
        }
        #expect(try reader.query("SELECT count(*) FROM run").rows == [[.integer(1)]])
        #expect(try reader.query("PRAGMA user_version").rows == [[.integer(0)]])
    }
}
