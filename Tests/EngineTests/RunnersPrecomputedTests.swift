import Engine
import Foundation
import Pipeline
import Results
import Testing

/// The `precomputed` backbone on a generic CSV dataset (its images are never read).
@Suite struct RunnersPrecomputedTests {
    static let sampleCount = 40
    static let width = 4

    /// A CSV manifest: sample i belongs to patient i/2, is positive when i is odd, sex alternates by patient.
    func makeDataset(_ project: RunnersProject) throws {
        var csv = "path,patient,finding,Sex\n"
        for sample in 0..<Self.sampleCount {
            csv += "images/\(sample).png,p\(sample / 2),\(sample % 2),\((sample / 2) % 2 == 0 ? "F" : "M")\n"
        }
        try project.write(csv, to: "data/labels.csv")
    }

    /// Embeddings that separate the two classes along the first axis.
    func embeddings(rows: [Int]) -> [Float] {
        rows.flatMap { sample -> [Float] in
            [sample % 2 == 0 ? -1 : 1, 0.5, Float(sample % 5) * 0.1, 1]
        }
    }

    func spec(dimension: Int? = nil) -> String {
        """
        experiment: precomputed
        backbones:
          elsewhere: {kind: precomputed, embeddings: data/embeddings.npy, ids: data/ids.txt\(dimension.map { ", dimension: \($0)" } ?? "")}
        datasets:
          table: {kind: csv, manifest: data/labels.csv, image_column: path, patient_column: patient, label_columns: [finding], attribute_columns: [Sex]}
        heads:
          quick: {kind: linear, max_epochs: 40, learning_rate: 0.05}
        tasks:
          - name: finding
            kind: classification
            labels: [finding]
            metric: [auroc, mcc]
            matrix: {backbone: [elsewhere], dataset: [table], head: [quick]}
          - name: retrieval
            kind: retrieval
            k: [3]
            relevance: finding
            matrix: {backbone: [elsewhere], dataset: [table]}
        """
    }

    func writeEmbeddings(_ project: RunnersProject, ids: [String], rows: [Int], width: Int = RunnersPrecomputedTests.width) throws {
        var values = embeddings(rows: rows)
        if width != Self.width { values = rows.flatMap { _ in [Float](repeating: 1, count: width) } }
        try numPyData(rows: rows.count, columns: width, values: values).write(to: project.folder.appendingPathComponent("data/embeddings.npy"))
        try project.write(ids.joined(separator: "\n") + "\n", to: "data/ids.txt")
    }

    @Test func embeddingsInAnyOrderAreMatchedToTheManifestById() throws {
        let project = try RunnersProject()
        try makeDataset(project)
        let rows = Array((0..<Self.sampleCount).reversed())
        try writeEmbeddings(project, ids: rows.map { "images/\($0).png" }, rows: rows)
        let report = try project.run(spec())
        #expect(report.failures.map(\.message) == [])
        // The first axis separates the classes: retrieval and the probe are perfect.
        #expect(try project.number("SELECT value FROM result WHERE metric = 'precision@3'") == 1)
        #expect(try project.number("SELECT value FROM result WHERE task = 'finding' AND metric = 'auroc'") == 1)
    }

    @Test func missingExtraAndMisshapenEmbeddingsFailNamingTheFile() throws {
        let project = try RunnersProject()
        try makeDataset(project)
        let all = Array(0..<Self.sampleCount)
        let idsPath = project.folder.appendingPathComponent("data/ids.txt").path
        let embeddingsPath = project.folder.appendingPathComponent("data/embeddings.npy").path

        try writeEmbeddings(project, ids: all.dropLast().map { "images/\($0).png" }, rows: Array(all.dropLast()))
        var message = try project.run(spec()).failures.first?.message ?? ""
        #expect(message.contains(idsPath) && message.contains("1 of 40 manifest samples have no embedding") && message.contains("images/39.png"))

        try writeEmbeddings(project, ids: all.map { "images/\($0).png" } + ["images/unknown.png"], rows: all + [0])
        message = try project.run(spec()).failures.first?.message ?? ""
        #expect(message.contains(idsPath) && message.contains("1 of 41 ids name no sample of the") && message.contains("images/unknown.png"))

        try writeEmbeddings(project, ids: all.map { "images/\($0).png" }, rows: all)
        message = try project.run(spec(dimension: 8)).failures.first?.message ?? ""
        #expect(message.contains(embeddingsPath) && message.contains("rows are 4 wide, but the registry says dimension 8"))

        try writeEmbeddings(project, ids: all.map { "images/\($0).png" }, rows: Array(all.dropLast()))
        message = try project.run(spec()).failures.first?.message ?? ""
        #expect(message.contains("39 ids for 39 embedding rows") == false && message.contains("40 ids for 39 embedding rows"))
    }

    /// A non-finite value fails the embed stage, naming the file, the row and its sample; the
    /// probes and retrieval that would read it are blocked, not run on it.
    @Test func aNonFiniteEmbeddingFailsTheEmbedStageNamingItsSample() throws {
        let project = try RunnersProject()
        try makeDataset(project)
        let rows = Array(0..<Self.sampleCount)
        var values = embeddings(rows: rows)
        values[7 * Self.width + 2] = .nan
        try numPyData(rows: rows.count, columns: Self.width, values: values).write(to: project.folder.appendingPathComponent("data/embeddings.npy"))
        try project.write(rows.map { "images/\($0).png" }.joined(separator: "\n") + "\n", to: "data/ids.txt")
        let report = try project.run(spec())
        #expect(report.failures.count == 1 && report.blocked > 0)
        let message = report.failures.first?.message ?? ""
        #expect(message.contains("data/embeddings.npy") && message.contains("row 8 (images/7.png)") && message.contains("non-finite"), "\(message)")
    }
}
