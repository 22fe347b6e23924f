import Foundation
import Testing

/// The `Fixtures` folder that sits beside the calling test file.
///
/// Fixtures are produced by the committed scripts under `scripts/fixtures/` from reference
/// implementations (transformers, PyTorch, scikit-learn, scipy) and read from the source tree,
/// so test targets need no bundled resources.
/// - Parameter filePath: leave as the default; it locates the calling test file.
public func fixturesDirectory(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
}

/// The largest absolute element-wise difference between two equally long arrays.
public func maxAbsoluteDifference<T: BinaryFloatingPoint>(_ actual: [T], _ expected: [T]) -> T {
    precondition(actual.count == expected.count, "arrays differ in length: \(actual.count) vs \(expected.count)")
    var worst: T = 0
    for (a, e) in zip(actual, expected) {
        if a.isNaN != e.isNaN { return .infinity }
        worst = max(worst, abs(a - e))
    }
    return worst
}

/// Records a test issue unless every element of `actual` is within `tolerance` of `expected`.
///
/// - Parameters:
///   - actual: computed values.
///   - expected: reference values, same length.
///   - tolerance: the largest absolute difference allowed.
///   - what: a short description used in the failure message.
public func expectClose<T: BinaryFloatingPoint>(
    _ actual: [T], _ expected: [T], tolerance: T, _ what: String = "values",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.count == expected.count else {
        Issue.record("\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    let worst = maxAbsoluteDifference(actual, expected)
    #expect(worst <= tolerance, "\(what): max |diff| \(Double(worst)) > \(Double(tolerance))", sourceLocation: sourceLocation)
}

/// A fresh empty temporary directory, unique per call.
public func makeTemporaryDirectory(_ prefix: String = "xrbench-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
