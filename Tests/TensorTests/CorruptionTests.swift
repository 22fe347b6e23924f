import Foundation
import Random
import Testing
import TestSupport
import Tensor

/// Every truncation and many seeded byte corruptions of real files: each must load or throw
/// `TensorFileError`, never crash.
@Suite struct CorruptionTests {
    private func survives(_ bytes: Data, at url: URL, _ load: (URL) throws -> Void) throws -> Bool {
        try bytes.write(to: url)
        do {
            try load(url)
            return true
        } catch is TensorFileError {
            return false
        }
    }

    @Test func truncatedAndCorruptedSafetensorsNeverCrash() throws {
        let directory = try makeTemporaryDirectory()
        let original = try Data(contentsOf: fixturesDirectory().appendingPathComponent("tensor_dtypes.safetensors"))
        let url = directory.appendingPathComponent("corrupt.safetensors")
        let load: (URL) throws -> Void = { _ = try loadSafetensors(at: $0) }
        // Every cut through the prefix and header, then every 29th byte of the data.
        for length in Array(0..<600) + Array(stride(from: 600, to: original.count, by: 29)) {
            #expect(try !survives(original.prefix(length), at: url, load), "truncation to \(length) bytes was accepted")
        }
        var generator = SplitMix64(seed: 50)
        for _ in 0..<150 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                // Mostly the length prefix and header, where parsing decisions are made.
                let index = Int.random(in: 0..<min(bytes.count, 400), using: &generator)
                bytes[index] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try survives(bytes, at: url, load)
        }
    }

    @Test func truncatedAndCorruptedNumPyNeverCrash() throws {
        let directory = try makeTemporaryDirectory()
        let original = try Data(contentsOf: fixturesDirectory().appendingPathComponent("npy/float64_v1.npy"))
        let url = directory.appendingPathComponent("corrupt.npy")
        let load: (URL) throws -> Void = { _ = try loadNumPy(at: $0) }
        for length in 0..<original.count {
            #expect(try !survives(original.prefix(length), at: url, load), "truncation to \(length) bytes was accepted")
        }
        var generator = SplitMix64(seed: 51)
        for _ in 0..<150 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<128, using: &generator)
                bytes[index] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try survives(bytes, at: url, load)
        }
    }
}
