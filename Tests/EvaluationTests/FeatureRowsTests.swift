import Foundation
import Random
import Testing
@testable import Evaluation

/// Rows served from an array one request at a time, recording the largest request: a reader
/// as the probe stage's shard reader is one, with its memory use made visible.
final class RecordingRowReader: FeatureRowReader, @unchecked Sendable {
    let count: Int
    let width: Int
    private let values: [Float]
    private(set) var largestRequest = 0

    init(_ values: [Float], width: Int) {
        self.values = values
        self.width = width
        count = values.count / width
    }

    func copyRows(_ rows: UnsafeBufferPointer<Int>, into destination: UnsafeMutablePointer<Float>) throws {
        largestRequest = max(largestRequest, rows.count)
        for (position, row) in rows.enumerated() {
            for column in 0..<width { destination[position * width + column] = values[row * width + column] }
        }
    }
}

@Suite struct FeatureRowsTests {
    static func streamed(_ data: ProbeData) -> (ProbeData, RecordingRowReader) {
        let reader = RecordingRowReader(data.features, width: data.width)
        return (ProbeData(rows: .reader(reader), width: data.width, targets: data.targets, sampleIDs: data.sampleIDs), reader)
    }

    /// Training, validation scoring and test scoring read the same values in the same order from
    /// a reader as from memory, so the probe is the same to the bit; and no request asks for
    /// more than a batch or a chunk of rows (validation and test sets over one chunk).
    @Test(arguments: [ProbeHead.mlp(hidden: [16, 8], dropout: 0.2), .linear])
    func aProbeOnRowsReadOnDemandIsTheProbeOnRowsInMemory(head: ProbeHead) throws {
        let names = ["a", "b"]
        let train = ProbeTrainingTests.makeData(samples: FeatureRows.chunkRows + 76, width: 9, labels: 2, seed: 21, prefix: "tr")
        let validation = ProbeTrainingTests.makeData(samples: FeatureRows.chunkRows + 301, width: 9, labels: 2, seed: 22, prefix: "va")
        let test = ProbeTrainingTests.makeData(samples: 2 * FeatureRows.chunkRows + 5, width: 9, labels: 2, seed: 23, prefix: "te")
        var configuration = ProbeTrainingTests.quickConfiguration(seed: 3)
        configuration.maximumEpochs = 8
        configuration.batchSize = 50
        let inMemory = try trainProbe(train: train, validation: validation, task: .multiLabel(names), head: head, configuration: configuration)
        let (streamedTrain, trainReader) = Self.streamed(train)
        let (streamedValidation, validationReader) = Self.streamed(validation)
        let onDemand = try trainProbe(train: streamedTrain, validation: streamedValidation, task: .multiLabel(names), head: head,
                                      configuration: configuration)
        #expect(onDemand.network == inMemory.network)
        #expect(onDemand.epochs == inMemory.epochs)
        let testReader = RecordingRowReader(test.features, width: test.width)
        #expect(try onDemand.probabilities(rows: .reader(testReader)) == inMemory.probabilities(features: test.features))
        #expect(trainReader.largestRequest == FeatureRows.chunkRows)
        #expect(validationReader.largestRequest == FeatureRows.chunkRows)
        #expect(testReader.largestRequest == FeatureRows.chunkRows)
    }

    @Test func aNonFiniteRowReadOnDemandIsNamed() throws {
        var train = ProbeTrainingTests.makeData(samples: 40, width: 4, labels: 1, seed: 1, prefix: "tr")
        train.features[4 * 33 + 2] = .nan
        let (streamed, _) = Self.streamed(train)
        let validation = ProbeTrainingTests.makeData(samples: 20, width: 4, labels: 1, seed: 2, prefix: "va")
        #expect {
            try trainProbe(train: streamed, validation: validation, task: .multiLabel(["a"]), configuration: ProbeTrainingTests.quickConfiguration(seed: 1))
        } throws: { error in
            "\(error)".contains("tr33")
        }
        let short = ProbeData(rows: .reader(RecordingRowReader(Array(train.features.prefix(4 * 39)), width: 4)), width: 4,
                              targets: train.targets, sampleIDs: train.sampleIDs)
        #expect(throws: EvaluationError.self) {
            try trainProbe(train: short, validation: validation, task: .multiLabel(["a"]), configuration: ProbeTrainingTests.quickConfiguration(seed: 1))
        }
    }

    /// The k-NN vote over chunks of the bank and of the queries against the vote over every
    /// similarity at once (the definition, written out here), with duplicated bank rows so that
    /// ties cross chunk boundaries.
    @Test func theNearestNeighbourVoteInChunksIsTheWholeVote() throws {
        var generator = SeededGenerator(seed: 9)
        let width = 6, trainCount = 2 * FeatureRows.chunkRows + 77, testCount = FeatureRows.chunkRows + 40, k = 7
        var bank = (0..<(trainCount * width)).map { _ in 2 * generator.nextUnitFloat() - 1 }
        for row in stride(from: FeatureRows.chunkRows - 3, to: trainCount, by: FeatureRows.chunkRows) {
            for column in 0..<width { bank[(row + 5) * width + column] = bank[row * width + column] }
        }
        let queries = (0..<(testCount * width)).map { _ in 2 * generator.nextUnitFloat() - 1 }
        let classes = (0..<trainCount).map { Double($0 % 3) }
        let train = ProbeData(features: bank, width: width, targets: classes, sampleIDs: (0..<trainCount).map { "b\($0)" })
        let task = ProbeTask.multiClass(["x", "y", "z"])
        let chunked = try nearestNeighbourProbabilities(train: train, testFeatures: queries, task: task, k: k, threads: 2)
        let (streamedBank, _) = Self.streamed(train)
        let streamed = try nearestNeighbourProbabilities(train: streamedBank, test: .reader(RecordingRowReader(queries, width: width)),
                                                         task: task, k: k)
        #expect(streamed == chunked)

        func normalised(_ values: ArraySlice<Float>) -> [Double] {
            let row = values.map(Double.init)
            let norm = max(row.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            return row.map { $0 / norm }
        }
        let bankRows = (0..<trainCount).map { normalised(bank[($0 * width)..<(($0 + 1) * width)]) }
        var expected: [Double] = []
        for query in 0..<testCount {
            let vector = normalised(queries[(query * width)..<((query + 1) * width)])
            let similarities = bankRows.map { row in zip(vector, row).reduce(0) { $0 + $1.0 * $1.1 } }
            let nearest = similarities.indices.sorted { similarities[$0] > similarities[$1] || (similarities[$0] == similarities[$1] && $0 < $1) }.prefix(k)
            let largest = similarities[nearest.first!]
            let weights = nearest.map { exp((similarities[$0] - largest) / 0.07) }
            let total = weights.reduce(0, +)
            var votes = [0.0, 0.0, 0.0]
            for (rank, row) in nearest.enumerated() { votes[Int(classes[row])] += weights[rank] / total }
            expected += votes
        }
        #expect(chunked == expected)
    }
}
