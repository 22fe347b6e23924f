import Foundation
import Testing
import TestSupport
@testable import Tensor

/// Writes a hand-made safetensors file: length prefix (or `declaredLength`), header, data.
private func craftSafetensors(
    _ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil, headerBytes: [UInt8]? = nil,
    in directory: URL, name: String = "crafted.safetensors"
) throws -> URL {
    let body = headerBytes ?? Array(header.utf8)
    var bytes = [UInt8]()
    withUnsafeBytes(of: (declaredLength ?? UInt64(body.count)).littleEndian) { bytes.append(contentsOf: $0) }
    bytes += body + data
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

/// Writes raw bytes to `directory/name`.
private func writeBytes(_ bytes: [UInt8], to directory: URL, name: String) throws -> URL {
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

/// The error thrown by opening and converting every tensor of `url`, or `nil`.
private func loadingError(_ url: URL) -> TensorFileError? {
    do {
        _ = try loadSafetensors(at: url)
        return nil
    } catch let error as TensorFileError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

/// The process's file-backed resident set in KiB (`RssFile` in /proc/self/status; Linux).
private func residentFileKilobytes() throws -> Int {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssFile:") })
    return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
}

@Suite struct SafetensorsTests {
    /// Rows read out of a mapped file give their pages back (`MappedFile.release`): a pass over
    /// a 32 MiB tensor row by row leaves the file-backed resident set about where it was.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/status")))
    func readingRowsDoesNotKeepTheFileResident() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("rows.safetensors")
        let (rows, width) = (8192, 1024)
        var values = [Float](repeating: 0.5, count: rows * width)
        for row in stride(from: 0, to: rows, by: 97) { values[row * width + row % width] = Float(row) }
        try saveSafetensors(["cls": Tensor(shape: [rows, width], scalars: values)], to: url)
        values = []
        let file = try SafetensorsFile(contentsOf: url)
        let before = try residentFileKilobytes()
        var mismatches = 0
        for row in 0..<rows {
            let read = try file.floats(named: "cls", elements: (row * width)..<((row + 1) * width))
            if read[row % width] != (row % 97 == 0 ? Float(row) : 0.5) || read.count != width { mismatches += 1 }
        }
        let grown = try residentFileKilobytes() - before
        #expect(mismatches == 0)
        // Without the release every page stays mapped: 32 MiB. Other tests may map a few files meanwhile.
        #expect(grown < 8 << 10, "the file-backed resident set grew by \(grown) KiB over a 32 MiB pass")
        // Released pages read again from the file, and borrowed tensors still see the data.
        #expect(try file.floats(named: "cls", elements: 0..<4) == [0, 0.5, 0.5, 0.5])
        #expect(try file.tensor(named: "cls").scalars[97 * width + 97] == 97)
    }

    @Test func roundTripBorrowsFloat32FromTheMapping() throws {
        let directory = try makeTemporaryDirectory()
        let url = directory.appendingPathComponent("model.safetensors")
        let tensors = ["b.weight": randomTensor([3, 5], seed: 30), "a.bias": randomTensor([7], seed: 31),
                       "empty": Tensor(zeros: [0, 4]), "scalar": Tensor(shape: [], scalars: [2.5])]
        try saveSafetensors(tensors, to: url, metadata: ["format": "pt", "note": "a/b \"quoted\""])
        let file = try SafetensorsFile(contentsOf: url)
        #expect(file.metadata == ["format": "pt", "note": "a/b \"quoted\""])
        #expect(Set(file.names) == Set(tensors.keys))
        #expect(file.entry(named: "b.weight")?.dtype == .float32)
        #expect(file.entry(named: "b.weight")?.shape == [3, 5])
        let loaded = try file.tensors()
        for (name, tensor) in tensors {
            #expect(loaded[name]?.shape == tensor.shape, "shape of \(name)")
            #expect(loaded[name]?.scalars == tensor.scalars, "values of \(name)")
        }
        var weight = try #require(loaded["b.weight"])
        #expect(weight.isBorrowingMemory)
        weight.withUnsafeMutableBufferPointer { $0[0] *= 2 }  // copies out of the read-only mapping
        #expect(!weight.isBorrowingMemory)
        #expect(try file.tensor(named: "b.weight").scalars == tensors["b.weight"]!.scalars)
        // The header is padded so that data starts 8-byte aligned.
        let bytes = try Data(contentsOf: url)
        let headerLength = bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerLength % 8 == 0)
    }

    @Test func readsFilesWrittenByPythonSafetensors() throws {
        let file = try SafetensorsFile(contentsOf: fixturesDirectory().appendingPathComponent("tensor_ops.safetensors"))
        #expect(file.metadata["generator"] == "scripts/fixtures/tensor_ops.py")
        #expect(file.entry(named: "permute_input")?.shape == [2, 3, 4, 5])
        #expect(try file.tensor(named: "permute_input").isBorrowingMemory)
    }

    @Test func decodesFloat16AndBFloat16ExactlyAsPyTorch() throws {
        let file = try SafetensorsFile(contentsOf: fixturesDirectory().appendingPathComponent("tensor_dtypes.safetensors"))
        #expect(file.entry(named: "values_f16")?.dtype == .float16)
        #expect(file.entry(named: "values_bf16")?.dtype == .bfloat16)
        for (stored, reference) in [("values_f16", "values_f16_as_f32"), ("values_bf16", "values_bf16_as_f32"),
                                    ("matrix_f16", "matrix_f16_as_f32")] {
            let decoded = try file.tensor(named: stored), expected = try file.tensor(named: reference)
            #expect(decoded.shape == expected.shape)
            // Bit-exact, including signed zeros, subnormals, infinities and NaN.
            let decodedBits = decoded.scalars.map(\.bitPattern), expectedBits = expected.scalars.map(\.bitPattern)
            for (index, (actual, wanted)) in zip(decodedBits, expectedBits).enumerated() {
                let bothNaN = Float(bitPattern: actual).isNaN && Float(bitPattern: wanted).isNaN
                #expect(actual == wanted || bothNaN, "\(stored)[\(index)]: \(Float(bitPattern: actual)) vs \(Float(bitPattern: wanted))")
            }
        }
    }

    @Test func acceptsWhatTheReferenceAccepts() throws {
        let directory = try makeTemporaryDirectory()
        // Empty header object, null metadata, extra fields, entries listed out of offset order.
        #expect(try SafetensorsFile(contentsOf: craftSafetensors("{}", in: directory)).names.isEmpty)
        let url = try craftSafetensors(
            #"{"__metadata__":null,"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6],"extra":1},"a":{"dtype":"I16","shape":[2],"data_offsets":[0,4]}}  "#,
            data: [1, 0, 0xFF, 0xFF, 7, 200], in: directory)
        let tensors = try loadSafetensors(at: url)
        #expect(tensors["a"]?.scalars == [1, -1])
        #expect(tensors["b"]?.scalars == [7, 200])
    }

    @Test func rejectsEveryKindOfBrokenFileWithoutCrashing() throws {
        let directory = try makeTemporaryDirectory()
        let good = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let eight = [UInt8](repeating: 0, count: 8)
        let cases: [(String, URL, TensorFileError.Kind, String?)] = [
            ("empty file", try writeBytes([], to: directory, name: "empty.st"), .fileTooSmall(size: 0, minimum: 8), nil),
            ("truncated length prefix", try writeBytes([16, 0, 0, 0, 0], to: directory, name: "short.st"),
             .fileTooSmall(size: 5, minimum: 8), nil),
            ("header too large", try craftSafetensors(good, data: eight, declaredLength: 200_000_000, in: directory, name: "large.st"),
             .headerTooLarge(length: 200_000_000, limit: 100_000_000), nil),
            ("header beyond file", try craftSafetensors(good, declaredLength: 4096, in: directory, name: "beyond.st"),
             .headerBeyondFile(length: 4096, fileSize: 8 + good.utf8.count), nil),
            ("not UTF-8", try craftSafetensors("", data: eight, headerBytes: [0x7B, 0xFF, 0xFE, 0x7D], in: directory, name: "utf.st"),
             .headerNotText, nil),
            ("unknown dtype", try craftSafetensors(#"{"w":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}}"#, data: eight, in: directory, name: "dtype.st"),
             .unknownDtype("F17"), "w"),
            ("overlapping offsets", try craftSafetensors(
                #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                data: eight + [0, 0, 0, 0], in: directory, name: "overlap.st"),
             .invalidOffsets("[4, 12) overlaps the previous tensor, which ends at 8"), "b"),
            ("gap", try craftSafetensors(
                #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                data: eight + [0, 0, 0, 0], in: directory, name: "gap.st"),
             .invalidOffsets("[8, 12) leaves a gap after the previous tensor, which ends at 4"), "b"),
            ("offsets not starting at 0", try craftSafetensors(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight, in: directory, name: "start.st"),
             .invalidOffsets("[4, 8) leaves a gap after the previous tensor, which ends at 0"), "w"),
            ("reversed offsets", try craftSafetensors(#"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: eight, in: directory, name: "reversed.st"),
             .invalidOffsets("[8, 0) ends before it begins"), "w"),
            ("shape/byte mismatch", try craftSafetensors(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight, in: directory, name: "mismatch.st"),
             .byteCountMismatch(expected: 12, actual: 8), "w"),
            ("shape overflow", try craftSafetensors(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, data: eight, in: directory, name: "overflow.st"),
             .sizeOverflow, "w"),
            ("sub-byte misaligned", try craftSafetensors(#"{"w":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}"#, data: [0, 0], in: directory, name: "f4.st"),
             .misalignedSlice, "w"),
            ("truncated data", try craftSafetensors(good, data: [0, 0, 0], in: directory, name: "truncated.st"),
             .fileSizeMismatch(expected: 8 + good.utf8.count + 8, actual: 8 + good.utf8.count + 3), nil),
            ("trailing bytes", try craftSafetensors(good, data: eight + [1], in: directory, name: "trailing.st"),
             .fileSizeMismatch(expected: 8 + good.utf8.count + 8, actual: 8 + good.utf8.count + 9), nil),
            ("unsupported dtype", try craftSafetensors(#"{"w":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}"#, data: eight, in: directory, name: "f8.st"),
             .unsupportedDtype("F8_E4M3"), "w"),
        ]
        for (what, url, kind, tensor) in cases {
            let error = try #require(loadingError(url), "\(what) was accepted")
            #expect(error.kind == kind, "\(what)")
            #expect(error.tensor == tensor, "\(what)")
            #expect(error.description.contains(url.path), "\(what): \(error.description)")
            if let tensor { #expect(error.description.contains("'\(tensor)'"), "\(what): \(error.description)") }
        }
    }

    @Test func rejectsMalformedHeadersAndEntries() throws {
        let directory = try makeTemporaryDirectory()
        let eight = [UInt8](repeating: 0, count: 8)
        let malformedHeaders = [#"{"w": "#, "[]", "not json", #"{"__metadata__":{"a":1}}"#]
        for (index, header) in malformedHeaders.enumerated() {
            let url = try craftSafetensors(header, data: eight, in: directory, name: "bad\(index).st")
            let error = try #require(loadingError(url), "accepted \(header)")
            guard case .malformedHeader = error.kind else { Issue.record("\(header): \(error)"); continue }
        }
        let malformedEntries = [
            #"{"w":5}"#, #"{"w":{"shape":[2],"data_offsets":[0,8]}}"#, #"{"w":{"dtype":"F32","data_offsets":[0,8]}}"#,
            #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#,
            #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}"#, #"{"w":{"dtype":"F32","shape":[2]}}"#,
        ]
        for (index, header) in malformedEntries.enumerated() {
            let url = try craftSafetensors(header, data: eight, in: directory, name: "entry\(index).st")
            let error = try #require(loadingError(url), "accepted \(header)")
            guard case .malformedEntry = error.kind else { Issue.record("\(header): \(error)"); continue }
            #expect(error.tensor == "w")
        }
    }

    @Test func duplicateNamesAreRejectedWithoutCrashing() throws {
        // JSON decoding keeps one of two equal keys (as serde's map does), so the data section
        // no longer matches the header.
        let directory = try makeTemporaryDirectory()
        let url = try craftSafetensors(
            #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            data: [UInt8](repeating: 0, count: 8), in: directory)
        #expect(loadingError(url) != nil)
    }

    @Test func reportsMissingFilesAndTensors() throws {
        let directory = try makeTemporaryDirectory()
        let missing = directory.appendingPathComponent("absent.safetensors")
        let error = try #require(loadingError(missing))
        guard case .inputOutput = error.kind else { Issue.record("\(error)"); return }
        #expect(error.description.contains("absent.safetensors"))
        let url = directory.appendingPathComponent("one.safetensors")
        try saveSafetensors(["x": Tensor(zeros: [1])], to: url)
        #expect(throws: TensorFileError(file: url, tensor: "y", kind: .missingTensor)) {
            try SafetensorsFile(contentsOf: url).tensor(named: "y")
        }
    }
}
