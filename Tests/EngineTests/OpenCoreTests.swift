import Datasets
import Engine
import Evaluation
import Foundation
import Imaging
import Pipeline
import Results
import Testing

/// A backbone family defined here, in the test target, with no edit to `Sources`: intensity
/// histograms of the images. It proves that a family registers once and that spec validation,
/// plan-time checks, compilation, the embed stage and the records all read that registration.
struct HistogramFamily: BackboneFamily {
    var name: String { "histogram" }
    var summary: String { "intensity histogram of each image (a test family)" }
    var options: [SchemaField] {
        [SchemaField("bins", .integer(NumberRange(lower: 2, upper: 256)), required: true), SchemaField("gamma", .number(.positive))]
    }

    func check(_ options: [String: ParameterValue]) -> [SpecProblem] {
        guard let bins = options["bins"]?.integerValue, bins % 2 == 1 else { return [] }
        return [SpecProblem(at: "bins", "must be even, not \(bins)")]
    }

    func makeBackbone(_ options: ComponentOptions) throws -> any Backbone {
        HistogramBackbone(bins: try options.integer("bins") ?? 8, gamma: try options.number("gamma") ?? 1)
    }
}

struct HistogramBackbone: ImageBackbone {
    let bins: Int
    let gamma: Double

    var description: String { "\(bins)-bin intensity histogram" }
    var dimension: Int { bins }
    var patchGrid: (height: Int, width: Int)? { nil }

    func embed(images: [URL], outputs: EmbeddingOutputs, context: StageContext) throws -> EmbeddingBatch {
        var batch = EmbeddingBatch(rows: [], cls: [], mean: [])
        for (position, url) in images.enumerated() {
            try context.checkCancellation()
            do {
                let image = try decodeImage(at: url)
                let top = Double((1 << image.bitDepth) - 1)
                var histogram = [Float](repeating: 0, count: bins)
                for value in image.samples {
                    let bin = min(bins - 1, Int(pow(Double(value) / top, gamma) * Double(bins)))
                    histogram[bin] += 1 / Float(image.samples.count)
                }
                batch.rows.append(position)
                batch.cls += histogram
                batch.mean += histogram
            } catch {
                batch.failures[position] = "\(error)"
            }
        }
        return batch
    }
}

/// A metric defined here, in the test target: the mean squared error of the predicted
/// probabilities (lower is better).
struct SquaredError: ClassificationMetric {
    var name: String { "squared-error" }
    var displayName: String { "Squared error" }
    var direction: MetricDirection { .lowerIsBetter }

    func binaryValue(targets: [Double], scores: [Double], label: String) throws -> MetricValue {
        .value(zip(targets, scores).reduce(0) { $0 + ($1.1 - $1.0) * ($1.1 - $1.0) } / Double(targets.count))
    }

    func multiclassValue(trueClasses: [Int], scores: [Double], classes: [String]) throws -> MetricValue {
        var sum = 0.0
        for (row, trueClass) in trueClasses.enumerated() {
            for column in classes.indices {
                let difference = scores[row * classes.count + column] - (column == trueClass ? 1 : 0)
                sum += difference * difference
            }
        }
        return .value(sum / Double(trueClasses.count))
    }
}

@Suite struct OpenCoreTests {
    static let spec = """
        experiment: open-core
        backbones:
          hist: {kind: histogram, bins: 16, gamma: 0.5}
        datasets:
          phantom: {kind: phantom, count: 60, seed: 4, size: 48}
        tasks:
          - name: anatomy
            kind: classification
            labels: [anatomy]
            target: multiclass
            metric: accuracy
            matrix: {backbone: [hist], dataset: [phantom], head: [linear]}
        """

    func project() throws -> RunnersProject {
        var project = try RunnersProject()
        var registry = Registry.standard
        registry.register(backbone: HistogramFamily())
        project.configuration.registry = registry
        return project
    }

    @Test func aFamilyRegisteredFromOutsideSourcesRunsEndToEnd() throws {
        let project = try project()
        let report = try project.run(Self.spec)
        #expect(report.status == .succeeded, "\(report.summary)")
        let accuracy = try project.number("SELECT value FROM latest_result WHERE backbone = 'hist' AND metric = 'accuracy'")
        #expect(accuracy > 0 && accuracy <= 1)
        let note = try project.strings("SELECT parameters FROM stage_execution WHERE kind = 'embed'").first ?? ""
        #expect(note.contains("\"backbone\":\"histogram\"") && note.contains("\"bins\":16"))
        // The same spec without the registration does not validate: nothing knows the kind.
        var standard = try RunnersProject()
        standard.configuration.registry = .standard
        #expect(throws: SpecError.self) { try standard.run(Self.spec) }
    }

    @Test func itsOptionsAreValidatedWithPositionsBeforeAnyWork() throws {
        let project = try project()
        for (edit, keyPath, line) in [("bins: 16", "backbones.hist.binz", 3), ("bins: 16", "backbones.hist.bins", 3)] {
            let replacement = keyPath.hasSuffix("binz") ? "binz: 16" : "bins: 15"
            do {
                _ = try project.run(Self.spec.replacingOccurrences(of: edit, with: replacement))
                Issue.record("\(replacement) was accepted")
            } catch let error as SpecError {
                let diagnostic = try #require(error.diagnostics.first { $0.keyPath == keyPath }, "\(error)")
                #expect(diagnostic.location.line == line, "\(error)")
                if keyPath.hasSuffix("binz") { #expect(diagnostic.suggestion == "bins") }
            }
        }
        // Nothing ran: not even a results database was created.
        #expect(!FileManager.default.fileExists(atPath: project.configuration.databasePath.path))
    }

    @Test func aMetricRegisteredFromOutsideSourcesIsValidatedComputedAndRecorded() throws {
        var project = try RunnersProject()
        var registry = Registry.standard
        registry.register(metric: SquaredError())
        project.configuration.registry = registry
        let spec = Self.spec.replacingOccurrences(of: "kind: histogram, bins: 16, gamma: 0.5", with: "kind: pixels, size: 8")
            .replacingOccurrences(of: "metric: accuracy", with: "metric: [accuracy, squared-error]")
        let report = try project.run(spec)
        #expect(report.status == .succeeded, "\(report.summary)")
        let error = try project.number("SELECT value FROM latest_result WHERE metric = 'squared-error'")
        #expect(error > 0 && error < 2)
        // Without the registration the spelling is a validation error, with a position.
        var standard = try RunnersProject()
        standard.configuration.registry = .standard
        #expect(throws: SpecError.self) { try standard.run(spec) }
        // The option reference lists it, with its direction.
        #expect(registry.optionTables().contains("| `squared-error` | classification | Squared error | lower |"))
    }

    @Test func theKindsCommandListsItsOptions() throws {
        var registry = Registry.standard
        registry.register(backbone: HistogramFamily())
        let tables = registry.optionTables()
        #expect(tables.contains("### `histogram`"))
        #expect(tables.contains("| `bins` | integer in [2, 256] | yes |"))
    }
}
