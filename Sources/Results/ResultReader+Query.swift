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
            for statement in statements {
                if Self.transactionKeywords.contains(Self.leadingKeyword(statement.sql).uppercased()) {
                    throw ResultsError.invalidQuery(
                        sql: statement.sql, reason: "transaction control is not needed: each query runs in its own "
                            + "read-only transaction")
                }
                if !Self.onlyReads(statement) {
                    throw ResultsError.writeRefused(statement: statement.sql)
                }
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
    /// PRAGMA assignments are refused too, even those that change only the connection
    /// (`PRAGMA foreign_keys = OFF`): a query has no business changing settings.
    static func onlyReads(_ statement: Statement) -> Bool {
        guard statement.isReadonly else { return false }
        switch leadingKeyword(statement.sql).uppercased() {
        case "ATTACH", "DETACH", "VACUUM": return false
        case "PRAGMA": return pragmaOnlyReads(statement.sql)
        default: return true
        }
    }

    static let transactionKeywords: Set<String> = ["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"]

    /// PRAGMAs that take an argument in parentheses and only report (`PRAGMA table_info(result)`);
    /// any other PRAGMA with an argument sets something (`PRAGMA user_version(7)`).
    static let reportingPragmas: Set<String> = [
        "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
        "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
    ]

    /// Whether a PRAGMA statement only reads: no `= value`, and an argument only for a reporting PRAGMA.
    static func pragmaOnlyReads(_ sql: String) -> Bool {
        let text = String(stripComments(sql).dropFirst("PRAGMA".count))
            .trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ";")))
        // `schema.name`, then the rest.
        let nameEnd = text.firstIndex(where: { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") }) ?? text.endIndex
        let name = text[..<nameEnd].split(separator: ".").last.map { String($0).lowercased() } ?? ""
        let rest = text[nameEnd...].trimmingCharacters(in: .whitespacesAndNewlines)
        if rest.isEmpty { return true }
        if rest.hasPrefix("(") { return reportingPragmas.contains(name) }
        return false
    }

    /// The first word of a statement, after whitespace and SQL comments.
    static func leadingKeyword(_ sql: String) -> String {
        String(stripComments(sql).prefix(while: { $0.isLetter }))
    }

    /// The statement without its leading whitespace and comments.
    static func stripComments(_ sql: String) -> Substring {
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
                return rest
            }
        }
    }
}
