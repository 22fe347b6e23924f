import Foundation
import GRDB

extension ResultReader {
    /// Runs SQL that only reads, and returns the last statement's rows.
    ///
    /// Every statement is compiled and checked before any runs: one that SQLite reports as
    /// writing (INSERT, UPDATE, DELETE, CREATE, DROP, a PRAGMA assignment, ...) or that
    /// attaches, detaches or vacuums is refused, and nothing is executed. The connection is
    /// read-only as well, as a second guard.
    /// - Throws: `ResultsError.writeRefused`; `ResultsError.invalidQuery` with SQLite's message
    ///   for SQL that does not compile or fails.
    public func query(_ sql: String) throws -> QueryTable {
        try read("running a query") { db in
            var statements: [Statement] = []
            do {
                let cursor = try db.allStatements(sql: sql)
                while let statement = try cursor.next() {
                    statements.append(statement)
                }
            } catch {
                throw ResultsError.invalidQuery(sql: sql, reason: ResultStore.reason(error))
            }
            guard !statements.isEmpty else {
                throw ResultsError.invalidQuery(sql: sql, reason: "there is no SQL statement in it")
            }
            for statement in statements where !Self.onlyReads(statement) {
                throw ResultsError.writeRefused(statement: statement.sql)
            }
            var table = QueryTable(columns: [], rows: [])
            for statement in statements {
                do {
                    let rows = try Row.fetchAll(statement)
                    table = QueryTable(columns: statement.columnNames,
                                       rows: rows.map { $0.databaseValues.map(QueryValue.init) })
                } catch {
                    throw ResultsError.invalidQuery(sql: statement.sql, reason: ResultStore.reason(error))
                }
            }
            return table
        }
    }

    /// Whether a compiled statement leaves every database file and attachment unchanged.
    ///
    /// `sqlite3_stmt_readonly` answers for the files of the open databases; it counts ATTACH,
    /// DETACH and transaction control as read-only because they change only the connection.
    /// Attaching is refused all the same (it is how one would reach another file), and so is
    /// VACUUM (`VACUUM INTO` writes a new file).
    static func onlyReads(_ statement: Statement) -> Bool {
        guard statement.isReadonly else { return false }
        let keyword = leadingKeyword(statement.sql).uppercased()
        return !["ATTACH", "DETACH", "VACUUM"].contains(keyword)
    }

    /// The first word of a statement, after whitespace and SQL comments.
    static func leadingKeyword(_ sql: String) -> String {
        var rest = Substring(sql)
        while true {
            rest = rest.drop(while: { $0.isWhitespace })
            if rest.hasPrefix("--") {
                rest = rest.drop(while: { !$0.isNewline })
            } else if rest.hasPrefix("/*") {
                if let end = rest.range(of: "*/") {
                    rest = rest[end.upperBound...]
                } else {
                    return ""
                }
            } else {
                break
            }
        }
        return String(rest.prefix(while: { $0.isLetter }))
    }
}
