import Datasets
import Engine
import Foundation
import Pipeline
import Results
import TestSupport
import Testing

/// Hostile and careless datasets through a whole run: warnings are recorded and counted, and a
/// label file cannot make the run read files outside the dataset's root.
@Suite struct DatasetHardeningRunTests {
    /// A project with the four fixture PNGs under `data/images/` and `rows` as `data/labels.csv`.
    private func project(rows: [String]) throws -> RunnersProject {
        let project = try RunnersProject()
        let images = project.folder.appendingPathComponent("data/images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        for index in 0..<4 {
            try FileManager.default.copyItem(at: fixturesDirectory().appendingPathComponent("images/\(index).png"),
                                             to: images.appendingPathComponent("\(index).png"))
        }
        try project.write((["path,patient,sex,finding"] + rows).joined(separator: "\n") + "\n", to: "data/labels.csv")
        return project
    }

    private func spec(datasetOptions: String = "") -> String {
        """
        experiment: hardening
        backbones:
          pixels: {kind: pixels, size: 4}
        datasets:
          images: {kind: csv, manifest: data/labels.csv, patient_column: patient, attribute_columns: [sex], label_columns: [finding]\(datasetOptions)}
        tasks:
          - {name: neighbours, kind: retrieval, k: [1], relevance: finding, matrix: {backbone: [pixels], dataset: [images]}}
        """
    }

    @Test func contradictingRowsAreRecordedAndCountedInTheSummary() throws {
        let project = try project(rows: ["images/0.png,p0,F,0", "images/1.png,p1,M,1", "images/2.png,p0,M,0", "images/3.png,p3,F,1"])
        // `plan` reads the dataset (its manifest stage runs first) and shows the warning already.
        let plan = try Engine.plan(specURL: project.write(spec(), to: "spec.yaml"), configuration: project.configuration)
        #expect(plan.text().contains("1 dataset warning (a run records them; `xrbench dataset SPEC NAME` lists a dataset's):"), "\(plan.text())")
        #expect(plan.text().contains("  images: \(project.folder.appendingPathComponent("data/labels.csv").path), line 4: patient p0 is male"))
        let report = try project.run(spec())
        #expect(report.failures.isEmpty && report.status == .succeeded)
        #expect(report.summary.contains("1 dataset warning recorded (xrbench query \"SELECT * FROM latest_sample_issue\"):"), "\(report.summary)")
        #expect(report.summary.contains("labels.csv, line 4: patient p0 is male in this row but female in "))
        let rows = try project.query("SELECT dataset, patient_id, sample_id, line, severity, file FROM latest_sample_issue").rows
        #expect(rows.count == 1)
        #expect(rows.first?[0] == .text("images") && rows.first?[1] == .text("p0") && rows.first?[2] == .text("images/2.png"))
        #expect(rows.first?[3] == .integer(4) && rows.first?[4] == .text("warning"))
        // A fully cached re-run still reports the warning: it belongs to the manifest it used.
        let again = try project.run(spec())
        #expect(again.executed == 0 && again.sampleIssues.count == 1)
    }

    @Test func aLinkOutOfTheRootFailsTheRunUnlessAllowed() throws {
        let project = try project(rows: ["images/0.png,p0,F,0", "images/1.png,p1,M,1", "images/2.png,p2,M,0", "images/link.png,p3,F,1"])
        let outside = project.folder.appendingPathComponent("outside.png")
        try FileManager.default.copyItem(at: fixturesDirectory().appendingPathComponent("images/3.png"), to: outside)
        try FileManager.default.createSymbolicLink(atPath: project.folder.appendingPathComponent("data/images/link.png").path,
                                                   withDestinationPath: outside.path)
        // The manifest stage, which digests every image before anything else runs, refuses it.
        let error = try #require(throws: DatasetError.self) { try project.run(spec()) }
        #expect(error.description.contains("images/link.png: the image is a symbolic link (or under one) to \(outside.resolvingSymlinksInPath().path)"))
        #expect(error.description.contains("`follow_symlinks: true`"))
        let allowed = try project.run(spec(datasetOptions: ", follow_symlinks: true"))
        #expect(allowed.failures.isEmpty, "\(allowed.failures.map(\.message))")
    }

    @Test func aPathOutOfTheRootFailsTheManifestWithItsLine() throws {
        let project = try project(rows: ["images/0.png,p0,F,0", "../outside.png,p1,M,1"])
        // The manifest of a dataset read from outside the cache runs first: its error stops the run before any work.
        let error = try #require(throws: DatasetError.self) { try project.run(spec()) }
        #expect(error.description.contains("labels.csv, line 3: image path \"../outside.png\" climbs out of the root with \"..\""), "\(error)")
    }
}
