import Foundation
import Results
import Testing

@Suite struct QueryFormattingTests {
    /// Text with a comma, a quote, a line break and a pipe; numbers; NULLs.
    static let table = QueryTable(
        columns: ["backbone", "fraction", "auroc", "note"],
        rows: [
            [.text("dinov2-base"), .real(0.1), .real(0.8125), .null],
            [.text("rad-dino"), .real(1), .null, .text("AUROC undefined, \"one class\"")],
            [.text("xr|0"), .integer(1), .real(0.9), .text("line one\nline two")],
        ])

    @Test func alignedText() {
        #expect(Self.table.formatted(.table) == """
            backbone     fraction   auroc  note
            -----------  --------  ------  ----------------------------
            dinov2-base       0.1  0.8125  NULL
            rad-dino          1.0    NULL  AUROC undefined, "one class"
            xr|0                1     0.9  line one\\nline two
            (3 rows)

            """)
        #expect(QueryTable(columns: ["n"], rows: [[.integer(5)]]).formatted(.table) == "n\n-\n5\n(1 row)\n")
        #expect(QueryTable(columns: ["n"], rows: []).formatted(.table) == "n\n-\n(0 rows)\n")
    }

    @Test func csvQuotesPerRFC4180() {
        #expect(Self.table.formatted(.csv) == "backbone,fraction,auroc,note\r\n"
            + "dinov2-base,0.1,0.8125,\r\n"
            + "rad-dino,1.0,,\"AUROC undefined, \"\"one class\"\"\"\r\n"
            + "xr|0,1,0.9,\"line one\nline two\"\r\n")
    }

    @Test func jsonArrayOfObjects() throws {
        let json = Self.table.formatted(.json)
        #expect(json == """
            [
              {"backbone": "dinov2-base", "fraction": 0.1, "auroc": 0.8125, "note": null},
              {"backbone": "rad-dino", "fraction": 1.0, "auroc": null, "note": "AUROC undefined, \\"one class\\""},
              {"backbone": "xr|0", "fraction": 1, "auroc": 0.9, "note": "line one\\nline two"}
            ]

            """)
        // And it parses as JSON.
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        #expect(parsed?.count == 3)
        #expect(parsed?[1]["note"] as? String == "AUROC undefined, \"one class\"")
        #expect(QueryTable(columns: ["x"], rows: []).formatted(.json) == "[]\n")
        #expect(QueryTable(columns: ["x"], rows: [[.real(.infinity)], [.text("tab\there\u{1}")]]).formatted(.json)
            == "[\n  {\"x\": null},\n  {\"x\": \"tab\\there\\u0001\"}\n]\n")
    }

    @Test func markdownTable() {
        #expect(Self.table.formatted(.markdown) == """
            | backbone | fraction | auroc | note |
            | --- | ---: | ---: | --- |
            | dinov2-base | 0.1 | 0.8125 | NULL |
            | rad-dino | 1.0 | NULL | AUROC undefined, "one class" |
            | xr\\|0 | 1 | 0.9 | line one<br>line two |

            """)
    }
}
