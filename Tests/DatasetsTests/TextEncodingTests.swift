import Datasets
import Foundation
import Testing
import TestSupport

/// Label files must be UTF-8 unless another encoding is declared: other bytes are refused with
/// file, line, column and byte offset instead of being replaced (which changed ids silently).
@Suite struct TextEncodingTests {
    private let latin1 = Array("path,site\nimages/a.png,Gen".utf8) + [0xE8, 0x76, 0x65] + Array("\nimages/b.png,Z".utf8) + [0xFC] + Array("rich\n".utf8)

    @Test func latin1BytesInAUTF8FileAreRefusedWithLineColumnAndOffset() throws {
        let error = try #require(throws: DatasetError.self) { try CSVTable(parsing: latin1, file: "sites.csv") }
        #expect(error == .notUTF8(file: "sites.csv", line: 2, column: 17, byteOffset: 26, bytes: [0xE8]))
        #expect(error.description.hasPrefix("sites.csv, line 2, column 17 (byte 26 of the file): the bytes E8 are not UTF-8 text"))
        #expect(error.description.contains("`encoding: latin-1`"))
    }

    @Test func aDeclaredEncodingIsConverted() throws {
        let table = try CSVTable(parsing: latin1, file: "sites.csv", encoding: .latin1)
        #expect(table.string(row: 0, column: 1) == "Genève" && table.string(row: 1, column: 1) == "Zürich")
        let windows = try CSVTable(parsing: Array("a,b\n".utf8) + [0x80, 0x2C, 0x93, 0x71, 0x94, 0x0A], file: "w.csv", encoding: .windows1252)
        #expect(windows.string(row: 0, column: 0) == "€" && windows.string(row: 0, column: 1) == "“q”")
    }

    @Test(arguments: [
        ([0xC0, 0x80], 0, [0xC0]),               // overlong NUL
        ([0xE0, 0x80, 0x80], 0, [0xE0]),         // overlong three-byte form
        ([0xED, 0xA0, 0x80], 0, [0xED]),         // a UTF-16 surrogate
        ([0xF4, 0x90, 0x80, 0x80], 0, [0xF4]),   // beyond U+10FFFF
        ([0x61, 0xE2, 0x82], 1, [0xE2, 0x82]),   // cut short by the end of the file
        ([0x61, 0x80], 1, [0x80]),               // a continuation byte alone
    ] as [([UInt8], Int, [UInt8])])
    func illFormedSequencesAreFound(bytes: [UInt8], offset: Int, found: [UInt8]) throws {
        let file = Array("h\n".utf8) + bytes + [0x0A]
        let error = try #require(throws: DatasetError.self) { try CSVTable(parsing: file, file: "x.csv") }
        #expect(error == .notUTF8(file: "x.csv", line: 2, column: offset + 1, byteOffset: 2 + offset, bytes: found))
    }

    @Test func wellFormedUTF8OfEveryLengthIsKept() throws {
        let text = "id,name\n1,a\n2,é\n3,€\n4,𝄞 and \u{10FFFF}\n" + String(repeating: "x", count: 37) + ",ascii run\n"
        let table = try CSVTable(parsing: Array(text.utf8), file: "ok.csv")
        #expect(table.string(row: 3, column: 1) == "𝄞 and \u{10FFFF}" && table.rowCount == 5)
    }

    @Test func theCSVAdapterReadsItsDeclaredEncoding() throws {
        let folder = try makeTemporaryDirectory()
        try Data(Array("path,site,finding\n".utf8) + Array("images/a.png,Gen".utf8) + [0xE8] + Array("ve,1\n".utf8))
            .write(to: folder.appendingPathComponent("labels.csv"))
        var options = CSVManifestOptions(file: "labels.csv", imageColumn: "path", labels: [.binary("finding")], attributeColumns: ["site": "site"])
        #expect(throws: DatasetError.self) { try loadCSVManifest(root: folder, options: options) }
        options.encoding = .latin1
        #expect(try loadCSVManifest(root: folder, options: options).samples[0].attributes["site"] == "Genève")
    }
}
