import Datasets
import Foundation
import Testing

private func parse(_ text: String, columnNames: [String]? = nil) throws(DatasetError) -> CSVTable {
    try CSVTable(parsing: Array(text.utf8), file: "test.csv", columnNames: columnNames)
}

private func rows(_ table: CSVTable) -> [[String]] {
    (0..<table.rowCount).map { row in (0..<table.header.count).map { table.string(row: row, column: $0) } }
}

struct CSVTableTests {
    @Test func plainRowsSplitOnCommas() throws {
        let table = try parse("a,b,c\n1,2,3\n,,\n")
        #expect(table.header == ["a", "b", "c"])
        #expect(rows(table) == [["1", "2", "3"], ["", "", ""]])
        #expect(table.isEmpty(row: 1, column: 0) && !table.isEmpty(row: 0, column: 0))
    }

    @Test func quotedFieldsKeepCommasQuotesAndLineBreaks() throws {
        let table = try parse("name,note\r\n\"Doe, J\",\"said \"\"hi\"\"\"\r\nx,\"two\nlines\"\r\n\"\",\"\"\"\"\r\n")
        #expect(rows(table) == [["Doe, J", "said \"hi\""], ["x", "two\nlines"], ["", "\""]])
        // Line numbers count physical lines, so a row after a multi-line field starts on line 5.
        #expect(table.line(ofRow: 0) == 2 && table.line(ofRow: 1) == 3 && table.line(ofRow: 2) == 5)
    }

    @Test func byteOrderMarkBlankLinesAndMissingFinalNewlineAreAccepted() throws {
        let table = try parse("\u{FEFF}a,b\n\n1,2\n\n3,4")
        #expect(table.header == ["a", "b"])
        #expect(rows(table) == [["1", "2"], ["3", "4"]])
        #expect(table.line(ofRow: 1) == 5)
    }

    @Test func filesWithoutHeaderTakeGivenColumnNames() throws {
        let table = try parse("x/y/,1\nz/,0\n", columnNames: ["study", "label"])
        #expect(table.header == ["study", "label"])
        #expect(rows(table) == [["x/y/", "1"], ["z/", "0"]])
    }

    @Test func wrongFieldCountNamesTheLine() {
        #expect(throws: DatasetError.malformedCSV(file: "test.csv", line: 3, reason: "2 fields, but the header has 3")) {
            try parse("a,b,c\n1,2,3\n1,2\n")
        }
    }

    @Test func unterminatedQuoteNamesTheLineWhereTheRecordStarts() {
        #expect(throws: DatasetError.malformedCSV(file: "test.csv", line: 2, reason: "a quoted field is never closed (missing closing \")")) {
            try parse("a,b\n1,\"open\n2,3\n")
        }
    }

    @Test func textAfterAClosingQuoteIsAnError() throws {
        do {
            _ = try parse("a,b\n\"x\"y,2\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("test.csv, line 2"))
            #expect(error.description.contains("after a closing quote"))
        }
    }

    @Test func missingColumnListsTheAvailableOnes() throws {
        let table = try parse("a,b\n1,2\n")
        #expect(throws: DatasetError.missingColumn(file: "test.csv", column: "c", available: ["a", "b"])) {
            try table.column(named: "c")
        }
    }

    @Test func missingAndEmptyFilesAreTypedErrors() {
        #expect(throws: DatasetError.fileNotFound(path: "/nonexistent/x.csv", hint: "Check the path.")) {
            try CSVTable.read(contentsOf: URL(fileURLWithPath: "/nonexistent/x.csv"))
        }
        #expect(throws: DatasetError.empty(file: "test.csv", reason: "the file has no header line")) {
            try parse("\n\n")
        }
    }
}
