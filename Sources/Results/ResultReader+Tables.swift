import Foundation

extension ResultReader {
    /// Seed-level values for a table, from a read-only query returning, in this order, the row
    /// label, the column label, the value (NULL when not computable) and, optionally, the
    /// stage key that recorded it. Labels may be text or numbers (a fraction prints as `0.1`).
    ///
    /// Example: `SELECT backbone, fraction * 100 || '%', value, stage_key FROM latest_result
    /// WHERE experiment = 'table2' AND metric = 'auroc' AND label = ''` (the mean over labels).
    /// - Throws: `ResultsError.invalidTableInput` naming the column that is not of that shape;
    ///   whatever `query` throws.
    public func seedValues(_ sql: String) throws -> [SeedValue] {
        let table = try query(sql)
        guard table.columns.count == 3 || table.columns.count == 4 else {
            throw ResultsError.invalidTableInput(reason: "the query returns \(table.columns.count) columns "
                + "(\(table.columns.joined(separator: ", "))); a table needs row label, column label, value "
                + "and optionally stage key")
        }
        return try table.rows.enumerated().map { index, row in
            guard let rowLabel = row[0].textValue, let columnLabel = row[1].textValue else {
                throw ResultsError.invalidTableInput(reason: "row \(index + 1) has a NULL label")
            }
            let value: Double?
            switch row[2] {
            case .null: value = nil
            case .integer, .real: value = row[2].doubleValue
            case .text, .blob:
                throw ResultsError.invalidTableInput(reason: "row \(index + 1): column `\(table.columns[2])` "
                    + "holds \(row[2].textValue ?? ""), not a number")
            }
            return SeedValue(rowLabel: rowLabel, columnLabel: columnLabel, value: value,
                             stageKey: row.count > 3 ? row[3].textValue : nil)
        }
    }

    /// The table `spec` over the seed-level values `sql` returns (see `seedValues`).
    public func summaryTable(_ spec: TableSpec, sql: String) throws -> SummaryTable {
        SummaryTable(spec: spec, values: try seedValues(sql))
    }
}
