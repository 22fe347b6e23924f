import Foundation
import Testing
import TestSupport
@testable import Random

/// Known answers recorded by scripts/fixtures/random_streams.py from a second implementation of
/// the published algorithms. Phantom images, random ViT weights, splits, fractions, probe
/// initialisation, shuffling, dropout keys and bootstrap replicates all come from these streams.
struct RandomStreamsFixture: Decodable {
    struct SplitMixCase: Decodable { var seed: String; var outputs: [String] }
    struct SeededCase: Decodable { var seed: UInt64; var stream: String; var outputs: [String] }
    struct HashCase: Decodable { var text: String; var hash: String }
    struct Indices: Decodable { var seed: UInt64; var stream: UInt64; var bounds: [UInt64]; var values: [UInt64] }
    struct Shuffle: Decodable { var seed: UInt64; var stream: String; var order: [Int] }
    struct Unit: Decodable { var seed: UInt64; var floats: [Float]; var doubles: [Double] }
    struct Normals: Decodable {
        var seed: UInt64; var standardDeviation: Float; var values: [Float]
        enum CodingKeys: String, CodingKey { case seed, standardDeviation = "standard_deviation", values }
    }
    var splitmix64: [SplitMixCase]
    var xoshiroState1234: [String]
    var seeded: [SeededCase]
    var fnv1a: [HashCase]
    var indices: Indices
    var shuffle: Shuffle
    var unit: Unit
    var normals: Normals
    enum CodingKeys: String, CodingKey {
        case splitmix64, xoshiroState1234 = "xoshiro_state_1234", seeded, fnv1a, indices, shuffle, unit, normals
    }

    static func load() throws -> RandomStreamsFixture {
        let data = try Data(contentsOf: fixturesDirectory().appendingPathComponent("random_streams.json"))
        return try JSONDecoder().decode(RandomStreamsFixture.self, from: data)
    }
}

/// A `0x`-prefixed hexadecimal `UInt64` from the fixture.
private func hex(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> UInt64 {
    try #require(text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : nil, "not hex: \(text)",
                 sourceLocation: sourceLocation)
}

@Suite struct RandomStreamTests {
    let fixture: RandomStreamsFixture
    init() throws { fixture = try RandomStreamsFixture.load() }

    @Test func splitMix64MatchesTheReference() throws {
        for testCase in fixture.splitmix64 {
            var generator = SplitMix64(seed: try hex(testCase.seed))
            let outputs = (0..<testCase.outputs.count).map { _ in generator.next() }
            #expect(outputs == (try testCase.outputs.map { try hex($0) }), "seed \(testCase.seed)")
        }
    }

    @Test func splitMix64OutputsCanBeComputedOutOfOrder() {
        for seed: UInt64 in [0, 0x5EED, .max, 0xDEAD_BEEF_1234] {
            var generator = SplitMix64(seed: seed)
            for index: UInt64 in 0..<20 {
                #expect(SplitMix64.output(seed: seed, index: index) == generator.next(), "seed \(seed), output \(index)")
            }
        }
    }

    @Test func xoshiroMatchesThePublishedAlgorithm() throws {
        var generator = SeededGenerator(state: (1, 2, 3, 4))
        let outputs = (0..<fixture.xoshiroState1234.count).map { _ in generator.next() }
        #expect(outputs == (try fixture.xoshiroState1234.map { try hex($0) }))
    }

    @Test func seededStreamsAreUnchanged() throws {
        for testCase in fixture.seeded {
            var generator = SeededGenerator(seed: testCase.seed, stream: try hex(testCase.stream))
            let outputs = (0..<testCase.outputs.count).map { _ in generator.next() }
            #expect(outputs == (try testCase.outputs.map { try hex($0) }), "seed \(testCase.seed), stream \(testCase.stream)")
        }
    }

    @Test func stableHashIsFNV1a() throws {
        for testCase in fixture.fnv1a {
            #expect(stableHash(testCase.text) == (try hex(testCase.hash)), "\"\(testCase.text)\"")
        }
    }

    @Test func boundedIndicesAndShufflesAreUnchanged() throws {
        var generator = SeededGenerator(seed: fixture.indices.seed, stream: fixture.indices.stream)
        let perBound = fixture.indices.values.count / fixture.indices.bounds.count
        let values = fixture.indices.bounds.flatMap { bound in
            (0..<perBound).map { _ in UInt64(generator.nextIndex(below: Int(bound))) }
        }
        #expect(values == fixture.indices.values)

        var shuffler = SeededGenerator(seed: fixture.shuffle.seed, stream: try hex(fixture.shuffle.stream))
        var order = Array(0..<fixture.shuffle.order.count)
        shuffler.shuffle(&order)
        #expect(order == fixture.shuffle.order)
    }

    @Test func unitDrawsAreUnchanged() {
        var generator = SeededGenerator(seed: fixture.unit.seed)
        #expect(fixture.unit.floats.map { _ in generator.nextUnitFloat() } == fixture.unit.floats)
        #expect(fixture.unit.doubles.map { _ in generator.nextUnitDouble() } == fixture.unit.doubles)
    }

    /// The random ViT's weights: Marsaglia's polar method on SplitMix64, exactly.
    @Test func normalDrawsAreUnchanged() {
        var generator = SplitMix64(seed: fixture.normals.seed)
        var values = [Float](repeating: .nan, count: fixture.normals.values.count)
        values.withUnsafeMutableBufferPointer {
            generator.fillNormal($0, standardDeviation: fixture.normals.standardDeviation)
        }
        #expect(values == fixture.normals.values)
    }
}
