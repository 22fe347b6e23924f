import Foundation
import Testing
import TestSupport
@testable import Tensor

@Suite struct NumPyTests {
    private let folder = fixturesDirectory().appendingPathComponent("npy")

    private func error(loading url: URL) -> TensorFileError? {
        do {
            _ = try loadNumPy(at: url)
            return nil
        } catch let error as TensorFileError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test func readsEveryAcceptedDtypeAndHeaderVersionWrittenByNumPy() throws {
        let floats: [Float] = [0, -1.5, 2.25, 100, 7, -0.0]
        for name in ["float32_v1.npy", "float64_v1.npy"] {
            let tensor = try loadNumPy(at: folder.appendingPathComponent(name))
            #expect(tensor.shape == [2, 3], "\(name)")
            #expect(tensor.scalars == floats, "\(name)")
        }
        #expect(try loadNumPy(at: folder.appendingPathComponent("float32_v1.npy")).isBorrowingMemory)
        #expect(try loadNumPy(at: folder.appendingPathComponent("int64_v1.npy")).scalars == [1, -2, 3, 1_099_511_627_776, 0, -7])
        #expect(try loadNumPy(at: folder.appendingPathComponent("int32_v2.npy")).scalars == [1, -2, 3, 4, 0, -7])
        #expect(try loadNumPy(at: folder.appendingPathComponent("uint8_v3.npy")).scalars == [0, 1, 2, 128, 254, 255])
        let scalar = try loadNumPy(at: folder.appendingPathComponent("scalar_v1.npy"))
        #expect(scalar.shape == [] && scalar.scalars == [3.5])
    }

    @Test func rejectsFortranOrderAndBigEndianNamingTheFile() throws {
        let fortran = folder.appendingPathComponent("fortran_v1.npy")
        let fortranError = try #require(error(loading: fortran))
        #expect(fortranError.kind == .fortranOrder)
        #expect(fortranError.description.contains(fortran.path))
        #expect(fortranError.description.contains("ascontiguousarray"))
        let bigEndian = folder.appendingPathComponent("bigendian_v1.npy")
        #expect(try #require(error(loading: bigEndian)).kind == .unsupportedDtype(">f4"))
    }

    @Test func roundTripsFloat32InEveryRank() throws {
        let directory = try makeTemporaryDirectory()
        for shape in [[], [5], [2, 3], [2, 1, 4], [0, 3]] {
            let url = directory.appendingPathComponent("t\(shape.count).npy")
            let tensor = randomTensor(shape, seed: 40)
            try saveNumPy(tensor, to: url)
            let loaded = try loadNumPy(at: url)
            #expect(loaded.shape == shape)
            #expect(loaded.scalars == tensor.scalars)
            let bytes = try Data(contentsOf: url)
            #expect(bytes[6] == 1 && bytes[7] == 0, "format 1.0")
            let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            #expect((10 + headerLength) % 64 == 0, "data aligned to 64 bytes")
            #expect(bytes[10 + headerLength - 1] == 0x0A, "header ends in a newline")
        }
        // Byte-identical to numpy.save for the same float32 array (header text included).
        let written = directory.appendingPathComponent("same.npy")
        try saveNumPy(Tensor(shape: [2, 3], scalars: [0, -1.5, 2.25, 100, 7, -0.0]), to: written)
        #expect(try Data(contentsOf: written) == Data(contentsOf: folder.appendingPathComponent("float32_v1.npy")))
    }

    @Test func rejectsBrokenFilesWithoutCrashing() throws {
        let directory = try makeTemporaryDirectory()
        let valid = try Data(contentsOf: folder.appendingPathComponent("float32_v1.npy"))
        let headerLength = Int(valid[8]) | Int(valid[9]) << 8
        func header(_ text: String) -> Data {
            var padded = text
            while (10 + padded.utf8.count + 1) % 64 != 0 { padded += " " }
            padded += "\n"
            var bytes = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
            bytes.append(contentsOf: [UInt8(padded.utf8.count & 0xFF), UInt8(padded.utf8.count >> 8)])
            bytes.append(contentsOf: Array(padded.utf8))
            return bytes
        }
        let cases: [(String, Data, (TensorFileError.Kind) -> Bool)] = [
            ("empty", Data(), { $0 == .fileTooSmall(size: 0, minimum: 10) }),
            ("not npy", Data("PK\u{3}\u{4} this is a zip archive".utf8), { if case .malformedHeader = $0 { true } else { false } }),
            ("version 4", { var bytes = valid; bytes[6] = 4; return bytes }(), { if case .malformedHeader = $0 { true } else { false } }),
            ("header beyond file", valid.prefix(40), { $0 == .headerBeyondFile(length: UInt64(headerLength), fileSize: 40) }),
            ("truncated data", valid.dropLast(3), { $0 == .fileSizeMismatch(expected: valid.count, actual: valid.count - 3) }),
            ("trailing data", valid + Data([1]), { $0 == .fileSizeMismatch(expected: valid.count, actual: valid.count + 1) }),
            ("missing shape", header("{'descr': '<f4', 'fortran_order': False, }"), { if case .malformedHeader = $0 { true } else { false } }),
            ("bad shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }"), { if case .malformedHeader = $0 { true } else { false } }),
            ("garbage header", header("{'descr': <f4"), { if case .malformedHeader = $0 { true } else { false } }),
            ("complex dtype", header("{'descr': '<c8', 'fortran_order': False, 'shape': (0,), }"), { $0 == .unsupportedDtype("<c8") }),
            ("structured dtype", header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (0,), }"), { if case .unsupportedDtype = $0 { true } else { false } }),
            ("overflowing shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"), { $0 == .sizeOverflow }),
        ]
        for (index, (what, bytes, matches)) in cases.enumerated() {
            let url = directory.appendingPathComponent("case\(index).npy")
            try bytes.write(to: url)
            let failure = try #require(error(loading: url), "\(what) was accepted")
            #expect(matches(failure.kind), "\(what): \(failure)")
            #expect(failure.description.hasPrefix(url.path), "\(what): \(failure)")
        }
        let header = try loadNumPy(at: { let url = directory.appendingPathComponent("ok.npy"); try header("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }").write(to: url); return url }())
        #expect(header.shape == [0])
    }
}
