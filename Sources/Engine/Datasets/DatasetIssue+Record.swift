import Datasets
import Results

extension SampleIssueRow {
    /// The database row of a dataset's consistency warning (see `ManifestConsistency`).
    /// - Parameter dataset: the dataset's name in the `sample_issue` table.
    init(_ issue: DatasetIssue, dataset: String) {
        self.init(dataset: dataset, sampleID: issue.sampleID, patientID: issue.patientID, file: issue.file, line: issue.line,
                  severity: .warning, message: issue.message)
    }
}
