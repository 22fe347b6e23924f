import GRDB

extension ResultStore {
    /// The sample issues (dataset warnings) of the stages run `runID` used (executed or took
    /// from the cache), in recording order.
    /// - Throws: `ResultsError.readFailed`.
    public func sampleIssues(runID: Int64) throws -> [SampleIssueRow] {
        try read("listing the dataset warnings of run \(runID)") { db in
            try Row.fetchAll(db, sql: """
                SELECT i.dataset, i.sample_id, i.patient_id, i.file, i.line, i.severity, i.message FROM sample_issue i
                WHERE EXISTS (
                    SELECT 1 FROM stage_execution e
                    WHERE e.run_id = ? AND e.stage_key = i.stage_key AND e.status IN ('succeeded', 'cached'))
                ORDER BY i.id
                """, arguments: [runID]).map {
                SampleIssueRow(dataset: $0["dataset"], sampleID: $0["sample_id"], patientID: $0["patient_id"], file: $0["file"],
                               line: $0["line"], severity: SampleIssueRow.Severity(rawValue: $0["severity"]) ?? .warning,
                               message: $0["message"])
            }
        }
    }
}
