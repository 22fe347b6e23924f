import Engine
import Foundation
import Pipeline
import Testing

/// Loads `yaml` as a spec in a fresh folder (with optional extra files) and returns its diagnostics.
func diagnostics(_ yaml: String, files: [String: String] = [:], environment: [String: String] = [:],
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> [SpecDiagnostic] {
    let folder = try makeFolder(files: files)
    do {
        _ = try SpecLoader(catalog: Registry.standard.catalog, environment: environment).load(text: yaml, directory: folder)
        Issue.record("the spec loaded without errors", sourceLocation: sourceLocation)
        return []
    } catch let error as SpecError {
        return error.diagnostics
    }
}

/// Loads `yaml` as a spec that must be valid.
func loadSpec(_ yaml: String, files: [String: String] = [:], environment: [String: String] = [:], in folder: URL? = nil) throws -> Spec {
    let folder = try folder ?? makeFolder(files: files)
    return try SpecLoader(catalog: Registry.standard.catalog, environment: environment).load(text: yaml, directory: folder)
}

/// A fresh temporary folder holding `files` (relative path → text).
func makeFolder(files: [String: String] = [:]) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("xrbench-pipeline-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (path, text) in files {
        let url = folder.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
    return folder
}

/// Asserts there is exactly one diagnostic of `kind`, at `line`:`column`, and returns it.
@discardableResult
func expectSingle(_ diagnostics: [SpecDiagnostic], _ kind: DiagnosticKind, line: Int, column: Int, keyPath: String? = nil,
                  sourceLocation: SourceLocation = #_sourceLocation) -> SpecDiagnostic? {
    let matching = diagnostics.filter { $0.kind == kind }
    #expect(matching.count == 1, "expected one \(kind) diagnostic, got: \(diagnostics.map(\.description))", sourceLocation: sourceLocation)
    guard let diagnostic = matching.first else { return nil }
    #expect(diagnostic.location.line == line && diagnostic.location.column == column,
            "\(kind) at \(diagnostic.location.line):\(diagnostic.location.column), expected \(line):\(column): \(diagnostic)",
            sourceLocation: sourceLocation)
    if let keyPath {
        #expect(diagnostic.keyPath == keyPath, "key path \(diagnostic.keyPath), expected \(keyPath)", sourceLocation: sourceLocation)
    }
    return diagnostic
}

/// A small valid registry used by several tests.
let testRegistry = """
backbones:
  pixels: {kind: pixels, size: 8}
  tiny: {kind: vit-tiny-random, seed: 3}
datasets:
  phantom: {kind: phantom, count: 60, seed: 1}
  phantom-small: {kind: phantom, count: 20, seed: 2}
"""
