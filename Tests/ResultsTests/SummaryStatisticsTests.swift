import Foundation
import Results
import TestSupport
import Testing

/// Reference values from scipy and numpy (scripts/fixtures/results.py).
private struct StatisticsFixture: Decodable {
    struct Quantile: Decodable { var probability: Double; var degreesOfFreedom: Double; var quantile: Double }
    struct Summary: Decodable {
        var values: [Double]; var mean: Double; var standardDeviation: Double
        var intervalLow: Double; var intervalHigh: Double
    }
    struct Box: Decodable {
        var values: [Double]; var q1: Double; var median: Double; var q3: Double
        var lowerWhisker: Double; var upperWhisker: Double; var outliers: [Double]
    }
    var tQuantiles: [Quantile]
    var summaries: [Summary]
    var boxes: [Box]

    static func load() throws -> StatisticsFixture {
        let url = fixturesDirectory().appendingPathComponent("summary_statistics.json")
        return try JSONDecoder().decode(StatisticsFixture.self, from: Data(contentsOf: url))
    }
}

@Suite struct SummaryStatisticsTests {
    @Test func studentTQuantilesMatchScipy() throws {
        let fixture = try StatisticsFixture.load()
        #expect(fixture.tQuantiles.count == 33)
        for reference in fixture.tQuantiles {
            let quantile = StudentT.quantile(reference.probability, degreesOfFreedom: reference.degreesOfFreedom)
            expectClose([quantile], [reference.quantile], tolerance: 1e-10 * max(1, abs(reference.quantile)),
                        "t quantile p=\(reference.probability) df=\(reference.degreesOfFreedom)")
        }
    }

    @Test func seedSummariesMatchScipy() throws {
        for reference in try StatisticsFixture.load().summaries {
            let summary = try #require(SeedSummary(reference.values))
            #expect(summary.count == reference.values.count)
            expectClose([summary.mean, summary.standardDeviation ?? .nan,
                         summary.interval?.lowerBound ?? .nan, summary.interval?.upperBound ?? .nan],
                        [reference.mean, reference.standardDeviation, reference.intervalLow, reference.intervalHigh],
                        tolerance: 1e-12, "summary of \(reference.values)")
        }
        let single = try #require(SeedSummary([0.7]))
        #expect(single.mean == 0.7 && single.standardDeviation == nil && single.interval == nil)
        #expect(SeedSummary([]) == nil)
    }

    @Test func boxStatisticsMatchNumpy() throws {
        for reference in try StatisticsFixture.load().boxes {
            let box = try #require(BoxStatistics(reference.values))
            expectClose([box.firstQuartile, box.median, box.thirdQuartile, box.lowerWhisker, box.upperWhisker],
                        [reference.q1, reference.median, reference.q3, reference.lowerWhisker, reference.upperWhisker],
                        tolerance: 1e-12, "box of \(reference.values.count) values")
            #expect(box.outliers == reference.outliers)
        }
    }
}
